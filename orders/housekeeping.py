"""Rows with an end date that nothing else deletes: expired browser sessions and idempotency keys.

Run by the notification worker every hour (``send_notifications --loop --purge-every``), the one
process that always runs, and by hand with ``manage.py purge_expired``. Here, in the lowest app
that sees both tables (sessions are shop's, the keys are orders'). Both are deleted in short
batches (shop.db.purge), so sign-ins and orders go on meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass

from orders.idempotency import idempotency_purge_expired
from shop.access.sessions import browser_sessions_purge_expired
from shop.db.purge import BATCH_SIZE


@dataclass(frozen=True)
class Purged:
    sessions: int
    idempotency_keys: int


def purge_expired(*, batch_size: int = BATCH_SIZE, max_batches: int | None = None) -> Purged:
    """Delete expired sessions and idempotency keys; ``max_batches`` bounds each table's share."""
    return Purged(
        sessions=browser_sessions_purge_expired(batch_size=batch_size, max_batches=max_batches),
        idempotency_keys=idempotency_purge_expired(batch_size=batch_size, max_batches=max_batches),
    )
