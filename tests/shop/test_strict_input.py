"""Strict input: nesting depth, JSON integer types, empty filter values, chunked bodies."""

from __future__ import annotations

import io
import json

import pytest

from orders.models import Order
from shop.http.parsers import JSON_MAX_DEPTH, json_depth


def _post(api, raw: str | bytes, **extra):
    return api.post(
        "/api/v1/orders/", data=raw, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k", **extra
    )


@pytest.mark.parametrize("depth", [JSON_MAX_DEPTH + 1, 1_000, 100_000])
def test_deeply_nested_json_is_400_not_500(api, depth):
    response = _post(api, "[" * depth + "]" * depth)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "nested deeper" in response.json()["detail"]


def test_nesting_inside_strings_does_not_count(api, product):
    body = {"product_id": str(product.pk), "note": "[{" * 500}
    response = _post(api, json.dumps(body))
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("raw", "depth"),
    [(b"{}", 1), (b'{"a": [1, {"b": []}]}', 4), (b'"[[[["', 0), (b'["\\"[", ["]"]]', 2), (b"7", 0)],
)
def test_json_depth_counts_only_structure(raw, depth):
    assert json_depth(raw) == depth


@pytest.mark.parametrize(
    "query",
    [
        "/api/v1/orders/?status=",
        "/api/v1/orders/?until=",
        "/api/v1/orders/?status=&until=",
        "/api/v1/points/transactions/?type=",
        "/api/v1/products/?category=",
        "/api/v1/products/?min_cost=",
        "/api/v1/products/?in_stock=",
        "/api/v1/products/?search=",
    ],
)
def test_empty_filter_values_are_400(api, query):
    response = api.get(query)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


@pytest.mark.parametrize("value", ["1.0", "1e3", "+5", " 5", "-1", "2147483648", "٣"])
def test_numeric_filters_take_whole_numbers_only(api, value):
    response = api.get("/api/v1/products/", {"min_cost": value})
    assert response.status_code == 400
    assert "min_cost" in response.json()["fields"]


def test_numeric_filters_still_filter(api, product):
    assert api.get("/api/v1/products/", {"min_cost": "300"}).json()["count"] == 1
    assert api.get("/api/v1/products/", {"min_cost": "301"}).json()["count"] == 0


def _chunked(body: bytes) -> dict[str, object]:
    """The environ gunicorn builds for a chunked request: decoded input, no Content-Length."""
    return {
        "CONTENT_LENGTH": "",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": True,
    }


def test_a_chunked_body_is_read(api, product):
    """gunicorn decodes chunks and sends no Content-Length; Django alone read that as empty."""
    body = json.dumps({"product_id": str(product.pk)}).encode()
    response = _post(api, body, **_chunked(body))
    assert response.status_code == 201, response.json()
    assert Order.objects.count() == 1


def test_a_chunked_body_the_server_cannot_delimit_is_411(api, product):
    body = json.dumps({"product_id": str(product.pk)}).encode()
    response = _post(api, body, CONTENT_LENGTH="", HTTP_TRANSFER_ENCODING="chunked")
    assert response.status_code == 411
    assert response.json()["code"] == "length_required"
    assert Order.objects.count() == 0


def test_a_chunked_body_over_the_limit_is_413(api, product, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    body = json.dumps({"product_id": str(product.pk), "pad": "x" * 200}).encode()
    response = _post(api, body, **_chunked(body))
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


@pytest.mark.parametrize(
    "query",
    [
        "/api/v1/products/?in_stock=TRUE",
        "/api/v1/products/?in_stock=%20true",
        "/api/v1/orders/?since=%202026-01-01",
        "/api/v1/products/?search=" + "x" * 201,
    ],
)
def test_filter_values_are_taken_exactly_as_the_schema_says(api, query):
    response = api.get(query)
    assert response.status_code == 400


class _BrokenChunks(io.BytesIO):
    """gunicorn's decoder meeting a bad chunk size as the body is read (its InvalidChunkSize)."""

    def read(self, size: int | None = -1) -> bytes:
        from gunicorn.http.errors import InvalidChunkSize

        raise InvalidChunkSize(b"zz")


def test_a_malformed_chunked_body_is_400_not_500(api, product):
    """Under a server that leaves chunk decoding to the body read (the case of runserver or a
    plain gunicorn worker; the project's worker reads bodies before Django, see
    tests/shop/test_gunicorn_front.py)."""
    response = _post(api, b"", **{**_chunked(b""), "wsgi.input": _BrokenChunks()})
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert Order.objects.count() == 0
