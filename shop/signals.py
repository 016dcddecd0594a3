"""Events of the foundation for the domain apps, which subscribe to them (shop imports none).

Receivers run synchronously in the sender's transaction: what they write commits or rolls
back with the user rows that caused it.
"""

from __future__ import annotations

from django.dispatch import Signal

# New users were created: ``users`` (a list). The points app opens their accounts.
users_created = Signal()
