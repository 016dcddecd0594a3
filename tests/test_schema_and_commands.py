"""The OpenAPI schema and docs page, and the management commands the contract names."""

from __future__ import annotations

import io

import jwt
import pytest
from django.core.management import call_command
from openapi_spec_validator import validate
from PIL import Image

from catalog.models import Category, Product
from points.models import PointsAccount
from shop.auth.factory import get_verifier
from tests.support.openapi import schema_dict


def test_schema_is_valid_openapi_and_lists_every_endpoint():
    schema = schema_dict()
    validate(schema)
    assert set(schema["paths"]) >= {
        "/api/v1/me/",
        "/api/v1/points/transactions/",
        "/api/v1/categories/",
        "/api/v1/products/",
        "/api/v1/products/{id}/",
        "/api/v1/orders/",
        "/api/v1/orders/{id}/",
    }


def test_schema_and_docs_are_served_without_auth(client, db):
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


@pytest.mark.parametrize(
    ("path", "headers", "status", "code"),
    [
        # The version is echoed into Content-Disposition: CRLF there was a 500 (header injection).
        ("/api/schema/?version=%0d%0aX-Injected:1", {}, 400, "validation_error"),
        ("/api/schema/?version=%00", {}, 400, "validation_error"),
        ("/api/schema/?lang=%00", {}, 400, "validation_error"),
        ("/api/schema/?format=x", {}, 404, "not_found"),
        ("/api/docs/?format=x", {}, 404, "not_found"),
        ("/api/schema/", {"HTTP_ACCEPT": "text/csv"}, 406, "not_acceptable"),
        ("/api/schema/", {"HTTP_AUTHORIZATION": "Bearer not-a-token"}, 401, "authentication_failed"),
        ("/api/docs/", {"HTTP_AUTHORIZATION": "Bearer not-a-token"}, 401, "authentication_failed"),
    ],
)
def test_schema_and_docs_errors_are_json(client, db, path, headers, status, code):
    response = client.get(path, **headers)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == code
    assert "X-Injected" not in str(response.headers)


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
def test_schema_and_docs_refuse_other_methods_in_json(client, db, path):
    # OPTIONS on the docs page rendered DRF's metadata with the page's template: a 500.
    for method in ("options", "post", "delete"):
        response = getattr(client, method)(path)
        assert response.status_code == 405, method
        assert response.json()["code"] == "method_not_allowed"


def test_schema_names_a_plain_version_in_its_file_name(client, db):
    response = client.get("/api/schema/?version=1.0.0")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'inline; filename="AWSomeShop employee API (1.0.0).yaml"'


def test_issue_token_prints_only_a_verifiable_token(db):
    out = io.StringIO()
    call_command("issue_token", "--email", "dev@example.com", "--name", "Dev", stdout=out)
    token = out.getvalue().strip()
    assert "\n" not in token
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    claims = get_verifier().verify(token)
    assert claims.email == "dev@example.com" and claims.name == "Dev"


def test_seed_demo_twice_changes_nothing(db):
    call_command("seed_demo", stdout=io.StringIO())
    counts = (Category.objects.count(), Product.objects.count(), PointsAccount.objects.count())
    balances = list(PointsAccount.objects.order_by("pk").values_list("balance", flat=True))
    call_command("seed_demo", stdout=io.StringIO())
    assert counts == (Category.objects.count(), Product.objects.count(), PointsAccount.objects.count())
    assert balances == list(PointsAccount.objects.order_by("pk").values_list("balance", flat=True))
    assert counts[1] >= 10
    assert all(p.image for p in Product.objects.all())
    call_command("check_ledger", stdout=io.StringIO())


def test_seed_demo_gives_every_product_the_image_and_thumbnail_the_admin_shows(db):
    first = io.StringIO()
    call_command("seed_demo", stdout=first)
    # The first run says what it made, pictures included (it once said "0 thumbnails created").
    assert "13 products created (each product with its picture and thumbnail)" in first.getvalue()
    products = list(Product.objects.all())
    assert products and all(p.image and p.thumbnail for p in products)
    for product in products:
        with product.thumbnail.open("rb") as thumb:
            assert Image.open(thumb).size[0] <= 400
    # Demo data seeded before thumbnails existed gets them on the next run, nothing else changes.
    Product.objects.update(thumbnail="")
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert f"{len(products)} older products given a picture" in out.getvalue()
    assert all(p.thumbnail for p in Product.objects.all())
    assert Product.objects.count() == len(products)
