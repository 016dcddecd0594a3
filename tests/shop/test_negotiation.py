"""The API's content negotiation gives what DRF's gives, skipping the Accept parsing when the
answer is plain JSON anyway."""

from __future__ import annotations

from unittest import mock

import pytest
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer, TemplateHTMLRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from shop.http.negotiation import JsonFirstNegotiation

ACCEPTS = [
    None,
    "*/*",
    "application/json",
    "application/*",
    "application/json; indent=4",
    "text/html",
    "text/html, application/json;q=0.9",
    "application/xml",
    "",
]
RENDERER_SETS = [
    [JSONRenderer()],
    [JSONRenderer(), BrowsableAPIRenderer()],
    [TemplateHTMLRenderer(), JSONRenderer()],
]


def _outcome(negotiation, accept, renderers, query="", suffix=None):
    extra = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(APIRequestFactory().get("/api/v1/me/" + query, **extra))
    try:
        renderer, media_type = negotiation.select_renderer(request, renderers, suffix)
    except Exception as exc:  # the refusal is part of what is compared
        return type(exc).__name__
    return type(renderer).__name__, media_type


@pytest.mark.parametrize("renderers", RENDERER_SETS, ids=["json", "json+browsable", "html+json"])
@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize(
    ("query", "suffix"), [("", None), ("?format=json", None), ("", "json"), ("?format=xml", None)]
)
def test_the_same_answer_as_drf(renderers, accept, query, suffix):
    ours = _outcome(JsonFirstNegotiation(), accept, renderers, query, suffix)
    assert ours == _outcome(DefaultContentNegotiation(), accept, renderers, query, suffix)


@pytest.mark.parametrize("accept", [None, "*/*", "application/json"])
def test_plain_json_requests_skip_the_accept_parsing(accept):
    with mock.patch.object(
        DefaultContentNegotiation, "select_renderer", side_effect=AssertionError("parsed")
    ):
        assert _outcome(JsonFirstNegotiation(), accept, [JSONRenderer()]) == (
            "JSONRenderer",
            "application/json",
        )


def test_the_api_uses_it_and_still_refuses_what_it_cannot_write(api):
    assert api.get("/api/v1/me/").status_code == 200
    refused = api.get("/api/v1/me/", HTTP_ACCEPT="application/xml")
    assert refused.status_code == 406
    assert refused.json()["code"] == "not_acceptable"
