"""Events of the points app for the layers above it (notifications), which subscribe to them.

Receivers run synchronously, inside the sender's transaction where there is one, so a receiver
that writes (an outbox row) commits or rolls back together with the change it reacts to.
"""

from __future__ import annotations

from django.dispatch import Signal

# A grant (single, bulk or CSV) wrote these entries: ``entries`` (PointsTransaction list).
points_granted = Signal()
# The daily expiry run finished for ``as_of`` (a date): time to warn of points expiring soon.
expiry_run_finished = Signal()
