"""Redeeming in a real browser against gunicorn: what a person's clicks, Back button and tabs do.

Headless Chromium drives the storefront served by gunicorn (the project's gunicorn.conf.py, two
workers, so a double click's two requests can reach two processes). The server reaches the
database through a TCP proxy the test cuts for the outage case. Screenshots of each state go to
artifacts/screenshots/storefront/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from catalog.models import Product
from orders.models import Order
from points.models import PointsAccount
from tests.admin.browser_support import screenshot
from tests.factories import ProductFactory, UserFactory
from tests.support.gunicorn import NO_SHEDDING, Gunicorn, database_url, start_gunicorn
from tests.support.markers import requires_server_db
from tests.support.storefront_session import storefront_session_for
from tests.support.tcp_proxy import TcpProxy, proxy_to_test_database

pytestmark = [pytest.mark.browser, requires_server_db, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def proxy(django_db_setup: Any, django_db_blocker: Any) -> Iterator[TcpProxy]:
    with django_db_blocker.unblock():
        proxy = proxy_to_test_database()
    yield proxy
    proxy.stop()


@pytest.fixture(scope="module")
def server(
    proxy: TcpProxy, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gunicorn]:
    with django_db_blocker.unblock():
        url = database_url(port=proxy.port)
    log: Path = tmp_path_factory.mktemp("storefront-gunicorn") / "gunicorn.log"
    server = start_gunicorn({"DATABASE_URL": url, "DB_CONNECT_TIMEOUT": "2", **NO_SHEDDING}, log, workers=2)
    yield server
    server.stop()


@pytest.fixture
def employee() -> Any:
    return UserFactory(email="dana@example.com", name="Dana Reyes", points=5000)


@pytest.fixture
def shop(browser: Any, server: Gunicorn, employee: Any) -> Iterator[Any]:
    """A browser context signed in as the employee (the session a sign-in would open)."""
    session = storefront_session_for(employee)
    context = browser.new_context(viewport={"width": 1366, "height": 900}, base_url=server.url)
    context.set_default_timeout(15_000)
    context.add_cookies([session.playwright_cookie(server.url)])
    yield context
    context.close()


def _balance(user: Any) -> int:
    return PointsAccount.objects.get(pk=user.pk).balance


def test_a_double_click_places_one_order_and_back_asks_before_another(shop: Any, employee: Any) -> None:
    lamp = ProductFactory(name="Desk Lamp", points_cost=1200, stock=5)
    page = shop.new_page()
    page.goto(f"/products/{lamp.pk}/")
    page.select_option("#id_quantity", "2")
    page.click("text=Continue to confirm")
    page.wait_for_selector("text=Confirm your order")
    screenshot(page, "storefront/redeem-confirm-1366")
    page.dblclick("button:has-text('Redeem for 2,400 points')")
    page.wait_for_selector("#order")
    assert Order.objects.count() == 1
    assert _balance(employee) == 2600
    screenshot(page, "storefront/redeem-placed-1366")

    page.go_back()  # the confirmation again, fetched anew: it names the order and asks
    page.wait_for_selector("#repeat-note")
    page.click("button:has-text('Redeem for 2,400 points')")  # the box is required: nothing is sent
    assert page.url.endswith(f"/products/{lamp.pk}/redeem/?quantity=2")
    assert Order.objects.count() == 1
    page.check("#id_confirm_repeat")
    page.click("button:has-text('Redeem for 2,400 points')")
    page.wait_for_selector("#order")
    assert Order.objects.count() == 2
    assert _balance(employee) == 200


def test_the_same_confirmation_in_two_tabs_places_one_order(shop: Any) -> None:
    mug = ProductFactory(name="Mug", points_cost=300, stock=5)
    first, second = shop.new_page(), shop.new_page()
    for tab in (first, second):
        tab.goto(f"/products/{mug.pk}/redeem/?quantity=1")
    first.click("button:has-text('Redeem for 300 points')")
    first.wait_for_selector("#order")
    second.click("button:has-text('Redeem for 300 points')")
    second.wait_for_selector("#order")
    assert first.url == second.url
    assert Order.objects.count() == 1


def test_a_refusal_is_a_message_on_the_page_and_changes_nothing(shop: Any, employee: Any) -> None:
    bottle = ProductFactory(name="Bottle", points_cost=250, stock=1)
    page = shop.new_page()
    page.goto(f"/products/{bottle.pk}/redeem/?quantity=1")
    Product.objects.filter(pk=bottle.pk).update(stock=0)  # someone else took the last one
    page.click("button:has-text('Redeem for 250 points')")
    error = page.wait_for_selector("#redeem-error")
    assert "not enough stock" in error.inner_text()
    screenshot(page, "storefront/redeem-refused-1366")
    assert Order.objects.count() == 0
    assert _balance(employee) == 5000


def test_a_database_outage_during_a_redemption_is_a_clear_page_and_a_retry_orders_once(
    shop: Any, employee: Any, proxy: TcpProxy
) -> None:
    headphones = ProductFactory(name="Headphones", points_cost=2000, stock=3)
    page = shop.new_page()
    page.goto(f"/products/{headphones.pk}/redeem/?quantity=1")
    proxy.stop()
    try:
        page.click("button:has-text('Redeem for 2,000 points')")
        notice = page.wait_for_selector("#unavailable")
        assert "Nothing was changed" in notice.inner_text()
        screenshot(page, "storefront/redeem-outage-1366")
    finally:
        proxy.start()
    assert Order.objects.count() == 0
    page.go_back()  # the same confirmation, sent again once the database is back
    page.click("button:has-text('Redeem for 2,000 points')")
    page.wait_for_selector("#order")
    page.go_back()
    assert Order.objects.count() == 1
    assert _balance(employee) == 3000


def test_the_redeem_journey_works_with_the_keyboard_alone(shop: Any) -> None:
    backpack = ProductFactory(name="Backpack", points_cost=1500, stock=4)
    page = shop.new_page()
    page.goto(f"/products/{backpack.pk}/")

    def tab_to(text: str) -> None:
        for _ in range(40):
            page.keyboard.press("Tab")
            focused = page.evaluate("document.activeElement && document.activeElement.innerText || ''")
            if text in focused:
                return
        raise AssertionError(f"no focusable element says {text!r}")

    tab_to("Continue to confirm")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Confirm your order")
    tab_to("Redeem for 1,500 points")
    # The focused control is visibly outlined.
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    page.wait_for_selector("#order")
    assert Order.objects.count() == 1


def test_browsing_and_filtering_the_catalog(shop: Any) -> None:
    from tests.factories import CategoryFactory

    kitchen = CategoryFactory(name="Kitchen", slug="kitchen")
    ProductFactory(name="French Press", points_cost=900, stock=4, category=kitchen)
    ProductFactory(name="Chef Knife", points_cost=7000, stock=2, category=kitchen)
    ProductFactory(name="Phone Stand", points_cost=200, stock=9)
    page = shop.new_page()
    page.goto("/")
    page.click("nav >> text=Catalog")
    page.wait_for_selector("text=3 products")
    page.select_option("#id_category", "kitchen")
    page.click("text=Show products")
    page.wait_for_selector("text=2 products")
    page.check("#id_affordable")
    page.click("text=Show products")
    page.wait_for_selector("text=1 product")
    assert page.is_visible("text=French Press") and not page.is_visible("text=Chef Knife")
    page.fill("#id_search", "nothing like this")
    page.click("text=Show products")
    page.wait_for_selector("text=No products match these filters")
    page.click("main >> text=Show every product")
    page.click("text=Phone Stand")
    page.wait_for_selector("h1:has-text('Phone Stand')")
