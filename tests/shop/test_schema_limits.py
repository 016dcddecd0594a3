"""The schema states the limits the code enforces (so clients and fuzzers can rely on it)."""

from __future__ import annotations

import re

import pytest

from orders.idempotency import is_valid_key
from tests.support.openapi import schema_dict


def _parameters(path: str, method: str = "get") -> dict[str, dict]:
    return {p["name"]: p for p in schema_dict()["paths"][path][method].get("parameters", [])}


@pytest.mark.parametrize("path", ["/api/v1/products/", "/api/v1/orders/", "/api/v1/points/transactions/"])
def test_pagination_bounds(path):
    params = _parameters(path)
    assert params["page_size"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 100}
    assert {"type": "integer", "minimum": 1} in params["page"]["schema"]["anyOf"]


def test_idempotency_key_is_required_with_the_codes_rule():
    key = _parameters("/api/v1/orders/", "post")["Idempotency-Key"]
    assert key["required"] is True
    schema = key["schema"]
    assert (schema["minLength"], schema["maxLength"]) == (1, 255)
    pattern = re.compile(schema["pattern"])
    for candidate in ["k", "x" * 255, "x" * 256, "a b~", "tab\tkey", "café", ""]:
        by_schema = bool(pattern.fullmatch(candidate)) and 1 <= len(candidate) <= 255
        assert by_schema == is_valid_key(candidate), candidate


def test_integer_fields_and_filters_are_integers():
    order_create = schema_dict()["components"]["schemas"]["OrderCreateRequest"]["properties"]
    assert order_create["quantity"] == {
        **order_create["quantity"],
        "type": "integer",
        "minimum": 1,
        "maximum": 10,
    }
    params = _parameters("/api/v1/products/")
    assert params["min_cost"]["schema"]["type"] == params["max_cost"]["schema"]["type"] == "integer"


@pytest.mark.parametrize(
    ("path", "name"),
    [("/api/v1/orders/", "status"), ("/api/v1/orders/", "until"), ("/api/v1/products/", "search")],
)
def test_filters_document_that_empty_is_refused(path, name):
    schema = _parameters(path)[name]["schema"]
    assert schema.get("minLength") == 1 or "enum" in schema


def test_every_api_operation_documents_its_errors():
    for path, operations in schema_dict()["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            responses = operation["responses"]
            for status in ("400", "401", "403", "503", "default"):
                assert status in responses, (method, path, status)
            for status, response in responses.items():
                if status != "default" and int(status) >= 400:
                    assert response["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/Error"
                    }, (method, path, status)
    order_responses = schema_dict()["paths"]["/api/v1/orders/"]["post"]["responses"]
    assert {"409", "422", "428", "503"} <= set(order_responses)
