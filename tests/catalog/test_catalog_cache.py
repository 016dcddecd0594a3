"""The product list's page cache is never wrong: live stock, invalidation by every catalog
change (services, admin, orders, refunds), no caller-specific data, ETag and 304."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from django.db import transaction
from django.db.models.signals import post_save, pre_save

from catalog.models import CatalogVersion, Product, StockMovement
from catalog.services import product_stock_adjust
from orders.services import order_place, order_refund
from points.services.grants import points_grant
from shop.http import conditional
from tests.factories import CategoryFactory, ProductFactory

URL = "/api/v1/products/"


@pytest.fixture
def shelf(db):
    home = CategoryFactory(name="Home", slug="home")
    return {
        "mug": ProductFactory(name="Mug", points_cost=500, stock=3, category=home),
        "lamp": ProductFactory(name="Lamp", points_cost=1500, stock=1, category=home),
    }


def _page(api, query=""):
    response = api.get(URL + query)
    assert response.status_code == 200, response.content
    return {p["name"]: p for p in response.json()["results"]}


def test_a_cached_page_costs_two_queries_and_shows_live_stock(api, shelf, django_assert_num_queries):
    # First request: user by token subject, catalog version, count, page.
    with django_assert_num_queries(4):
        _page(api)
    product_stock_adjust(
        product_id=shelf["mug"].pk, delta=4, reason=StockMovement.Reason.RESTOCK, note="", changed_by=None
    )
    # Then: user, and the page's live stock read together with the version.
    with django_assert_num_queries(2):
        page = _page(api)
    assert (page["Mug"]["stock"], page["Mug"]["in_stock"]) == (7, True)


@pytest.mark.parametrize("count", [2, 40])
def test_cached_page_query_count_does_not_grow_with_page_size(api, db, count, django_assert_num_queries):
    ProductFactory.create_batch(count, category=CategoryFactory(slug="qc"))
    _page(api, "?page_size=100")
    with django_assert_num_queries(2):
        assert len(_page(api, "?page_size=100")) == count


def test_an_order_and_its_refund_show_at_once_even_on_the_in_stock_filter(api, employee, shelf):
    assert set(_page(api, "?in_stock=true")) == {"Mug", "Lamp"}
    points_grant(user=employee, amount=5000, reason="x")
    order = order_place(user=employee, product_id=shelf["lamp"].pk)
    assert _page(api)["Lamp"]["stock"] == 0
    assert set(_page(api, "?in_stock=true")) == {"Mug"}
    assert set(_page(api, "?in_stock=false")) == {"Lamp"}
    order_refund(order_id=order.pk, refunded_by=None)
    assert set(_page(api, "?in_stock=true")) == {"Mug", "Lamp"}
    assert _page(api)["Lamp"]["in_stock"] is True


def test_ordering_through_the_api_updates_the_cached_page(api, shelf):
    assert _page(api)["Mug"]["stock"] == 3
    response = api.post(
        "/api/v1/orders/",
        {"product_id": str(shelf["mug"].pk)},
        format="json",
        HTTP_IDEMPOTENCY_KEY="cache-order",
    )
    assert response.status_code == 201
    assert _page(api)["Mug"]["stock"] == 2


@pytest.mark.parametrize(
    "change",
    ["rename", "reprice", "deactivate", "new_product", "delete_product", "rename_category", "move_category"],
)
def test_every_product_or_category_change_invalidates_cached_pages(api, shelf, change):
    _page(api)
    _page(api, "?category=home")
    mug = shelf["mug"]
    if change == "rename":
        mug.name = "Big mug"
        mug.save()
    elif change == "reprice":
        mug.points_cost = 1
        mug.save(update_fields=["points_cost", "updated_at"])
    elif change == "deactivate":
        mug.is_active = False
        mug.save()
    elif change == "new_product":
        ProductFactory(name="Rug", category=mug.category)
    elif change == "delete_product":
        mug.delete()
    elif change == "rename_category":
        mug.category.name = "House"
        mug.category.save()
    elif change == "move_category":
        mug.category = CategoryFactory(name="Kitchen", slug="kitchen")
        mug.save()
    expected = {
        "rename": ({"Big mug", "Lamp"}, {"Big mug", "Lamp"}),
        "reprice": ({"Mug", "Lamp"}, {"Mug", "Lamp"}),
        "deactivate": ({"Lamp"}, {"Lamp"}),
        "new_product": ({"Mug", "Lamp", "Rug"}, {"Mug", "Lamp", "Rug"}),
        "delete_product": ({"Lamp"}, {"Lamp"}),
        "rename_category": ({"Mug", "Lamp"}, {"Mug", "Lamp"}),
        "move_category": ({"Mug", "Lamp"}, {"Lamp"}),
    }[change]
    all_page, home_page = _page(api), _page(api, "?category=home")
    assert (set(all_page), set(home_page)) == expected
    if change == "reprice":
        assert all_page["Mug"]["points_cost"] == 1
    if change == "rename_category":
        assert all_page["Mug"]["category"]["name"] == "House"


def test_a_rolled_back_change_leaves_the_version_alone(shelf):
    before = CatalogVersion.objects.get(pk=1).token
    inside = []

    def rename_then_fail():
        with transaction.atomic():
            shelf["mug"].name = "Renamed"
            shelf["mug"].save()
            inside.append(CatalogVersion.objects.get(pk=1).token)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        rename_then_fail()
    assert inside[0] != before
    assert CatalogVersion.objects.get(pk=1).token == before


def test_stock_changes_that_do_not_cross_zero_keep_the_page(api, shelf, django_assert_num_queries):
    _page(api, "?in_stock=true")
    product_stock_adjust(
        product_id=shelf["mug"].pk, delta=-1, reason=StockMovement.Reason.CORRECTION, note="", changed_by=None
    )
    with django_assert_num_queries(2):
        assert _page(api, "?in_stock=true")["Mug"]["stock"] == 2


def test_affordable_pages_are_per_caller_and_follow_the_balance(api, employee, make_user, client_for, shelf):
    rich = client_for(make_user(points=2000, cognito_sub="sub-rich"))
    assert set(_page(api, "?affordable=true")) == {"Mug"}  # balance 1000
    assert set(_page(rich, "?affordable=true")) == {"Mug", "Lamp"}
    assert set(_page(api, "?affordable=true")) == {"Mug"}
    points_grant(user=employee, amount=600, reason="x")
    assert set(_page(api, "?affordable=true")) == {"Mug", "Lamp"}


def test_etag_gives_304_until_the_page_changes(api, shelf):
    first = api.get(URL)
    etag = first["ETag"]
    assert first["Cache-Control"] == "private, no-cache"
    again = api.get(URL, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    product_stock_adjust(
        product_id=shelf["mug"].pk, delta=1, reason=StockMovement.Reason.RESTOCK, note="", changed_by=None
    )
    changed = api.get(URL, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_cache_off_gives_the_same_pages(api, shelf, settings):
    cached = api.get(URL + "?ordering=-points_cost").json()
    settings.CATALOG_CACHE_SECONDS = 0
    assert api.get(URL + "?ordering=-points_cost").json() == cached


def test_next_links_follow_the_host_asked_for(api, shelf):
    a = api.get(URL + "?page_size=1", HTTP_HOST="a.example.com").json()
    b = api.get(URL + "?page_size=1", HTTP_HOST="b.example.com").json()
    assert a["next"].startswith("http://a.example.com/") and b["next"].startswith("http://b.example.com/")


def _fresh_body(api, settings, query=""):
    cache = settings.CATALOG_CACHE_SECONDS
    settings.CATALOG_CACHE_SECONDS = 0
    try:
        return api.get(URL + query).content
    finally:
        settings.CATALOG_CACHE_SECONDS = cache


def test_unchanged_stock_serves_the_kept_bytes_without_rendering(
    api, shelf, settings, django_assert_num_queries
):
    first = api.get(URL)
    with (
        mock.patch("shop.http.conditional._renderer.render", side_effect=AssertionError("rendered again")),
        django_assert_num_queries(2),
    ):
        again = api.get(URL)
    assert again.content == first.content and again["ETag"] == first["ETag"]
    assert again.content == _fresh_body(api, settings)


def test_a_stock_change_renders_once_then_keeps_the_new_bytes(api, shelf, settings):
    first = api.get(URL)
    product_stock_adjust(
        product_id=shelf["mug"].pk, delta=2, reason=StockMovement.Reason.RESTOCK, note="", changed_by=None
    )
    real_render = conditional._renderer.render
    with mock.patch("shop.http.conditional._renderer.render", side_effect=real_render) as render:
        changed = api.get(URL)
        assert render.call_count == 1
        assert api.get(URL).content == changed.content
        assert render.call_count == 1
    assert changed["ETag"] != first["ETag"]
    assert changed.content == _fresh_body(api, settings)
    assert json.loads(changed.content)["results"][1]["stock"] == 5  # Mug, after Lamp by name
    product_stock_adjust(
        product_id=shelf["mug"].pk, delta=-2, reason=StockMovement.Reason.CORRECTION, note="", changed_by=None
    )
    back = api.get(URL)
    assert back.content == first.content and back["ETag"] == first["ETag"]


def test_stock_writes_skip_only_the_catalog_receiver_which_ignores_them(shelf):
    """stock_apply writes a product's stock without the save signals (catalog.services): right
    only while the product's one save receiver is the catalog's, which ignores stock-only saves.
    A new receiver of product saves must decide whether it needs stock writes, and this fails."""
    assert [r[0] for r in post_save.receivers if r[0][1] == id(Product)] == [
        ("catalog_product_saved", id(Product))
    ]
    assert not pre_save.has_listeners(Product)
    mug = shelf["mug"]
    product_stock_adjust(
        product_id=mug.pk, delta=2, reason=StockMovement.Reason.RESTOCK, note="", changed_by=None
    )
    mug.refresh_from_db()
    assert mug.stock == 5
    assert StockMovement.objects.filter(product=mug, delta=2, stock_after=5).exists()
