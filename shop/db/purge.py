"""Deleting rows that have outlived their use, a bounded batch at a time.

The tables this serves (browser sessions, sign-in records, idempotency keys) take a row per
sign-in or per order and nothing else removes them. One ``DELETE ... WHERE expires < now`` over
a year of them would hold its locks (InnoDB locks every row it scans) and fill the undo log for
as long as it runs, in front of the sign-ins and orders writing new rows. Batches of primary
keys keep every statement short: each is its own autocommitted DELETE of at most
``batch_size`` rows."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

BATCH_SIZE = 1000


def delete_in_batches(
    queryset: QuerySet[Any], *, batch_size: int = BATCH_SIZE, max_batches: int | None = None
) -> int:
    """Delete the rows of ``queryset`` in batches; the number deleted.

    Stops after ``max_batches`` batches (None: when none are left), so a caller that runs
    between other work bounds how long it takes; the rest goes next time. Each batch goes
    through ``QuerySet.delete``, so cascades and delete signals still happen; a batch is one
    DELETE statement only for a model with neither (the three tables above).
    """
    deleted = batches = 0
    while max_batches is None or batches < max_batches:
        keys = list(queryset.order_by().values_list("pk", flat=True)[:batch_size])
        if not keys:
            break
        # The condition again with the keys: a row changed since it was read is left alone.
        count, _ = queryset.filter(pk__in=keys).delete()
        deleted += count
        batches += 1
        if len(keys) < batch_size:
            break
    return deleted
