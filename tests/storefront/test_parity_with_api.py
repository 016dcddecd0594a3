"""The storefront and the API show one employee the same balance, history and orders."""

from __future__ import annotations

import re
from typing import Any

import pytest

from orders.placement import order_place_idempotent
from orders.services import order_refund
from points.services.grants import points_adjust, points_grant
from tests.conftest import CheckedClient
from tests.factories import ProductFactory, UserFactory
from tests.storefront.sessions import signed_in_client

pytestmark = pytest.mark.django_db


def _all_pages(api: CheckedClient, url: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while url:
        body = api.get(url).json()
        items += body["results"]
        url = body["next"]
    return items


def test_balance_history_and_orders_match_the_api(client_for: Any) -> None:
    employee = UserFactory(email="parity@example.com", points=30000, cognito_sub="sub-parity")
    points_grant(user=employee, amount=2500, reason="Quarterly award")
    hr = UserFactory(email="hr-parity@example.com", is_employee=False, is_staff=True)
    points_adjust(user=employee, amount=-700, reason="Correction", adjusted_by=hr)
    products = [ProductFactory(name=f"Item {n}", points_cost=100 * (n + 1), stock=50) for n in range(12)]
    placed = [
        order_place_idempotent(
            user=employee, product_id=p.pk, quantity=1, key=f"p{n}", body_for=lambda o: {"id": str(o.pk)}
        ).body["id"]
        for n, p in enumerate(products)
    ]
    order_refund(order_id=placed[3], refunded_by=hr, reason="Out of size")

    api = client_for(employee)
    browser = signed_in_client(employee)
    me = api.get("/api/v1/me/").json()
    home = browser.get("/").content.decode()
    assert f'id="balance">{me["balance"]:,} points<' in home

    api_entries = _all_pages(api, "/api/v1/points/transactions/?page_size=100")
    page_entries: list[str] = []
    for n in (1, 2):  # 20 entries a page on the storefront
        page_entries += re.findall(
            r'id="entry-([0-9a-f-]{36})"', browser.get(f"/points/?page={n}").content.decode()
        )
    assert page_entries == [e["id"] for e in api_entries]
    history = browser.get("/points/").content.decode()
    for entry in api_entries[:20]:
        sign = "+" if entry["amount"] > 0 else "\u2212"
        assert f"{sign}{abs(entry['amount']):,}<" in history
        assert entry["description"] in history

    api_orders = _all_pages(api, "/api/v1/orders/?page_size=100")
    listed = re.findall(r'href="/orders/([0-9a-f-]{36})/"', browser.get("/orders/").content.decode())
    assert listed == [o["id"] for o in api_orders]
    refunded = next(o for o in api_orders if o["id"] == placed[3])
    detail = browser.get(f"/orders/{placed[3]}/").content.decode()
    assert refunded["status"] == "refunded" and "Refunded" in detail and "Out of size" in detail
