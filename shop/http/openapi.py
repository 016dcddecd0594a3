"""OpenAPI additions: the shared error schema, the error responses every endpoint may send, and
the schema and docs pages with their errors in the API's JSON shape."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Documents the bearer JWT (Cognito, or the local issuer in development)."""

    target_class = "shop.access.authentication.BearerTokenAuthentication"
    match_subclasses = True  # the metered subclass the API runs with
    name = "cognitoJWT"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "An ID or access token from the AWSomeShop Cognito user pool.",
        }


ERROR_SCHEMA = {
    "type": "object",
    "required": ["code", "detail"],
    "properties": {
        "code": {"type": "string", "description": "Stable snake_case error code."},
        "detail": {"type": "string", "description": "One sentence a person can read."},
        "fields": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": "Per-field messages, for validation errors.",
        },
    },
}

_COMMON = {
    "default": "Any other error, in the same shape (e.g. 405 method_not_allowed, 415).",
    "400": "Validation error (`validation_error`).",
    "401": "No token (`not_authenticated`) or a bad one (`authentication_failed`).",
    "403": "Authenticated but not allowed (`permission_denied`), or a valid identity the company "
    "has not registered as an employee (`not_registered`).",
    "429": "Too many requests (`throttled`); see Retry-After.",
    "503": "A dependency is unavailable (`service_unavailable`); nothing was changed. Retry-After is set.",
}


def add_error_responses(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """Spectacular post-processing hook: document the error shape on every API operation."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query":
                    _no_empty_values(parameter.get("schema", {}))
            responses = operation.setdefault("responses", {})
            for status, description in _COMMON.items():
                responses.setdefault(
                    status, {"description": description, "content": {"application/json": {"schema": ref}}}
                )
            for status, response in responses.items():
                # Error responses a view documents by description only still have the shape.
                if status != "default" and int(status) >= 400 and not response.get("content"):
                    response["content"] = {"application/json": {"schema": ref}}
            if "{id}" in path or "get" in operations:
                responses.setdefault(
                    "404",
                    {
                        "description": "Unknown id, or a page past the end (`not_found`).",
                        "content": {"application/json": {"schema": ref}},
                    },
                )
    return result


def _no_empty_values(schema: dict[str, Any]) -> None:
    """Every API filter refuses an empty value (`?status=`, shop.http.filters.StrictFilterBackend):
    say so in the schema, so that clients and fuzzers know it."""
    if schema.get("type") == "string" and "enum" not in schema:
        schema.setdefault("minLength", 1)
    elif schema.get("type") == "array":
        schema.setdefault("minItems", 1)


# --- The schema and docs pages ------------------------------------------------------------------
# drf-spectacular's views answer errors in their own formats (the schema's YAML, the docs'
# HTML page) and echo `?version=` into a response header. These subclasses answer every error
# in the API's JSON shape and refuse what cannot be served.

# The schema has one version; a client may name it, or any short plain label, nothing that
# could leave the Content-Disposition header it is written into.
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")


class _JsonErrors:
    """Errors of these pages are rendered as JSON whatever renderer the page itself uses."""

    request: Any

    def handle_exception(self, exc: Exception) -> Response:
        response: Response = super().handle_exception(exc)  # type: ignore[misc]
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = "application/json"
        return response


class SchemaView(_JsonErrors, SpectacularAPIView):
    """`/api/schema/`: the OpenAPI document (YAML, or JSON by content negotiation)."""

    http_method_names = ["get", "head"]

    @extend_schema(exclude=True)  # as drf-spectacular's own view: the schema does not list itself
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        version = request.query_params.get("version")
        if version is not None and not _VERSION.fullmatch(version):
            raise ValidationError({"version": ["A version is 1-32 letters, digits, '.', '_' or '-'."]})
        lang = request.query_params.get("lang")
        if lang is not None and lang not in dict(settings.LANGUAGES):
            raise ValidationError({"lang": ["Not a language this schema is written in."]})
        response: Response = super().get(request, *args, **kwargs)
        return response


class DocsView(_JsonErrors, SpectacularSwaggerView):
    """`/api/docs/`: Swagger UI over the schema."""

    http_method_names = ["get", "head"]
