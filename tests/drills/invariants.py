"""The money invariants every fault drill ends with."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.management import call_command
from django.db.models import Count, Sum

from catalog.models import Product
from orders.models import IdempotencyRecord, Order
from points.models import PointsAccount, PointsTransaction


def assert_money_invariants(initial_stock: Mapping[object, int]) -> None:
    """Grants = balances + spent; each balance = its ledger (check_ledger); no negative stock and
    stock + sold = what there was; at most one order per key, and every order answered by one."""
    granted = (
        PointsTransaction.objects.filter(type=PointsTransaction.Type.EARNED).aggregate(s=Sum("amount"))["s"]
        or 0
    )
    balances = PointsAccount.objects.aggregate(s=Sum("balance"))["s"] or 0
    spent = Order.objects.filter(status=Order.Status.DELIVERED).aggregate(s=Sum("points_used"))["s"] or 0
    assert granted == balances + spent, (granted, balances, spent)

    call_command("check_ledger")  # raises CommandError naming every violation

    assert not Product.objects.filter(stock__lt=0).exists()
    for product in Product.objects.filter(pk__in=list(initial_stock)):
        sold = Order.objects.filter(product=product).aggregate(q=Sum("quantity"))["q"] or 0
        assert product.stock + sold == initial_stock[product.pk], (product.pk, product.stock, sold)

    per_key = IdempotencyRecord.objects.values("user", "key").annotate(n=Count("id")).filter(n__gt=1)
    assert not per_key.exists()
    # Every order placed through the API is stored with exactly one key's answer.
    answered = IdempotencyRecord.objects.filter(order__isnull=False)
    assert answered.count() == answered.values("order").distinct().count() == Order.objects.count()
