"""Row locks for the outbox. The sender claims due notifications in a short transaction of its
own that locks nothing else, so these locks stand outside the money path's one lock order
(points.lock_objects)."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.db.models import QuerySet

from notifications.models import Notification


def notifications_due_for_update(*, now: dt.datetime, batch_size: int) -> QuerySet[Notification]:
    """The oldest due pending notifications, locked; where the database can, rows another sender
    holds are skipped rather than waited for."""
    skip_locked = connection.features.has_select_for_update_skip_locked
    return (
        Notification.objects.select_for_update(skip_locked=skip_locked)
        .filter(status=Notification.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")[:batch_size]
    )
