"""Rows with an end date that nothing else deletes: expired browser sessions, idempotency keys
and sign-in records past their retention.

Run by the notification worker every hour (``send_notifications --loop --purge-every``), the one
process that always runs, and by hand with ``manage.py purge_expired``. Here, in the lowest app
that sees all three tables (sessions and sign-in records are shop's, the keys are orders').
They are deleted in short batches (shop.db.purge), so sign-ins and orders go on meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass

from orders.idempotency import idempotency_purge_expired
from shop.access.retention import browser_sessions_purge_expired, sign_in_records_purge_expired
from shop.db.purge import BATCH_SIZE


@dataclass(frozen=True)
class Purged:
    sessions: int
    idempotency_keys: int
    sign_in_records: int

    def __str__(self) -> str:
        return (
            f"{self.sessions} expired sessions, {self.idempotency_keys} expired idempotency keys, "
            f"{self.sign_in_records} sign-in records past their retention"
        )

    @property
    def most(self) -> int:
        """The most rows one table gave up: a full purge means more are left."""
        return max(self.sessions, self.idempotency_keys, self.sign_in_records)


def purge_expired(*, batch_size: int = BATCH_SIZE, max_batches: int | None = None) -> Purged:
    """Delete expired sessions, idempotency keys and old sign-in records; ``max_batches``
    bounds each table's share."""
    return Purged(
        sessions=browser_sessions_purge_expired(batch_size=batch_size, max_batches=max_batches),
        idempotency_keys=idempotency_purge_expired(batch_size=batch_size, max_batches=max_batches),
        sign_in_records=sign_in_records_purge_expired(batch_size=batch_size, max_batches=max_batches),
    )
