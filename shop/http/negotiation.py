"""DRF's content negotiation, answered at once for what API clients nearly always send."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

# Accept headers for which DRF's negotiation picks a JSON-first view's JSON renderer and answers
# "application/json" (an absent header counts as */*). Anything else, a ?format= or a format
# suffix goes through DRF's full negotiation, 406 included.
_JSON_ACCEPTS = frozenset({None, "*/*", "application/json"})
JSON = "application/json"


class JsonFirstNegotiation(DefaultContentNegotiation):
    """Skips parsing the Accept header when the answer is plain JSON either way.

    DRF parses and ranks the Accept header on every request, some tens of microseconds of a
    request the API otherwise answers in a few hundred (bench/RESULTS.md, "Read endpoints and
    the worker model"). The result is the same: tests/shop/test_negotiation.py compares both.
    """

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str] | Any:
        renderers = list(renderers)
        if (
            not format_suffix
            and renderers
            and renderers[0].media_type == JSON
            and request.META.get("HTTP_ACCEPT") in _JSON_ACCEPTS
            and (self.settings.URL_FORMAT_OVERRIDE or "format") not in request.query_params
        ):
            return renderers[0], JSON
        return super().select_renderer(request, renderers, format_suffix)
