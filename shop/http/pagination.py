"""Page-number pagination as the spec sets it: ?page= and ?page_size= (20 by default, 100 at most).

Out-of-range values are 400s, and the schema says exactly what is accepted, so that a client
generated from it (or a fuzzer) never meets a rule it could not know."""

from __future__ import annotations

from typing import Any

from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError({"page_size": ["Must be a whole number from 1 to 100."]})
        return int(raw)

    def get_page_number(self, request: Request, paginator: Any) -> Any:
        raw = request.query_params.get(self.page_query_param, "1")
        if raw == "last" or (raw.isascii() and raw.isdigit() and int(raw) >= 1):
            return raw
        # A malformed page number is the client's mistake (400); a page past the end is a 404.
        raise ValidationError({"page": ["Must be a whole number from 1."]})

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "A page number from 1, or `last`; a page past the end is a 404.",
                "schema": {
                    "anyOf": [{"type": "integer", "minimum": 1}, {"type": "string", "enum": ["last"]}]
                },
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Results per page, 1 to {self.max_page_size} ({self.page_size} by default).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        # DRF describes next/previous with OpenAPI 3.0's `nullable`; the schema is 3.1.
        return {
            "type": "object",
            "required": ["count", "next", "previous", "results"],
            "properties": {
                "count": {"type": "integer", "example": 123},
                "next": {"type": ["string", "null"], "format": "uri"},
                "previous": {"type": ["string", "null"], "format": "uri"},
                "results": schema,
            },
        }
