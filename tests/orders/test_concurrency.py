"""Real threads against MariaDB and PostgreSQL: the money rules hold under contention."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from catalog.models import Product
from orders.models import Order
from points.models import PointsAccount, PointsTransaction
from tests.conftest import CheckedClient, token_for
from tests.factories import ProductFactory, UserFactory
from tests.support.markers import requires_server_db
from tests.support.threads import run_at_once

pytestmark = [requires_server_db, pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def _post_order(token: str, product_id: Any, key: str | None = None) -> tuple[int, str]:
    client = CheckedClient()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    headers["HTTP_IDEMPOTENCY_KEY"] = key or uuid.uuid4().hex
    response = client.post("/api/v1/orders/", {"product_id": str(product_id)}, format="json", **headers)
    body = response.json()
    return response.status_code, body.get("code", "created")


def _assert_ledger_ok() -> None:
    call_command("check_ledger")


def test_fifty_orders_against_one_account_only_the_affordable_succeed(record_figure):
    user = UserFactory(points=1000, cognito_sub="sub-rich")
    product = ProductFactory(points_cost=100, stock=1000)
    token = token_for(user)
    results = run_at_once(50, lambda i: _post_order(token, product.pk))
    outcomes = Counter(results)
    record_figure(f"concurrency[{connection.vendor}] one account, 50 attempts: {dict(outcomes)}")
    assert outcomes == {(201, "created"): 10, (409, "insufficient_points"): 40}
    account = PointsAccount.objects.get(user=user)
    assert account.balance == 0
    assert Product.objects.get(pk=product.pk).stock == 990
    assert Order.objects.count() == 10
    assert PointsTransaction.objects.filter(type="redeemed").count() == 10
    _assert_ledger_ok()


def test_fifty_orders_against_scarce_stock_only_the_stocked_succeed(record_figure):
    product = ProductFactory(points_cost=10, stock=7)
    users = [UserFactory(points=100, cognito_sub=f"sub-stock-{i}") for i in range(50)]
    tokens = [token_for(u) for u in users]
    results = run_at_once(50, lambda i: _post_order(tokens[i], product.pk))
    outcomes = Counter(results)
    record_figure(f"concurrency[{connection.vendor}] one product, 50 buyers: {dict(outcomes)}")
    assert outcomes == {(201, "created"): 7, (409, "out_of_stock"): 43}
    assert Product.objects.get(pk=product.pk).stock == 0
    assert sum(PointsAccount.objects.values_list("balance", flat=True)) == 50 * 100 - 7 * 10
    _assert_ledger_ok()


def test_twenty_requests_with_one_idempotency_key_make_one_order(record_figure):
    user = UserFactory(points=1000, cognito_sub="sub-idem")
    product = ProductFactory(points_cost=100, stock=50)
    token = token_for(user)
    results = run_at_once(20, lambda i: _post_order(token, product.pk, key="same-key"))
    outcomes = Counter(status for status, _ in results)
    record_figure(f"concurrency[{connection.vendor}] 20 x same Idempotency-Key: {dict(Counter(results))}")
    # One creates; the rest either replay it (201) or are told it is still in progress (409).
    assert set(outcomes) <= {201, 409}
    assert all(code in ("created", "idempotency_request_in_progress") for _, code in results)
    assert Order.objects.count() == 1
    assert PointsTransaction.objects.filter(type="redeemed").count() == 1
    assert PointsAccount.objects.get(user=user).balance == 900
    # Once the first has finished, every retry replays it.
    assert _post_order(token, product.pk, key="same-key") == (201, "created")
    assert Order.objects.count() == 1
    _assert_ledger_ok()


def test_orders_and_refunds_across_accounts_and_products_do_not_deadlock():
    from orders.services import order_place, order_refund

    products = [ProductFactory(points_cost=5, stock=1000) for _ in range(3)]
    users = [UserFactory(points=1000, cognito_sub=f"sub-mix-{i}") for i in range(5)]
    placed = [order_place(user=users[i % 5], product_id=products[i % 3].pk) for i in range(15)]

    def work(i: int) -> str:
        if i < 15:
            order_refund(order_id=placed[i].pk, refunded_by=None)
            return "refunded"
        order_place(user=users[i % 5], product_id=products[i % 3].pk)
        return "placed"

    results = run_at_once(40, work)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    assert Counter(results) == {"refunded": 15, "placed": 25}
    _assert_ledger_ok()
