"""seed_volume: a realistic data set in bulk that keeps every ledger rule (check_ledger passes)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum

from orders.audit import ledger_violations
from orders.models import Order
from points.models import PointsAccount, PointsTransaction
from shop.models import User
from tests.factories import CategoryFactory


def test_seed_volume_writes_a_consistent_ledger(db, capsys):
    call_command("seed_volume", "--employees", "40", "--entries", "1500", "--products", "5", "--prefix", "t")
    assert "Created 40 employees, 5 products" in capsys.readouterr().out
    assert PointsTransaction.objects.count() == 1500
    assert ledger_violations() == []
    kinds = set(PointsTransaction.objects.values_list("type", flat=True))
    assert kinds == {"earned", "redeemed", "refunded", "adjusted"}
    assert Order.objects.filter(status=Order.Status.REFUNDED).exists()
    # Balances equal the ledger, in total too.
    assert (
        PointsAccount.objects.aggregate(s=Sum("balance"))["s"]
        == PointsTransaction.objects.aggregate(s=Sum("amount"))["s"]
    )
    # Departments, locations and managers are filled in; the history spans the year.
    employees = User.objects.filter(email__startswith="t-")
    assert employees.values("department").distinct().count() == 12
    assert employees.filter(manager__isnull=False).count() == 40 - 12
    first, last = (
        PointsTransaction.objects.order_by(o).values_list("created_at", flat=True)[0]
        for o in ("created_at", "-created_at")
    )
    assert (last - first).days > 300


def test_seed_volume_refuses_to_seed_the_same_prefix_twice(db):
    call_command("seed_volume", "--employees", "3", "--entries", "10", "--products", "1", "--prefix", "t")
    with pytest.raises(CommandError, match="exist already"):
        call_command("seed_volume", "--employees", "3", "--entries", "10", "--products", "1", "--prefix", "t")


def test_seed_volume_invalidates_cached_product_pages(api, product):
    # The seed's category exists already (its creation would bump the version itself); the list
    # page is cached, and bulk_create sends no signals, so seeding must bump the version.
    CategoryFactory(slug="pv-goods")
    assert api.get("/api/v1/products/").json()["count"] == 1
    call_command("seed_volume", "--employees", "3", "--entries", "10", "--products", "2", "--prefix", "pv")
    assert api.get("/api/v1/products/").json()["count"] == 3
