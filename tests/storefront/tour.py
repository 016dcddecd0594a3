"""Every storefront page, in each state worth looking at, for the browser tests that check all
of them (accessibility, layout, page weight, screenshots).

`shop_data()` writes what the pages show: the demo catalog (real images and thumbnails), an
employee with grants (one soon to expire), orders (one refunded), an HR correction; a newcomer
with nothing yet; an HR account that is not on the roster. `stops()` lists the pages: each one
is a path seen by one of those people, sometimes followed by an action in the page (a form sent)
that leads to the state to check.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from unittest import mock

from django.utils import timezone

from catalog.demo import seed_demo
from catalog.models import Product
from orders.services import order_place, order_refund
from points.services.grants import points_adjust, points_grant
from shop.identity.services import user_create
from shop.models import User
from tests.support.storefront_session import StorefrontSession, storefront_session_for

# Who looks at a page: a signed-in employee with history, a newcomer, HR (not an employee),
# or nobody signed in.
EMPLOYEE, NEWCOMER, HR, SIGNED_OUT = "employee", "newcomer", "hr", "signed-out"


@dataclass
class ShopData:
    employee: User
    sessions: dict[str, StorefrontSession]
    product: Product  # in stock, affordable, never ordered
    recent: Product  # ordered by the employee a moment ago
    refused: Product  # goes out of stock while its confirmation is open
    out_of_stock: Product
    refunded_order_id: Any


def _product(name: str) -> Product:
    return Product.objects.get(name=name)


def shop_data() -> ShopData:
    seed_demo()
    employee = User.objects.get(email="alice@example.com")
    # A grant three weeks old: with points expiring after a month, part of it expires soon.
    three_weeks_ago = timezone.now() - dt.timedelta(days=21)
    with mock.patch("django.utils.timezone.now", return_value=three_weeks_ago):
        points_grant(user=employee, amount=2_000, reason="Q3 team award")
    refunded = order_place(user=employee, product_id=_product("USB-C Hub").pk)
    order_refund(order_id=refunded.pk, refunded_by=None, reason="The supplier cancelled the delivery.")
    order_place(user=employee, product_id=_product("Sticker Pack").pk, quantity=2)
    recent = _product("Insulated Bottle")
    order_place(user=employee, product_id=recent.pk)
    points_adjust(user=employee, amount=-150, reason="Correction: a grant entered twice")
    newcomer = user_create(email="noah.new@example.com", name="Noah Newcomer", employee_id="E2001")
    hr = user_create(email="hana.hr@example.com", name="Hana HR", is_staff=True, is_employee=False)
    return ShopData(
        employee=employee,
        sessions={
            EMPLOYEE: storefront_session_for(employee),
            NEWCOMER: storefront_session_for(newcomer),
            HR: storefront_session_for(hr),
        },
        product=_product("Mechanical Keyboard"),
        recent=recent,
        refused=_product("Cinema Tickets (2)"),
        out_of_stock=_product("Massage Voucher"),
        refunded_order_id=refunded.pk,
    )


Action = Callable[[Any], None]


@dataclass
class Stop:
    name: str
    who: str
    path: str
    status: int = 200
    act: Action | None = None  # run in the page after it loads; leads to the state to check
    landmark: str = "main h1"  # proof the intended page is shown, not a redirect elsewhere


def _send_without_ticking(page: Any) -> None:
    # The checkbox is `required`, so the browser itself stops the form; a browser without
    # that check (or a crafted request) reaches the server, whose answer is the state shown.
    with page.expect_navigation():
        page.evaluate("document.querySelector('form.confirm__form').submit()")
    page.wait_for_selector("#repeat-error")


def _refused_for_stock(product_id: Any) -> Action:
    def act(page: Any) -> None:
        # Someone else takes the last items while the confirmation is open.
        Product.objects.filter(pk=product_id).update(stock=0)
        with page.expect_navigation():
            page.get_by_role("button", name="Redeem for").click()
        page.wait_for_selector("#redeem-error")

    return act


def _save_preferences(page: Any) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Save preferences").click()
    page.wait_for_selector(".notice--success")


def stops(data: ShopData) -> list[Stop]:
    p, recent, refused = data.product.pk, data.recent.pk, data.refused.pk
    return [
        Stop("home", EMPLOYEE, "/"),
        Stop("home-no-points", NEWCOMER, "/"),
        Stop("catalog", EMPLOYEE, "/products/"),
        Stop(
            "catalog-filtered", EMPLOYEE, "/products/?search=e&category=tech&sort=-points_cost&affordable=on"
        ),
        Stop("catalog-no-match", EMPLOYEE, "/products/?search=nothing-sells-this"),
        Stop("catalog-invalid-filters", EMPLOYEE, "/products/?category=no-such-category&search=" + "e" * 201),
        Stop("catalog-page-2", EMPLOYEE, "/products/?page=2"),
        Stop("product", EMPLOYEE, f"/products/{p}/"),
        Stop("product-unaffordable", NEWCOMER, f"/products/{p}/"),
        Stop("product-out-of-stock", EMPLOYEE, f"/products/{data.out_of_stock.pk}/"),
        Stop("redeem-confirm", EMPLOYEE, f"/products/{p}/redeem/?quantity=2"),
        Stop("redeem-ordered-recently", EMPLOYEE, f"/products/{recent}/redeem/?quantity=1"),
        Stop(
            "redeem-repeat-not-confirmed",
            EMPLOYEE,
            f"/products/{recent}/redeem/?quantity=1",
            act=_send_without_ticking,
        ),
        Stop("redeem-not-enough-points", NEWCOMER, f"/products/{p}/redeem/?quantity=1"),
        Stop("orders", EMPLOYEE, "/orders/"),
        Stop("orders-none", NEWCOMER, "/orders/"),
        Stop("order-refunded", EMPLOYEE, f"/orders/{data.refunded_order_id}/"),
        Stop("points-history", EMPLOYEE, "/points/"),
        Stop("points-history-none", NEWCOMER, "/points/"),
        Stop("emails", EMPLOYEE, "/settings/emails/"),
        Stop("emails-saved", EMPLOYEE, "/settings/emails/", act=_save_preferences),
        Stop("not-found", EMPLOYEE, "/no-such-page/", status=404),
        Stop("sign-in", SIGNED_OUT, "/signin/"),
        Stop("sign-in-link-unusable", SIGNED_OUT, "/signin/link/not-a-sign-in-link/", status=400),
        Stop("not-employee", HR, "/", status=403),
        # Last: it takes the product's stock away.
        Stop(
            "redeem-refused-out-of-stock",
            EMPLOYEE,
            f"/products/{refused}/redeem/?quantity=1",
            act=_refused_for_stock(refused),
        ),
    ]


def visit(page: Any, base_url: str, data: ShopData, stop: Stop) -> None:
    """Open ``stop`` as its person (the context's session cookie swapped) and reach its state."""
    context = page.context
    context.clear_cookies()
    if stop.who != SIGNED_OUT:
        context.add_cookies([data.sessions[stop.who].playwright_cookie(base_url)])
    response = page.goto(base_url + stop.path)
    assert response is not None
    assert response.status == stop.status, f"{stop.name}: {stop.path} answered {response.status}"
    if stop.act is not None:
        stop.act(page)
    page.wait_for_selector(stop.landmark)
