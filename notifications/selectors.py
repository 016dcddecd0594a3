"""Reads of the outbox."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Min
from django.utils import timezone

from notifications.models import Notification


def outbox_oldest_pending_age() -> timedelta | None:
    """How long the oldest message still waiting to be sent has waited (None: nothing waits)."""
    oldest = Notification.objects.filter(status=Notification.Status.PENDING).aggregate(
        oldest=Min("created_at")
    )["oldest"]
    return timezone.now() - oldest if oldest else None
