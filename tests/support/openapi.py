"""Checks every API response the tests see against the project's own OpenAPI schema."""

from __future__ import annotations

import json
import threading
from functools import lru_cache
from typing import Any

import jsonschema
from drf_spectacular.generators import SchemaGenerator
from openapi_core import OpenAPI
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from openapi_core.testing import MockRequest, MockResponse
from rest_framework.utils.encoders import JSONEncoder

from shop.http.openapi import ERROR_SCHEMA


@lru_cache(maxsize=1)
def schema_dict() -> dict[str, Any]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(json.dumps(schema, cls=JSONEncoder))


_lock = threading.Lock()


@lru_cache(maxsize=1)
def _openapi() -> OpenAPI:
    return OpenAPI.from_dict(schema_dict())


def openapi() -> OpenAPI:
    # The concurrency tests validate responses from many threads at once; building the schema
    # (drf-spectacular's extension loading) is not thread-safe, so the first build is guarded.
    with _lock:
        return _openapi()


def assert_conforms(response: Any) -> None:
    """Validate status and body against the schema for the request's path and method.

    Paths or methods the API does not have (a 404 for an unknown URL, a 405) have no
    operation in the schema; their bodies must still be the documented error shape.
    """
    request = response.wsgi_request
    if not (request.path.startswith("/api/v1/") or request.path.startswith("/health")):
        return
    content_type = response.get("Content-Type", "")
    assert content_type.startswith("application/json"), f"not JSON: {content_type}"
    mock_request = MockRequest("http://testserver", request.method.lower(), request.path)
    mock_response = MockResponse(
        response.content, status_code=response.status_code, content_type="application/json"
    )
    try:
        openapi().validate_response(mock_request, mock_response)
    except (PathNotFound, OperationNotFound):
        assert response.status_code in (404, 405), response.status_code
        jsonschema.validate(json.loads(response.content), ERROR_SCHEMA)
