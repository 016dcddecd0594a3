"""Reads of orders: an employee only ever sees their own."""

from __future__ import annotations

from django.db.models import QuerySet

from orders.models import Order
from shop.models import User


def order_list(*, user: User) -> QuerySet[Order]:
    return Order.objects.filter(user=user).select_related("product").order_by("-created_at", "-id")
