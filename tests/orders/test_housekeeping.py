"""Expired browser sessions, idempotency keys and sign-in records past their retention are deleted
(orders.housekeeping), in bounded batches, by hand (`manage.py purge_expired`) and by the
notification worker every hour; live ones are left alone, and an expired key's request is
ordered anew as before."""

from __future__ import annotations

import io
import os
import signal
import threading
from datetime import timedelta
from typing import Any

import pytest
from axes.models import AccessLog
from django.conf import settings
from django.core import checks
from django.core.management import CommandError, call_command
from django.utils import timezone

from awsomeshop.sessions import SessionStore
from orders.housekeeping import Purged, purge_expired
from orders.models import IdempotencyRecord, Order
from shop.models import BrowserSession
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _sessions(expired: int, live: int) -> tuple[list[str], list[str]]:
    """(expired keys, live keys)"""
    keys = []
    for i in range(expired + live):
        store = SessionStore()
        store["n"] = i
        store.create()
        assert store.session_key
        keys.append(store.session_key)
    past = timezone.now() - timedelta(seconds=1)
    BrowserSession.objects.filter(pk__in=keys[:expired]).update(expire_date=past)
    return keys[:expired], keys[expired:]


def _keys(old: int, fresh: int) -> tuple[list[int], list[int]]:
    """(ids of keys older than the TTL, ids of younger ones)"""
    user = UserFactory()
    now = timezone.now()
    ids = []
    for i in range(old + fresh):
        age = timedelta(seconds=settings.IDEMPOTENCY_TTL_SECONDS + 60) if i < old else timedelta(hours=1)
        record = IdempotencyRecord.objects.create(
            user=user,
            key=f"k{i}",
            request_hash="h",
            claim_token="t",
            state=IdempotencyRecord.State.COMPLETED,
            response_status=201,
            response_body={"id": str(i)},
            created_at=now - age,
        )
        ids.append(record.pk)
    return ids[:old], ids[old:]


def test_only_what_has_expired_is_deleted() -> None:
    _, live_sessions = _sessions(expired=5, live=2)
    _, fresh_keys = _keys(old=5, fresh=2)
    assert purge_expired(batch_size=2) == Purged(sessions=5, idempotency_keys=5, sign_in_records=0)
    assert sorted(BrowserSession.objects.values_list("pk", flat=True)) == sorted(live_sessions)
    assert sorted(IdempotencyRecord.objects.values_list("pk", flat=True)) == sorted(fresh_keys)
    assert SessionStore(live_sessions[0]).load() == {"n": 5}
    assert purge_expired() == Purged(sessions=0, idempotency_keys=0, sign_in_records=0)


def test_a_purge_stops_after_its_batches_and_the_next_one_goes_on() -> None:
    _sessions(expired=5, live=0)
    _keys(old=3, fresh=0)
    assert purge_expired(batch_size=2, max_batches=2) == Purged(
        sessions=4, idempotency_keys=3, sign_in_records=0
    )
    assert purge_expired(batch_size=2, max_batches=2) == Purged(
        sessions=1, idempotency_keys=0, sign_in_records=0
    )
    assert not BrowserSession.objects.exists()


def test_a_request_with_a_purged_key_orders_anew(api: Any, product: Any) -> None:
    def order() -> Any:
        return api.post(
            "/api/v1/orders/", {"product_id": str(product.pk)}, format="json", HTTP_IDEMPOTENCY_KEY="day-old"
        )

    assert order().status_code == 201
    IdempotencyRecord.objects.update(
        created_at=timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_TTL_SECONDS + 1)
    )
    assert purge_expired().idempotency_keys == 1
    again = order()
    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert Order.objects.count() == 2


def _sign_ins(days_ago: list[int]) -> list[int]:
    now = timezone.now()
    ids = []
    for i, days in enumerate(days_ago):
        record = AccessLog.objects.create(
            username=f"someone{i}@example.com", ip_address="10.0.0.1", user_agent="test", path_info="/"
        )
        # attempt_time is stamped on insert (auto_now_add): aged afterwards.
        AccessLog.objects.filter(pk=record.pk).update(attempt_time=now - timedelta(days=days, seconds=1))
        ids.append(record.pk)
    return ids


def test_sign_in_records_are_kept_for_their_retention(settings: Any) -> None:
    settings.SIGN_IN_RECORDS_RETENTION_DAYS = 365
    _old = _sign_ins([365, 400, 800])
    kept = _sign_ins([0, 30, 364])
    assert purge_expired(batch_size=2).sign_in_records == 3
    assert sorted(AccessLog.objects.values_list("pk", flat=True)) == sorted(kept)


def test_a_retention_of_0_keeps_every_sign_in_record(settings: Any) -> None:
    settings.SIGN_IN_RECORDS_RETENTION_DAYS = 0
    _sign_ins([3650])
    assert purge_expired().sign_in_records == 0
    assert AccessLog.objects.count() == 1


def test_a_negative_retention_stops_the_start(settings: Any) -> None:
    settings.SIGN_IN_RECORDS_RETENTION_DAYS = -1
    errors = [m for m in checks.run_checks() if m.level >= checks.ERROR]
    assert [e.id for e in errors] == ["shop.E020"]
    settings.SIGN_IN_RECORDS_RETENTION_DAYS = 0
    assert not [m for m in checks.run_checks() if m.level >= checks.ERROR]


def test_a_sign_in_is_recorded_and_purged_like_the_others(client: Any, settings: Any) -> None:
    # What fills the table: every sign-in, the storefront's included (axes' user_logged_in).
    employee = UserFactory()
    client.force_login(employee, backend="storefront.signin.backends.StorefrontSignInBackend")
    record = AccessLog.objects.get()
    assert record.username == employee.email
    settings.SIGN_IN_RECORDS_RETENTION_DAYS = 30
    AccessLog.objects.update(attempt_time=timezone.now() - timedelta(days=31))
    assert purge_expired().sign_in_records == 1


def test_the_command_says_what_it_deleted() -> None:
    _sessions(expired=3, live=1)
    _keys(old=2, fresh=1)
    out = io.StringIO()
    call_command("purge_expired", "--batch-size", "2", stdout=out)
    assert out.getvalue().strip() == (
        "Deleted 3 expired sessions, 2 expired idempotency keys, 0 sign-in records past their retention."
    )
    with pytest.raises(CommandError, match="--batch-size"):
        call_command("purge_expired", "--batch-size", "0")


def _run_worker(*args: str, seconds: float) -> str:
    """Run the worker's loop for about ``seconds``; what it printed.

    It stops on SIGTERM after the round in hand, as on a deploy. The signal comes from another
    thread, long after the command has installed its handler (its first thing)."""
    out = io.StringIO()
    stopper = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGTERM))
    previous = signal.getsignal(signal.SIGTERM)
    stopper.start()
    try:
        call_command("send_notifications", "--loop", "--interval", "0.1", *args, stdout=out)
    finally:
        stopper.cancel()
        signal.signal(signal.SIGTERM, previous)
    return out.getvalue()


# The worker's loop closes connections between rounds, so not inside a test's transaction.
@pytest.mark.django_db(transaction=True)
def test_the_notification_worker_purges_when_it_starts_and_then_every_hour() -> None:
    _sessions(expired=2, live=1)
    _keys(old=1, fresh=0)
    printed = _run_worker(seconds=1.0)
    # Once, at the start: the next purge is an hour away, although the loop went round ~10 times.
    assert printed.count("purged") == 1
    assert "purged 2 expired sessions, 1 expired idempotency keys, 0 sign-in records" in printed
    assert BrowserSession.objects.count() == 1 and not IdempotencyRecord.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_worker_can_be_told_not_to_purge() -> None:
    _sessions(expired=1, live=0)
    _run_worker("--purge-every", "0", seconds=0.5)
    assert BrowserSession.objects.count() == 1
    with pytest.raises(CommandError, match="--purge-every"):
        call_command("send_notifications", "--purge-every", "-1")
