"""E-mail notifications: written with the change, sent at most once, never lost."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from notifications.models import Notification, NotificationPreference
from notifications.services import notifications_send_due
from orders.services import order_place, order_refund
from points.expiry import add_months
from points.models import GrantBatch
from points.services.grants import points_grant, points_grant_bulk
from shop.http.errors import InsufficientPoints
from tests.factories import ProductFactory, UserFactory
from tests.support.cognito import free_port
from tests.support.markers import requires_server_db
from tests.support.threads import run_at_once

Status = Notification.Status
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture(autouse=True)
def locmem_mail(settings: Any) -> None:
    settings.EMAIL_BACKEND = LOCMEM
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    mail.outbox = []


def _send() -> Any:
    return notifications_send_due(batch_size=100)


def _granted(points: int) -> Any:
    """An employee who was just granted points: one message waits in the outbox."""
    user = UserFactory()
    points_grant(user=user, amount=points, reason="Welcome")
    return user


def _kinds(user: Any) -> list[str]:
    return sorted(Notification.objects.filter(user=user).values_list("kind", flat=True))


# -- written with the change -----------------------------------------------------------------


def test_a_grant_queues_one_message_and_a_rolled_back_grant_none(db):
    ana = UserFactory()
    points_grant(user=ana, amount=250, reason="Welcome")

    def granted_then_rolled_back() -> None:
        with transaction.atomic():
            points_grant(user=ana, amount=999, reason="Rolled back")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        granted_then_rolled_back()
    (note,) = Notification.objects.filter(user=ana)
    assert (note.kind, note.status, note.context) == (
        "grant",
        "pending",
        {"points": 250, "reason": "Welcome", "balance": 250},
    )


def test_orders_and_refunds_queue_receipts_and_a_refused_order_nothing(db):
    ana = UserFactory(points=500)  # a starting balance: fixture data, no message
    product = ProductFactory(name="Earbuds", points_cost=300, stock=5)
    order = order_place(user=ana, product_id=product.pk)
    with pytest.raises(InsufficientPoints):
        order_place(user=ana, product_id=product.pk)
    order_refund(order_id=order.pk, refunded_by=None, reason="Damaged")
    assert _kinds(ana) == ["order", "refund"]
    receipt = Notification.objects.get(user=ana, kind="order")
    assert receipt.context == {
        "order_id": str(order.pk),
        "product": "Earbuds",
        "quantity": 1,
        "points": 300,
        "balance": 200,
    }


def test_a_bulk_grant_queues_one_message_per_employee(db):
    people = [UserFactory() for _ in range(3)]
    points_grant_bulk(grants=[(u, 40, "Quarterly") for u in people], source=GrantBatch.Source.SELECTION)
    assert Notification.objects.filter(kind="grant").count() == 3


# -- sending ---------------------------------------------------------------------------------


def test_send_delivers_text_and_html_with_the_name_once(db):
    ana = UserFactory(name="Ana Lima")
    points_grant(user=ana, amount=120, reason="Welcome")
    result = _send()
    assert (result.sent, len(mail.outbox)) == (1, 1)
    message = mail.outbox[0]
    assert message.to == [ana.email]
    assert message.subject == "You received 120 points"
    assert "Hello Ana Lima" in message.body
    assert "Your balance is now 120 points" in message.body
    html, mime = message.alternatives[0]
    assert mime == "text/html" and "<strong>120 points</strong>" in html
    assert Notification.objects.get(user=ana).status == Status.SENT
    # At most once: a second run finds nothing to send.
    assert _send().sent == 0
    assert len(mail.outbox) == 1


def test_amounts_are_written_with_thousands_separators_as_in_the_storefront(db):
    ana = UserFactory(name="Ana Lima")
    points_grant(user=ana, amount=9_500, reason="Welcome")
    order_place(user=ana, product_id=ProductFactory(name="Desk", points_cost=3_000).pk)
    _send()
    grant, order = sorted(mail.outbox, key=lambda m: m.subject.startswith("Your order"))
    assert grant.subject == "You received 9,500 points"
    assert "Your balance is now 9,500 points" in grant.body
    assert "<strong>9,500 points</strong>" in grant.alternatives[0][0]
    assert "1 x Desk for 3,000 points" in order.body and "Your balance is now 6,500 points" in order.body


def test_both_parts_link_to_the_storefront_pages_they_speak_of(db, settings):
    settings.SITE_URL = "https://shop.example.com"
    ana = UserFactory()
    points_grant(user=ana, amount=500, reason="Welcome")
    order_place(user=ana, product_id=ProductFactory(points_cost=10).pk)
    _send()
    grant, order = sorted(mail.outbox, key=lambda m: m.subject.startswith("Your order"))
    for part in (grant.body, grant.alternatives[0][0]):
        assert "https://shop.example.com/settings/emails/" in part  # where to turn them off
        assert "https://shop.example.com/points/" in part
    order_id = Notification.objects.get(user=ana, kind="order").context["order_id"]
    assert f"https://shop.example.com/orders/{order_id}/" in order.body


def test_text_mails_are_not_html_escaped(db):
    ana = UserFactory(points=500)
    order_place(user=ana, product_id=ProductFactory(name="Salt & Pepper <set>", points_cost=10).pk)
    _send()
    body = next(m for m in mail.outbox if "order" in m.subject.lower()).body
    assert "1 x Salt & Pepper <set> for 10 points" in body


def test_optional_emails_off_suppresses_grants_but_not_receipts(db):
    ana = UserFactory()
    NotificationPreference.objects.create(user=ana, optional_emails=False)
    points_grant(user=ana, amount=500, reason="Bonus")
    order_place(user=ana, product_id=ProductFactory(points_cost=100).pk)
    result = _send()
    assert (result.sent, result.suppressed) == (1, 1)
    assert [m.subject for m in mail.outbox] == [mail.outbox[0].subject]
    assert mail.outbox[0].subject.startswith("Your order")
    assert Notification.objects.get(user=ana, kind="grant").status == Status.SUPPRESSED


class RefusingBackend(LocmemBackend):
    """The mail service answers no (it did not take the message): safe to retry."""

    def send_messages(self, messages: Any) -> int:
        raise ConnectionRefusedError("mail service down")


class TimingOutBackend(LocmemBackend):
    """The request went out and no answer came back: the message may have been delivered."""

    def send_messages(self, messages: Any) -> int:
        raise TimeoutError("timed out waiting for the mail service")


class LockCheckingBackend(LocmemBackend):
    def send_messages(self, messages: Any) -> int:
        assert not connection.in_atomic_block, "a transaction (and its locks) is open while sending"
        return super().send_messages(messages)


def test_a_refusal_is_retried_with_backoff_then_delivered(db, settings):
    ana = _granted(10)
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    result = _send()
    assert (result.sent, result.retried) == (0, 1)
    note = Notification.objects.get(user=ana)
    assert (note.status, note.attempts) == (Status.PENDING, 1)
    assert note.next_attempt_at > timezone.now()
    assert "ConnectionRefusedError" in note.last_error
    assert _send().retried == 0  # not due yet
    Notification.objects.filter(pk=note.pk).update(next_attempt_at=timezone.now())
    settings.EMAIL_BACKEND = LOCMEM
    assert _send().sent == 1
    assert Notification.objects.get(pk=note.pk).status == Status.SENT


def test_refused_every_time_becomes_failed_and_is_kept(db, settings):
    ana = _granted(10)
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    for _ in range(3):
        Notification.objects.filter(user=ana, status=Status.PENDING).update(next_attempt_at=timezone.now())
        _send()
    note = Notification.objects.get(user=ana)
    assert (note.status, note.attempts) == (Status.FAILED, 3)


def test_an_unknown_outcome_is_never_sent_again_automatically(db, settings):
    ana = _granted(10)
    settings.EMAIL_BACKEND = f"{__name__}.TimingOutBackend"
    assert _send().unknown == 1
    settings.EMAIL_BACKEND = LOCMEM
    assert _send().sent == 0
    assert Notification.objects.get(user=ana).status == Status.UNKNOWN
    assert mail.outbox == []


def test_a_sender_that_died_mid_send_leaves_an_unknown_message(db, settings):
    ana = _granted(10)
    Notification.objects.filter(user=ana).update(
        status=Status.SENDING, claimed_at=timezone.now() - timedelta(hours=1), attempts=1
    )
    assert _send().unknown == 1
    assert Notification.objects.get(user=ana).status == Status.UNKNOWN
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_no_transaction_is_open_while_sending(settings):
    _granted(10)
    settings.EMAIL_BACKEND = f"{__name__}.LockCheckingBackend"
    assert _send().sent == 1


def test_send_notifications_command_reports_what_it_did(db):
    _granted(10)
    out = io.StringIO()
    call_command("send_notifications", stdout=out)
    assert "sent 1" in out.getvalue()


@requires_server_db
@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_send_each_message_exactly_once(settings, record_figure):
    settings.EMAIL_BACKEND = LOCMEM
    people = [UserFactory() for _ in range(40)]
    points_grant_bulk(grants=[(u, 5, "Everyone") for u in people], source=GrantBatch.Source.SELECTION)
    results = run_at_once(4, lambda i: notifications_send_due(batch_size=15))
    assert not [r for r in results if isinstance(r, Exception)]
    while _send().sent:  # whatever the four rounds did not reach
        pass
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == sorted(p.email for p in people)  # each once, none missing
    assert Notification.objects.exclude(status=Status.SENT).count() == 0
    record_figure(
        f"notification senders ({connection.vendor}): 4 at once, 40 messages, sent per sender "
        f"{[r.sent for r in results]}"
    )


# -- expiry reminders ----------------------------------------------------------------------------


def test_expiry_run_warns_once_per_expiry_date_within_14_days(db, settings):
    settings.POINTS_EXPIRY_MONTHS = 12
    from tests.points.test_expiry import clock

    ana = UserFactory()
    today = timezone.localdate()
    with clock(add_months(today, -12) + dt.timedelta(days=10)):
        points_grant(user=ana, amount=70, reason="Old")
    Notification.objects.all().delete()  # the grant's own message
    call_command("expire_points", "--as-of", today.isoformat(), stdout=io.StringIO())
    call_command("expire_points", "--as-of", (today + dt.timedelta(days=1)).isoformat(), stdout=io.StringIO())
    (warning,) = Notification.objects.filter(user=ana)
    assert warning.kind == "expiry_warning"
    assert warning.context == {"points": 70, "date": (today + dt.timedelta(days=10)).isoformat()}
    _send()
    assert (
        mail.outbox[0].subject == f"70 of your points expire on {(today + dt.timedelta(days=10)).isoformat()}"
    )


# -- the employee's preference -------------------------------------------------------------------


def test_preference_api(api):
    assert api.get("/api/v1/me/notifications/").json() == {"optional_emails": True}
    response = api.put("/api/v1/me/notifications/", {"optional_emails": False}, format="json")
    assert response.status_code == 200
    assert api.get("/api/v1/me/notifications/").json() == {"optional_emails": False}
    refused = api.put("/api/v1/me/notifications/", {"optional_emails": "yes"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["code"] == "validation_error"
    assert api.put("/api/v1/me/notifications/", {}, format="json").status_code == 400


# -- Amazon SES through moto ---------------------------------------------------------------------


@pytest.fixture
def moto_ses(settings: Any) -> Iterator[Any]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    settings.EMAIL_BACKEND = "django_ses.SESBackend"
    settings.AWS_SES_REGION_ENDPOINT_URL = url
    settings.AWS_SES_REGION_NAME = "us-east-2"
    settings.DEFAULT_FROM_EMAIL = "AWSomeShop <no-reply@shop.example.org>"
    client = boto3.client(
        "ses", region_name="us-east-2", endpoint_url=url, aws_access_key_id="x", aws_secret_access_key="x"
    )
    try:
        yield client
    finally:
        server.stop()


def test_ses_delivers_through_the_production_backend_and_a_refusal_is_retried(db, moto_ses, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    ana = _granted(10)
    # The domain is not verified yet: SES refuses (MessageRejected), so the message waits.
    result = _send()
    assert (result.sent, result.retried) == (0, 1)
    assert "MessageRejected" in Notification.objects.get(user=ana).last_error
    moto_ses.verify_domain_identity(Domain="shop.example.org")
    Notification.objects.filter(user=ana).update(next_attempt_at=timezone.now())
    assert _send().sent == 1
    # What SES holds: the one message, to the employee (moto's own counter counts recipients twice).
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    (sent,) = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-2"].sent_messages
    assert ana.email in sent.destinations[0]
    assert "You received 10 points" in sent.raw_data
