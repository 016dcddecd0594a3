"""Reads of orders: an employee only ever sees their own."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, QuerySet, Sum

from orders.models import IdempotencyRecord, Order
from shop.models import User


def order_list(*, user: User) -> QuerySet[Order]:
    return Order.objects.filter(user=user).select_related("product").order_by("-created_at", "-id")


def _delivered_orders(*, since: datetime | None, until: datetime | None, department: str) -> QuerySet[Order]:
    orders = Order.objects.filter(status=Order.Status.DELIVERED)
    if since is not None:
        orders = orders.filter(created_at__gte=since)
    if until is not None:
        orders = orders.filter(created_at__lt=until)
    if department:
        orders = orders.filter(user__department=department)
    return orders


def products_top(
    *,
    limit: int = 10,
    since: datetime | None = None,
    until: datetime | None = None,
    department: str = "",
    by: str = "quantity",
) -> list[dict[str, Any]]:
    """The most ordered products (delivered orders, refunds excluded), by units or by points.

    One grouped query. ``since``/``until`` bound the orders' creation (half-open), and
    ``department`` the employees who ordered.
    """
    first = "-points" if by == "points" else "-quantity"
    return list(
        _delivered_orders(since=since, until=until, department=department)
        .values("product_id", "product__name")
        .annotate(quantity=Sum("quantity"), points=Sum("points_used"), orders=Count("id"))
        .order_by(first, "product__name")[:limit]
    )


def order_recent_of_product(*, user: User, product_id: Any, since: datetime) -> Order | None:
    """The employee's latest order of a product placed at or after ``since``, if any."""
    return (
        Order.objects.filter(user=user, product_id=product_id, created_at__gte=since)
        .order_by("-created_at", "-id")
        .first()
    )


def order_id_for_key(*, user: User, key: str) -> Any | None:
    """The order an idempotency key of the employee placed, if it placed one."""
    return (
        IdempotencyRecord.objects.filter(user=user, key=key, order__isnull=False)
        .values_list("order_id", flat=True)
        .first()
    )
