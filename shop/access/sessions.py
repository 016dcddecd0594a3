"""Browser sessions past their expiry: never read again, deleted here."""

from __future__ import annotations

from django.utils import timezone

from shop.db.purge import BATCH_SIZE, delete_in_batches
from shop.models import BrowserSession


def browser_sessions_purge_expired(*, batch_size: int = BATCH_SIZE, max_batches: int | None = None) -> int:
    """Delete the sessions whose expiry has passed (what Django's ``clearsessions`` does, in
    batches); the number deleted. A session is read only before its expiry
    (awsomeshop.sessions), so nobody is signed out by this."""
    expired = BrowserSession.objects.filter(expire_date__lt=timezone.now())
    return delete_in_batches(expired, batch_size=batch_size, max_batches=max_batches)
