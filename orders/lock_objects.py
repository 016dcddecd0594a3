"""Row locks for orders and their idempotency records, in the project's one lock order
(points.lock_objects): an order's row after the points account and the product; a key's
record taken over from an older claim right after the account (orders.idempotency)."""

from __future__ import annotations

from typing import Any

from orders.models import IdempotencyRecord, Order


def order_for_update(order_id: Any) -> Order:
    """A refund's order, re-read under its lock once the account and the product are locked."""
    return Order.objects.select_for_update().get(pk=order_id)


def idempotency_record_for_update(record_id: Any) -> IdempotencyRecord | None:
    """A claimed key's record (None when it is gone); the claim is re-checked on the locked row."""
    return IdempotencyRecord.objects.select_for_update().filter(pk=record_id).first()
