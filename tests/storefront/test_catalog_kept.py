"""The catalog page with its listings kept per process (storefront/listing.py): fewer queries,
and never a stale page, card or balance, whatever changed since the page was kept."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.test.utils import override_settings

from catalog.models import Product, StockMovement
from catalog.services import product_stock_adjust
from points.services.grants import points_grant
from tests.factories import CategoryFactory, ProductFactory, UserFactory
from tests.storefront.sessions import signed_in_client
from tests.storefront.test_redeem import confirmation

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice() -> Any:
    return UserFactory(email="alice@example.com", name="Alice Martin", points=5000)


@pytest.fixture
def browser(alice: Any) -> Client:
    return signed_in_client(alice)


def _catalog(browser: Client, query: str = "") -> str:
    response = browser.get(f"/products/{query}")
    assert response.status_code == 200
    return response.content.decode()


def _balance_chip(html: str) -> str:
    found = re.search(r'<p class="balance-chip">Your balance: ([^<]*)</p>', html)
    assert found, "the page shows the balance"
    return found.group(1)


def _categories(html: str) -> list[str]:
    select = html[html.index('<select name="category"') : html.index("</select>")]
    return re.findall(r'<option value="([^"]*)"', select)


def test_a_kept_catalog_page_shows_the_balance_after_a_redemption_and_the_stock_left(
    alice: Any, browser: Client
) -> None:
    lamp = ProductFactory(name="Desk Lamp", points_cost=1200, stock=7)
    for _ in range(2):  # the second one is served from what the first kept
        page = _catalog(browser)
        assert _balance_chip(page) == "5,000 points" and "In stock" in page
    form = confirmation(browser, lamp, 3)
    assert browser.post(f"/products/{lamp.pk}/redeem/", form).status_code == 302
    page = _catalog(browser)
    # 7 - 3 left: under the "only n left" line, without the catalog's version changing.
    assert _balance_chip(page) == "1,400 points" and "Only 4 left" in page
    assert "1,400 points" in browser.get("/").content.decode()


def test_a_kept_catalog_page_shows_a_grant_at_once(alice: Any, browser: Client) -> None:
    ProductFactory(name="Desk Lamp", points_cost=1200, stock=7)
    assert _balance_chip(_catalog(browser)) == "5,000 points"
    assert _balance_chip(_catalog(browser)) == "5,000 points"
    points_grant(user=alice, amount=250, reason="Thanks")
    assert _balance_chip(_catalog(browser)) == "5,250 points"


def test_pages_filtered_by_the_balance_are_never_kept(alice: Any, browser: Client) -> None:
    ProductFactory(name="Kettle", points_cost=4000, stock=5)
    ProductFactory(name="Espresso Machine", points_cost=9000, stock=5)
    assert "1 product<" in _catalog(browser, "?affordable=on")
    points_grant(user=alice, amount=5000, reason="Thanks")
    page = _catalog(browser, "?affordable=on")
    assert "2 products<" in page and "Espresso Machine" in page


def test_catalog_changes_show_at_once_on_kept_pages(browser: Client) -> None:
    tech = CategoryFactory(name="Tech", slug="tech")
    cable = ProductFactory(name="Cable", points_cost=100, category=tech, stock=3)
    mouse = ProductFactory(name="Mouse", points_cost=300, category=tech, stock=1)
    for _ in range(2):
        page = _catalog(browser)
        assert "2 products<" in page and _categories(page) == ["", "tech"]
        assert _catalog(browser, "?in_stock=on&category=tech").count('class="card"') == 2

    # A new product in a new category: listed, and its category offered.
    garden = CategoryFactory(name="Garden", slug="garden")
    ProductFactory(name="Watering Can", points_cost=200, category=garden, stock=4)
    page = _catalog(browser)
    assert "3 products<" in page and "Watering Can" in page
    assert _categories(page) == ["", "garden", "tech"]
    assert "Watering Can" in _catalog(browser, "?category=garden")

    # Renamed and repriced through a save: the new order and the new card.
    cable.name, cable.points_cost = "Zip Cable", 150
    cable.save()
    page = _catalog(browser)
    assert page.index("Watering Can") < page.index("Zip Cable") and "150 points" in page

    # The last mouse is taken: out of stock on its card, gone from the in-stock filter.
    product_stock_adjust(
        product_id=mouse.pk, delta=-1, reason=StockMovement.Reason.CORRECTION, note="", changed_by=None
    )
    assert "Out of stock" in _catalog(browser)
    in_stock = _catalog(browser, "?in_stock=on&category=tech")
    assert in_stock.count('class="card"') == 1 and "Mouse" not in in_stock

    # Taken off the catalog: gone from the list and its count.
    mouse.is_active = False
    mouse.save()
    page = _catalog(browser)
    assert "Mouse" not in page and "2 products<" in page


def test_a_product_changed_without_the_services_never_shows_a_stale_card(browser: Client) -> None:
    # An update that bypasses the model's save (so the catalog's version stays the same): what
    # the card shows is read with every kept page, and a product no longer listed is not shown.
    lamp = ProductFactory(name="Desk Lamp", points_cost=900, stock=9)
    ProductFactory(name="Kettle", points_cost=800, stock=9)
    _catalog(browser)
    Product.objects.filter(pk=lamp.pk).update(name="Floor Lamp", points_cost=1100, stock=2)
    page = _catalog(browser)
    assert "Floor Lamp" in page and "1,100 points" in page and "Only 2 left" in page
    Product.objects.filter(pk=lamp.pk).update(is_active=False)
    page = _catalog(browser)
    assert "Floor Lamp" not in page and "1 product<" in page


def test_a_kept_catalog_page_costs_two_queries(browser: Client, django_assert_num_queries: Any) -> None:
    for n in range(15):
        ProductFactory(name=f"Thing {n:02}", points_cost=100, stock=3)
    # the session with its user and points account (awsomeshop/sessions.py), categories with
    # the catalog version, count, page
    with django_assert_num_queries(4):
        first = _catalog(browser)
    # the session with its user, the page's products as shown with the catalog version
    with django_assert_num_queries(2):
        second = _catalog(browser)
    assert second == _without_csrf(first, second)  # the same page, byte for byte
    # A page not kept yet: the catalog version (the categories are kept), count, page.
    with django_assert_num_queries(4):
        _catalog(browser, "?page=2")
    with django_assert_num_queries(2):
        assert "Page 2 of 2" in _catalog(browser, "?page=2")
    # Past the end is still a 404, and a kept page is served only with its own number.
    assert browser.get("/products/?page=3").status_code == 404


@override_settings(CATALOG_CACHE_SECONDS=0)
def test_with_the_catalog_cache_off_nothing_is_kept(browser: Client, django_assert_num_queries: Any) -> None:
    ProductFactory(name="Kettle", points_cost=800, stock=9)
    for _ in range(2):
        with django_assert_num_queries(4):
            assert "Kettle" in _catalog(browser)


def _without_csrf(expected: str, actual: str) -> str:
    """``expected`` with the sign-out form's CSRF token of ``actual`` (each response masks it anew)."""
    pattern = r'name="csrfmiddlewaretoken" value="[^"]*"'
    token = re.search(pattern, actual)
    assert token
    return re.sub(pattern, token.group(0), expected)


def test_the_listing_is_rendered_once_and_again_for_anything_it_shows(browser: Client) -> None:
    from django.test.signals import template_rendered

    kettle = ProductFactory(name="Kettle", points_cost=800, stock=9)
    ProductFactory(name="Toaster", points_cost=900, stock=9)
    rendered: list[str] = []

    def count(sender: Any, template: Any, **kwargs: Any) -> None:
        rendered.append(template.name)

    def listings() -> int:
        return rendered.count("storefront/partials/catalog_listing.html")

    template_rendered.connect(count)
    try:
        _catalog(browser)
        assert "Kettle" in _catalog(browser) and listings() == 1  # reused
        assert "1 product<" in _catalog(browser, "?search=kettle") and listings() == 2
        assert 'value="kettle"' in _catalog(browser, "?search=kettle") and listings() == 2
        assert 'value="Kettle"' in _catalog(browser, "?search=Kettle") and listings() == 3
        # A card's stock line changes without the catalog's version: rendered again.
        Product.objects.filter(pk=kettle.pk).update(stock=1)
        assert "Only 1 left" in _catalog(browser) and listings() == 4
        # Its cards are rendered with it, never taken older from the cards' own cache: the
        # kept HTML's expiry bounds the age of the signed picture URLs in it.
        cards = rendered.count("storefront/partials/product_card.html")
        assert 'value="toaster"' in _catalog(browser, "?search=toaster") and listings() == 5
        assert rendered.count("storefront/partials/product_card.html") == cards + 1
    finally:
        template_rendered.disconnect(count)


def test_a_request_seen_before_is_answered_from_its_recipe_without_building_the_page(
    browser: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """storefront/listing.py, "recipe": the same request again costs the live values' query and
    nothing else; what it shows is what a build would show, byte for byte."""
    from storefront.forms import CatalogFilterForm

    lamp = ProductFactory(name="Desk Lamp", points_cost=1200, stock=7)
    ProductFactory(name="Floor Lamp", points_cost=900, stock=3)
    built: list[int] = []
    original = CatalogFilterForm.__init__

    def counted(self: Any, *args: Any, **kwargs: Any) -> None:
        built.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(CatalogFilterForm, "__init__", counted)
    first = _catalog(browser, "?search=lamp")
    assert len(built) == 1 and "2 products<" in first
    second = _catalog(browser, "?search=lamp")
    assert len(built) == 1 and second == _without_csrf(first, second)
    # A change to what a card shows is read live: the card, not the recipe, decides.
    Product.objects.filter(pk=lamp.pk).update(stock=2)
    assert "Only 2 left" in _catalog(browser, "?search=lamp") and len(built) == 2
    assert "Only 2 left" in _catalog(browser, "?search=lamp") and len(built) == 2
    # Another request (here the same filter, another case) is built once, then kept too.
    _catalog(browser, "?search=LAMP")
    _catalog(browser, "?search=LAMP")
    assert len(built) == 3
