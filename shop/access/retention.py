"""What sign-in leaves behind, deleted when it has served: expired browser sessions, and
django-axes' sign-in records (``AccessLog``, a row per sign-in, the storefront's included)
older than SIGN_IN_RECORDS_RETENTION_DAYS."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from axes.models import AccessLog
from django.conf import settings
from django.core.checks import Error, register
from django.utils import timezone

from shop.db.purge import BATCH_SIZE, delete_in_batches
from shop.models import BrowserSession


def browser_sessions_purge_expired(*, batch_size: int = BATCH_SIZE, max_batches: int | None = None) -> int:
    """Delete the sessions whose expiry has passed (what Django's ``clearsessions`` does, in
    batches); the number deleted. A session is read only before its expiry
    (awsomeshop.sessions), so nobody is signed out by this."""
    expired = BrowserSession.objects.filter(expire_date__lt=timezone.now())
    return delete_in_batches(expired, batch_size=batch_size, max_batches=max_batches)


def sign_in_records_purge_expired(*, batch_size: int = BATCH_SIZE, max_batches: int | None = None) -> int:
    """Delete the sign-in records older than SIGN_IN_RECORDS_RETENTION_DAYS (0 keeps them all);
    the number deleted. HR reads them in the admin ("Access logs"); failed attempts that lock a
    sign-in out are django-axes' own table and expire with AXES_COOLOFF_MINUTES."""
    days = settings.SIGN_IN_RECORDS_RETENTION_DAYS
    if days <= 0:
        return 0
    old = AccessLog.objects.filter(attempt_time__lt=timezone.now() - timedelta(days=days))
    return delete_in_batches(old, batch_size=batch_size, max_batches=max_batches)


@register()
def check_retention_settings(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    # A negative number would keep the records, as 0 does; the operator meant something else.
    days = settings.SIGN_IN_RECORDS_RETENTION_DAYS
    if days < 0:
        return [
            Error(
                f"SIGN_IN_RECORDS_RETENTION_DAYS is {days}; use a number of days, or 0 to keep sign-in records.",
                id="shop.E020",
            )
        ]
    return []
