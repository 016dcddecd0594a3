"""Events of the orders app for the layers above it (notifications), which subscribe to them.

Sent inside the order's transaction, so what a receiver writes commits or rolls back with it.
"""

from __future__ import annotations

from django.dispatch import Signal

# ``order`` was placed (its redemption entry written).
order_placed = Signal()
# ``order`` was refunded (points and stock given back).
order_refunded = Signal()
