"""Redeeming in the storefront: one order per confirmation, whatever the browser does, and every
refusal a message on the page that changes nothing.

The browser's own behaviour (a real double click, Back, two tabs) is driven in Chromium by
test_redeem_browser.py; here each case is the HTTP requests a browser sends for it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.test import Client

from catalog.models import Product
from orders.models import IdempotencyRecord, Order
from orders.services import order_place
from points.models import PointsAccount, PointsTransaction
from tests.factories import ProductFactory, UserFactory
from tests.storefront.sessions import signed_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice() -> Any:
    return UserFactory(email="alice@example.com", name="Alice Martin", points=5000)


@pytest.fixture
def browser(alice: Any) -> Client:
    return signed_in_client(alice)


@pytest.fixture
def lamp() -> Product:
    return ProductFactory(name="Desk Lamp", points_cost=1200, stock=3)


def confirmation(browser: Client, product: Product, quantity: int = 1) -> dict[str, str]:
    """Open the confirmation page; return the form's fields as the browser would send them."""
    page = browser.get(f"/products/{product.pk}/redeem/?quantity={quantity}")
    assert page.status_code == 200
    html = page.content.decode()
    key = re.search(r'name="key" value="(web-[0-9a-f]{32})"', html)
    assert key, "the confirmation carries its idempotency key"
    return {"quantity": str(quantity), "key": key.group(1)}


def balance(user: Any) -> int:
    return PointsAccount.objects.get(pk=user.pk).balance


def test_confirm_then_redeem_places_one_order_and_shows_it(
    alice: Any, browser: Client, lamp: Product
) -> None:
    form = confirmation(browser, lamp, 2)
    response = browser.post(f"/products/{lamp.pk}/redeem/", form, follow=True)
    order = Order.objects.get()
    assert response.redirect_chain == [(f"/orders/{order.pk}/", 302)]
    assert "Your order is placed" in response.content.decode()
    assert (order.quantity, order.points_used) == (2, 2400)
    assert balance(alice) == 2600
    assert Product.objects.get(pk=lamp.pk).stock == 1
    # The order went through the order service with the form's key, like an API client's.
    assert IdempotencyRecord.objects.get(order=order).key == form["key"]


def test_a_double_click_or_a_reload_of_the_post_places_one_order(
    alice: Any, browser: Client, lamp: Product
) -> None:
    form = confirmation(browser, lamp)
    first = browser.post(f"/products/{lamp.pk}/redeem/", form)
    again = browser.post(f"/products/{lamp.pk}/redeem/", form)
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    assert Order.objects.count() == 1
    assert balance(alice) == 3800


def test_the_same_confirmation_in_two_tabs_places_one_order(
    alice: Any, browser: Client, lamp: Product
) -> None:
    tab_one = confirmation(browser, lamp)
    tab_two = confirmation(browser, lamp)
    assert tab_one == tab_two
    browser.post(f"/products/{lamp.pk}/redeem/", tab_one)
    browser.post(f"/products/{lamp.pk}/redeem/", tab_two)
    assert Order.objects.count() == 1


def test_back_and_resubmit_cannot_order_again_without_saying_so(
    alice: Any, browser: Client, lamp: Product
) -> None:
    browser.post(f"/products/{lamp.pk}/redeem/", confirmation(browser, lamp))
    # Back fetches the confirmation again: it now names the earlier order and asks.
    page = browser.get(f"/products/{lamp.pk}/redeem/?quantity=1")
    html = page.content.decode()
    assert "You already ordered this product" in html and 'name="confirm_repeat"' in html
    form = confirmation(browser, lamp)
    refused = browser.post(f"/products/{lamp.pk}/redeem/", form)
    assert refused.status_code == 400
    assert "Tick the box" in refused.content.decode()
    assert Order.objects.count() == 1
    # A deliberate second order, confirmed.
    again = browser.post(f"/products/{lamp.pk}/redeem/", {**form, "confirm_repeat": "on"})
    assert again.status_code == 302
    assert Order.objects.count() == 2
    assert balance(alice) == 2600


@pytest.mark.parametrize(
    ("stock", "cost", "quantity", "reason"),
    [
        (0, 100, 1, "This product is out of stock, so it cannot be ordered now."),
        (2, 100, 3, "Only 2 are left in stock: choose a smaller quantity."),
        (1, 100, 2, "Only 1 is left in stock: choose a smaller quantity."),
        (3, 2000, 2, "You need 200 more points for this order."),
        (3, 3801, 1, "You need 1 more point for this order."),
    ],
    ids=["out_of_stock", "less_stock_than_asked", "one_left", "points_short", "one_point_short"],
)
def test_a_confirmation_that_cannot_be_ordered_says_why_and_offers_no_button(
    alice: Any, browser: Client, lamp: Product, stock: int, cost: int, quantity: int, reason: str
) -> None:
    # The button used to vanish without a word (an old tab, the last item gone meanwhile).
    order_place(user=alice, product_id=lamp.pk)  # 3,800 points left; the repeat window is open
    Product.objects.filter(pk=lamp.pk).update(stock=stock, points_cost=cost)
    page = browser.get(f"/products/{lamp.pk}/redeem/?quantity={quantity}")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'<div class="notice notice--error" role="alert" id="redeem-blocked"><p>{reason}</p></div>' in html
    assert "Redeem for" not in html and 'name="confirm_repeat"' not in html
    assert "Cancel" in html


@pytest.mark.parametrize("quantity", ["0", "11", "abc"])
def test_a_quantity_out_of_range_names_the_range_the_menu_offers(
    browser: Client, lamp: Product, quantity: str
) -> None:
    response = browser.get(f"/products/{lamp.pk}/redeem/?quantity={quantity}", follow=True)
    html = response.content.decode()
    assert "Choose a quantity from 1 to 3." in html  # the lamp's stock, not the order limit of 10


def test_a_confirmation_that_can_be_ordered_has_no_blocked_notice(browser: Client, lamp: Product) -> None:
    html = browser.get(f"/products/{lamp.pk}/redeem/?quantity=3").content.decode()
    assert "redeem-blocked" not in html and "Redeem for 3,600 points" in html


@pytest.mark.parametrize(
    ("setup", "status", "message"),
    [
        (
            lambda p, u: Product.objects.filter(pk=p.pk).update(points_cost=6000),
            409,
            "not have enough points",
        ),
        (lambda p, u: Product.objects.filter(pk=p.pk).update(stock=0), 409, "not enough stock"),
        (
            lambda p, u: Product.objects.filter(pk=p.pk).update(is_active=False),
            409,
            "can no longer be ordered",
        ),
    ],
    ids=["insufficient_points", "out_of_stock", "product_unavailable"],
)
def test_refusals_are_messages_on_the_page_and_change_nothing(
    alice: Any, browser: Client, lamp: Product, setup: Any, status: int, message: str
) -> None:
    form = confirmation(browser, lamp)
    setup(lamp, alice)  # what changed between the confirmation and the click
    entries = PointsTransaction.objects.count()
    response = browser.post(f"/products/{lamp.pk}/redeem/", form)
    assert response.status_code == status
    html = response.content.decode()
    assert message in html and 'role="alert"' in html
    assert "Redeem for" not in html  # nothing left to press: the refusal stands
    assert Order.objects.count() == 0
    assert PointsTransaction.objects.count() == entries
    assert balance(alice) == 5000


def test_after_a_refusal_the_next_attempt_is_a_new_request(
    alice: Any, browser: Client, lamp: Product
) -> None:
    form = confirmation(browser, lamp)
    Product.objects.filter(pk=lamp.pk).update(stock=0)
    assert browser.post(f"/products/{lamp.pk}/redeem/", form).status_code == 409
    Product.objects.filter(pk=lamp.pk).update(stock=3)  # HR restocks
    retry = confirmation(browser, lamp)
    assert retry["key"] != form["key"]
    assert browser.post(f"/products/{lamp.pk}/redeem/", retry).status_code == 302
    assert Order.objects.count() == 1


def test_too_many_orders_is_a_message_with_the_wait(
    alice: Any, browser: Client, lamp: Product, settings: Any
) -> None:
    settings.ORDER_RATE_LIMIT = "1/min"
    browser.post(f"/products/{lamp.pk}/redeem/", confirmation(browser, lamp))
    other = ProductFactory(name="Mug", points_cost=100, stock=5)
    response = browser.post(f"/products/{other.pk}/redeem/", confirmation(browser, other))
    assert response.status_code == 429
    assert "many orders in a short time" in response.content.decode()
    assert Order.objects.count() == 1


def test_a_tampered_form_is_refused_without_an_order(browser: Client, lamp: Product) -> None:
    for bad in ({"quantity": "1", "key": "not-a-key"}, {"quantity": "99", "key": "web-" + "0" * 32}, {}):
        response = browser.post(f"/products/{lamp.pk}/redeem/", bad)
        assert response.status_code == 400
    assert browser.get(f"/products/{lamp.pk}/redeem/?quantity=0").status_code == 302
    assert Order.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_lost_commit_says_so_and_submitting_again_never_orders_twice(
    alice: Any, lamp: Product, monkeypatch: pytest.MonkeyPatch
) -> None:
    browser = signed_in_client(alice)
    form = confirmation(browser, lamp)
    real_commit = connection._commit
    commits: list[int] = []

    def commit(*args: Any, **kwargs: Any) -> Any:
        real_commit(*args, **kwargs)
        commits.append(1)
        if len(commits) == 1:  # the order's COMMIT happens, then its answer is lost
            raise OperationalError(2013, "Lost connection to server during query")

    monkeypatch.setattr(connection, "_commit", commit)
    response = browser.post(f"/products/{lamp.pk}/redeem/", form)
    assert response.status_code == 503
    html = response.content.decode()
    assert "cannot tell whether it was placed" in html and "My orders" in html
    assert Order.objects.count() == 1
    again = browser.post(f"/products/{lamp.pk}/redeem/", form)
    assert again.status_code == 302
    assert again["Location"] == f"/orders/{Order.objects.get().pk}/"
    assert Order.objects.count() == 1
    assert balance(alice) == 3800
