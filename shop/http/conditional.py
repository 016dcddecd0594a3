"""JSON responses with an ETag, answered with 304 Not Modified when the client already has them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.http import HttpResponse
from django.utils.http import parse_etags
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

_renderer = JSONRenderer()


@dataclass(frozen=True)
class RenderedJson:
    """A body exactly as DRF's JSON renderer writes it, and the strong ETag of its bytes."""

    body: bytes
    etag: str


def json_render(data: Any) -> RenderedJson:
    body = _renderer.render(data)
    return RenderedJson(body, f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"')


def json_with_etag(request: Request, data: Any) -> HttpResponse:
    return rendered_response(request, json_render(data))


def rendered_response(request: Request, rendered: RenderedJson) -> HttpResponse:
    """The rendered body with its ETag, or 304 with no body when the client has those bytes.

    Cache-Control tells clients to revalidate every time (stock and balances move), which
    costs them a 304 and no body when nothing changed.
    """
    if rendered.etag in parse_etags(request.headers.get("If-None-Match", "")):
        response = HttpResponse(status=304, content_type="application/json")
    else:
        response = HttpResponse(rendered.body, content_type="application/json")
    response["ETag"] = rendered.etag
    response["Cache-Control"] = "private, no-cache"
    return response
