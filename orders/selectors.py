"""Reads of orders: an employee only ever sees their own."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet, Sum

from orders.models import Order
from shop.models import User


def order_list(*, user: User) -> QuerySet[Order]:
    return Order.objects.filter(user=user).select_related("product").order_by("-created_at", "-id")


def products_top(*, limit: int = 10) -> list[dict[str, Any]]:
    """The most ordered products (delivered orders, refunds excluded), by quantity."""
    return list(
        Order.objects.filter(status=Order.Status.DELIVERED)
        .values("product_id", "product__name")
        .annotate(quantity=Sum("quantity"), points=Sum("points_used"), orders=Count("id"))
        .order_by("-quantity", "product__name")[:limit]
    )
