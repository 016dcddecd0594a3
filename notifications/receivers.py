"""What the points and orders apps tell us, turned into outbox rows in their transactions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.dispatch import receiver

from notifications.models import Notification
from notifications.services import notification_enqueue, notifications_enqueue_new
from orders.signals import order_placed, order_refunded
from points.selectors import accounts_with_points, points_expiring
from points.signals import expiry_run_finished, points_granted

Kind = Notification.Kind
# Employees hear of expiring points this many days ahead (and once per expiry date).
EXPIRY_WARNING_DAYS = 14


@receiver(points_granted)
def on_points_granted(sender: Any, entries: list[Any], **kwargs: Any) -> None:
    notifications_enqueue_new(
        items=[
            (
                entry.account_id,
                Kind.GRANT,
                f"grant:{entry.pk}",
                {"points": entry.amount, "reason": entry.description, "balance": entry.balance_after},
            )
            for entry in entries
        ]
    )


@receiver(order_placed)
def on_order_placed(sender: Any, order: Any, product: Any, balance_after: int, **kwargs: Any) -> None:
    notification_enqueue(
        user=order.user_id,
        kind=Kind.ORDER,
        dedupe_key=f"order:{order.pk}",
        context={
            "order_id": str(order.pk),
            "product": product.name,
            "quantity": order.quantity,
            "points": order.points_used,
            "balance": balance_after,
        },
        new_event=True,
    )


@receiver(order_refunded)
def on_order_refunded(sender: Any, order: Any, product: Any, balance_after: int, **kwargs: Any) -> None:
    notification_enqueue(
        user=order.user_id,
        kind=Kind.REFUND,
        dedupe_key=f"refund:{order.pk}",
        context={
            "order_id": str(order.pk),
            "product": product.name,
            "points": order.points_used,
            "reason": order.refund_reason,
            "balance": balance_after,
        },
        new_event=True,
    )


@receiver(expiry_run_finished)
def on_expiry_run_finished(sender: Any, as_of: dt.date, **kwargs: Any) -> None:
    """Warn each employee once per expiry date, when it comes within EXPIRY_WARNING_DAYS."""
    for account in accounts_with_points().iterator():
        soon = points_expiring(user_id=account.pk, after=as_of, days=EXPIRY_WARNING_DAYS)
        if soon.points and soon.expires_on is not None:
            notification_enqueue(
                user=account.pk,
                kind=Kind.EXPIRY_WARNING,
                dedupe_key=f"expiry:{soon.expires_on.isoformat()}",
                context={"points": soon.points, "date": soon.expires_on.isoformat()},
            )
