"""Writing to the outbox, and draining it: each message sent at most once, none lost.

Draining (``notifications_send_due``) happens in three steps so that no database lock is held
while talking to the mail service:
1. claim a batch: in one short transaction, due ``pending`` rows are locked (skipping rows
   another sender holds), marked ``sending`` and committed;
2. send each claimed message with no transaction open;
3. record each outcome with a conditional update of that one row.

A message that the mail service definitely did not take (it refused, or could not be reached)
goes back to ``pending`` with exponential backoff, up to ``NOTIFICATION_MAX_ATTEMPTS``. A send
whose outcome cannot be known (a timeout after the request went out, a sender killed mid-send:
its row stays ``sending``) becomes ``unknown`` and is never retried on its own: sending it again
could deliver it twice.
"""

from __future__ import annotations

import logging
import smtplib
import socket
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from notifications.lock_objects import notifications_due_for_update
from notifications.models import Notification, NotificationPreference
from shop.db.transactions import insert_new
from shop.models import User
from shop.observability import metrics

logger = logging.getLogger(__name__)

Kind = Notification.Kind
Status = Notification.Status
# Receipts of what the employee did or what was done to their order always go out.
RECEIPTS = {Kind.ORDER, Kind.REFUND}
SUBJECTS = {
    Kind.GRANT: "You received {points} points",
    Kind.ORDER: "Your order: {product}",
    Kind.REFUND: "Your order was refunded: {points} points are back",
    Kind.EXPIRY_WARNING: "{points} of your points expire on {date}",
}


def notification_enqueue(
    *, user: User | Any, kind: str, dedupe_key: str, context: dict[str, Any], new_event: bool = False
) -> Notification | None:
    """Queue a message in the caller's transaction; an event already queued is not queued again.

    ``new_event``: the key names something created in this very transaction (an order, a ledger
    entry), so it cannot be queued already and the savepoint is skipped (one query, not three).
    """
    user_id: Any = getattr(user, "pk", user)  # a user or its id: no query to load one
    if new_event:
        notification = Notification(
            user_id=user_id, kind=kind, dedupe_key=dedupe_key, context=context, next_attempt_at=timezone.now()
        )
        insert_new(notification)
        return notification
    try:
        # A savepoint: a duplicate must not break the caller's transaction.
        with transaction.atomic():
            return Notification.objects.create(
                user_id=user_id,
                kind=kind,
                dedupe_key=dedupe_key,
                context=context,
                next_attempt_at=timezone.now(),
            )
    except IntegrityError:
        return None


def preference_get(*, user: User) -> NotificationPreference:
    return NotificationPreference.objects.filter(user=user).first() or NotificationPreference(user=user)


def preference_set(*, user: User, optional_emails: bool) -> NotificationPreference:
    preference, _ = NotificationPreference.objects.update_or_create(
        user=user, defaults={"optional_emails": optional_emails}
    )
    return preference


@dataclass
class SendResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    suppressed: int = 0
    unknown: int = 0
    errors: list[str] = field(default_factory=list)


def notifications_send_due(*, batch_size: int = 50) -> SendResult:
    result = SendResult()
    result.unknown += _give_up_on_abandoned_sends()
    claimed = _claim(batch_size)
    if not claimed:
        return result
    users = {u.pk: u for u in User.objects.filter(pk__in={n.user_id for n in claimed})}
    optional_off = set(
        NotificationPreference.objects.filter(user__in=users, optional_emails=False).values_list(
            "user_id", flat=True
        )
    )
    mail = get_connection(fail_silently=False)
    for notification in claimed:
        user = users[notification.user_id]
        if not user.is_active or (notification.kind not in RECEIPTS and user.pk in optional_off):
            _finish(notification, status=Status.SUPPRESSED)
            result.suppressed += 1
            continue
        try:
            accepted = mail.send_messages([render_message(notification, user)])
        except Exception as exc:  # noqa: BLE001 - every failure is classified, none escapes
            if definitely_not_sent(exc):
                _retry_later(notification, error=exc, result=result)
            else:
                _finish(notification, status=Status.UNKNOWN, error=exc)
                result.unknown += 1
            continue
        if accepted:
            _finish(notification, status=Status.SENT)
            result.sent += 1
        else:  # the backend dropped it without an exception: it was not sent
            _retry_later(
                notification, error=RuntimeError("the e-mail backend did not send it"), result=result
            )
    metrics.count("NotificationsSent", result.sent)
    if result.failed or result.unknown:
        metrics.count("NotificationsFailed", result.failed + result.unknown)
    return result


def storefront_links(context: dict[str, Any]) -> dict[str, str]:
    """Absolute links to the storefront pages an e-mail points to (SITE_URL + the page's path).

    URL names, not imports: the storefront sits above this app.
    """
    site = settings.SITE_URL.rstrip("/")
    links = {
        "link_home": site + reverse("storefront:home"),
        "link_history": site + reverse("storefront:history"),
        "link_preferences": site + reverse("storefront:preferences"),
    }
    if context.get("order_id"):
        links["link_order"] = site + reverse("storefront:order", kwargs={"pk": context["order_id"]})
    return links


# Amounts in a message's context, written as the storefront writes them ("5,000 points").
AMOUNTS = ("points", "balance")


def render_message(notification: Notification, user: User) -> EmailMultiAlternatives:
    context = {**notification.context, "name": user.get_short_name(), "kind": notification.kind}
    for name in AMOUNTS:
        if isinstance(context.get(name), int):
            context[name] = f"{context[name]:,}"
    context.update(storefront_links(context))
    template = f"notifications/{notification.kind}"
    message = EmailMultiAlternatives(
        subject=SUBJECTS[Kind(notification.kind)].format(**context),
        body=render_to_string(f"{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
        headers={"X-AWSomeShop-Notification": str(notification.pk)},
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    return message


def definitely_not_sent(exc: BaseException) -> bool:
    """True when the mail service cannot have accepted the message, so a retry cannot duplicate it."""
    from botocore.exceptions import ClientError, EndpointConnectionError

    if isinstance(exc, ClientError):
        return True  # SES answered with an error: it did not take the message
    if isinstance(exc, (EndpointConnectionError, ConnectionRefusedError, socket.gaierror)):
        return True  # never reached it
    # Refused before or at the data, with an answer: True. Timeouts and connections dropped
    # after sending: the message may have gone out, so False.
    return isinstance(
        exc,
        (
            smtplib.SMTPConnectError,
            smtplib.SMTPHeloError,
            smtplib.SMTPAuthenticationError,
            smtplib.SMTPSenderRefused,
            smtplib.SMTPRecipientsRefused,
            smtplib.SMTPDataError,
        ),
    )


def _claim(batch_size: int) -> list[Notification]:
    now = timezone.now()
    with transaction.atomic():
        rows = list(notifications_due_for_update(now=now, batch_size=batch_size))
        if rows:
            Notification.objects.filter(pk__in=[n.pk for n in rows]).update(
                status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
            )
    for row in rows:
        row.attempts += 1
    return rows


def _give_up_on_abandoned_sends() -> int:
    """Rows left in ``sending`` by a sender that died: their outcome is unknown."""
    cutoff = timezone.now() - timedelta(seconds=settings.NOTIFICATION_SENDING_TIMEOUT_SECONDS)
    return Notification.objects.filter(status=Status.SENDING, claimed_at__lt=cutoff).update(
        status=Status.UNKNOWN, last_error="the sender stopped while sending; not re-sent automatically"
    )


def _finish(notification: Notification, *, status: str, error: BaseException | None = None) -> None:
    fields: dict[str, Any] = {"status": status}
    if status == Status.SENT:
        fields["sent_at"] = timezone.now()
    if error is not None:
        fields["last_error"] = _describe(error)
    Notification.objects.filter(pk=notification.pk, status=Status.SENDING).update(**fields)


def _retry_later(notification: Notification, *, error: BaseException, result: SendResult) -> None:
    result.errors.append(_describe(error))
    if notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
        _finish(notification, status=Status.FAILED, error=error)
        result.failed += 1
        return
    # 1, 2, 4, 8 ... minutes, at most an hour.
    delay = timedelta(minutes=min(60, 2 ** (notification.attempts - 1)))
    Notification.objects.filter(pk=notification.pk, status=Status.SENDING).update(
        status=Status.PENDING, next_attempt_at=timezone.now() + delay, last_error=_describe(error)
    )
    result.retried += 1


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:500]


def notification_resend(*, notification: Notification) -> None:
    """HR's decision to send a failed or unknown message again (it may arrive twice)."""
    Notification.objects.filter(pk=notification.pk, status__in=[Status.FAILED, Status.UNKNOWN]).update(
        status=Status.PENDING, next_attempt_at=timezone.now(), attempts=0
    )


def notifications_enqueue_new(*, items: list[tuple[User | Any, str, str, dict[str, Any]]]) -> None:
    """Queue many messages for events created in this transaction (a bulk grant): batched inserts.

    Each item: (user or user id, kind, dedupe_key, context).
    """
    now = timezone.now()
    Notification.objects.bulk_create(
        [
            Notification(
                user_id=getattr(user, "pk", user),
                kind=kind,
                dedupe_key=key,
                context=context,
                next_attempt_at=now,
            )
            for user, kind, key, context in items
        ],
        batch_size=1000,
    )
