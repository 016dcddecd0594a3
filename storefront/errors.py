"""Error pages: the storefront's look for its own pages; the API's JSON and the back office's
pages for theirs (shop.http.errors)."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views.csrf import csrf_failure as django_csrf_failure

from shop.http import errors as shared
from storefront.middleware import is_storefront_request

logger = logging.getLogger(__name__)


# What an error page says when even the storefront's template cannot be rendered.
_BARE_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title></head>'
    '<body><main><h1>{title}</h1><p>{detail}</p><p><a href="/">AWSomeShop</a></p></main></body></html>'
)


def _page(request: HttpRequest, status: int, title: str, detail: str) -> HttpResponse:
    # The 500 page must not touch the database (it may be why we are here): no user in it.
    context = {"title": title, "detail": detail, "status": status, "outage": status >= 500}
    try:
        return render(request, "storefront/error.html", context, status=status)
    except Exception:
        # An error page must not become a 500 itself (a missing static manifest, a template
        # error): the same words, without the look.
        logger.exception("could not render the storefront's error page")
        return HttpResponse(_BARE_PAGE.format(title=escape(title), detail=escape(detail)), status=status)


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if not is_storefront_request(request):
        return shared.handler400(request, exception)
    return _page(
        request, 400, _("Bad request"), _("The request could not be understood. Go back and try again.")
    )


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if not is_storefront_request(request):
        return shared.handler403(request, exception)
    return _page(request, 403, _("Not allowed"), _("You cannot open this page with your account."))


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if not is_storefront_request(request):
        return shared.handler404(request, exception)
    return _page(
        request,
        404,
        _("Page not found"),
        _("There is no such page, or what it showed is no longer available."),
    )


def handler500(request: HttpRequest) -> HttpResponse:
    if not is_storefront_request(request):
        return shared.handler500(request)
    return _page(
        request, 500, _("Something went wrong"), _("Something went wrong on our side. Nothing was changed.")
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without its CSRF token (an expired page, cookies off): say what to do."""
    if not is_storefront_request(request):
        return django_csrf_failure(request, reason)
    return _page(
        request,
        403,
        _("This form has expired"),
        _("Go back, reload the page and send the form again. Nothing was changed."),
    )
