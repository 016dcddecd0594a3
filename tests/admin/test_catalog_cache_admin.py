"""A catalog change made in the admin reaches the employees' cached product pages at once."""

from __future__ import annotations

from django.urls import reverse

from tests.factories import CategoryFactory, ProductFactory


def _page(api, query=""):
    response = api.get("/api/v1/products/" + query)
    assert response.status_code == 200, response.content
    return {p["name"]: p for p in response.json()["results"]}


def test_a_change_made_in_the_admin_invalidates_cached_pages(api, hr_client):
    mug = ProductFactory(name="Mug", points_cost=500, stock=3, category=CategoryFactory(slug="home"))
    assert _page(api)["Mug"]["points_cost"] == 500
    response = hr_client.post(
        reverse("admin:catalog_product_change", args=[mug.pk]),
        {
            "name": "Mug",
            "description": "",
            "category": str(mug.category_id),
            "points_cost": "450",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert _page(api)["Mug"]["points_cost"] == 450
    response = hr_client.post(
        reverse("admin:catalog_product_stock", args=[mug.pk]),
        {"change": "-3", "reason": "correction", "note": "Counted"},
    )
    assert response.status_code == 302
    assert _page(api, "?in_stock=false").keys() == {"Mug"}
