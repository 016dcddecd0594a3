"""Every failure reaches the client as JSON in the spec's error shape."""

from __future__ import annotations

import pytest


def _assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["detail"], str) and body["detail"]
    return body


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/products/not-a-uuid/", "/api/nothing-here"])
def test_unknown_urls_are_json_404(api, path):
    _assert_error(api.get(path), 404, "not_found")


def test_malformed_json_is_400_validation_error(api):
    response = api.post(
        "/api/v1/orders/", data="{bad", content_type="application/json", HTTP_IDEMPOTENCY_KEY="k"
    )
    _assert_error(response, 400, "validation_error")


def test_form_encoded_body_is_415(api):
    response = api.post(
        "/api/v1/orders/",
        data="product_id=1",
        content_type="application/x-www-form-urlencoded",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    _assert_error(response, 415, "unsupported_media_type")


def test_json_array_body_is_400(api):
    response = api.post("/api/v1/orders/", data=[1, 2], format="json", HTTP_IDEMPOTENCY_KEY="k")
    _assert_error(response, 400, "validation_error")


def test_wrong_method_is_405(api):
    _assert_error(api.delete("/api/v1/me/"), 405, "method_not_allowed")


def test_oversized_body_is_400_not_500(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = api.post(
        "/api/v1/orders/",
        data='{"x": "' + "a" * 5000 + '"}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    _assert_error(response, 400, "validation_error")


@pytest.mark.parametrize("page_size", ["0", "-1", "abc", "101", "1000", "", "1.0"])
def test_bad_page_size_is_400(api, page_size):
    body = _assert_error(api.get(f"/api/v1/products/?page_size={page_size}"), 400, "validation_error")
    assert "page_size" in body["fields"]


def test_page_size_of_100_is_the_largest(api, product):
    assert api.get("/api/v1/products/?page_size=100").status_code == 200


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5"])
def test_malformed_page_is_400(api, product, page):
    body = _assert_error(api.get(f"/api/v1/products/?page={page}"), 400, "validation_error")
    assert "page" in body["fields"]


def test_page_past_the_end_is_404(api, product):
    _assert_error(api.get("/api/v1/products/?page=99"), 404, "not_found")


def test_responses_carry_a_request_id(api):
    response = api.get("/api/v1/me/", HTTP_X_REQUEST_ID="trace-123")
    assert response["X-Request-ID"] == "trace-123"


def test_made_request_ids_are_32_hex_digits_and_differ_in_forked_workers():
    """shop.http.middleware._new_request_id: the process's generator, reseeded in each forked
    worker, so two workers never hand out the same sequence."""
    import os
    import re

    from shop.http.middleware import _new_request_id

    made = {_new_request_id() for _ in range(1000)}
    assert len(made) == 1000 and all(re.fullmatch(r"[0-9a-f]{32}", i) for i in made)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: as a gunicorn worker forked from the arbiter
        os.write(write, _new_request_id().encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    os.close(read)
    os.close(write)
    assert re.fullmatch(r"[0-9a-f]{32}", child) and child != _new_request_id()
