"""One error family and the single handler that turns every failure into the spec's JSON shape
(the HR back office's own paths get HTML error pages in the admin's look instead).

Every API error body is `{"code": ..., "detail": ...}`, plus `"fields"` for validation errors.
Domain errors raise `ApplicationError` subclasses; DRF's and Django's own exceptions are
mapped here too, so that no client ever sees an HTML page or a stack trace.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import SuspiciousOperation
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from rest_framework import exceptions as drf
from rest_framework.response import Response

from shop.observability import metrics

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """A failure the client can act on; `code` is stable, `detail` is for people."""

    status_code = 400
    code = "bad_request"
    default_detail = "The request cannot be processed."

    def __init__(self, detail: str | None = None, *, extra: dict[str, Any] | None = None):
        self.detail = detail or self.default_detail
        self.extra = extra or {}
        super().__init__(self.detail)


class InsufficientPoints(ApplicationError):
    status_code = 409
    code = "insufficient_points"
    default_detail = "Your balance is too low for this order."


class OutOfStock(ApplicationError):
    status_code = 409
    code = "out_of_stock"
    default_detail = "There is not enough stock of this product for this order."


class ProductUnavailable(ApplicationError):
    status_code = 409
    code = "product_unavailable"
    default_detail = "This product is no longer available."


class IdempotencyInProgress(ApplicationError):
    status_code = 409
    code = "idempotency_request_in_progress"
    default_detail = "A request with this Idempotency-Key is still being processed; retry later."


class IdempotencyKeyReused(ApplicationError):
    status_code = 422
    code = "idempotency_key_reused"
    default_detail = "This Idempotency-Key was already used with a different request body."


class InvalidAmount(ApplicationError):
    status_code = 400
    code = "validation_error"
    default_detail = "The amount is not valid."


class NegativeBalance(ApplicationError):
    status_code = 409
    code = "insufficient_points"
    default_detail = "This change would make the balance negative."


class AlreadyRefunded(ApplicationError):
    status_code = 409
    code = "already_refunded"
    default_detail = "This order has already been refunded."


class OwnAccountRefused(ApplicationError):
    """Separation of duties: points never move to (or from) the acting person's own account."""

    status_code = 403
    code = "own_account"
    default_detail = (
        "Nobody grants, adjusts or refunds points on their own account; another HR user must do it. "
        "Nothing was changed."
    )


class NotRegistered(ApplicationError):
    status_code = 403
    code = "not_registered"
    default_detail = (
        "You signed in, but the company has not registered you as an employee of the shop. "
        "Ask HR to register you with the email address you sign in with."
    )


class ServiceUnavailable(ApplicationError):
    status_code = 503
    code = "service_unavailable"
    default_detail = "A service the API depends on is unavailable; nothing was changed. Retry later."


class OutcomeUnknown(ApplicationError):
    """The connection was lost while the database was committing: the write may or may not
    have happened, and only the database knows. Never reported as "nothing was changed"."""

    status_code = 503
    code = "outcome_unknown"
    default_detail = (
        "The connection to the database was lost while your request was being saved, so it may "
        "or may not have taken effect. Retry with the same Idempotency-Key (it is replayed if it "
        "was saved, and runs once if it was not), or look at your orders."
    )


class IdempotencyKeyRequired(ApplicationError):
    status_code = 428
    code = "idempotency_key_required"
    default_detail = (
        "Send an Idempotency-Key header (1-255 printable ASCII characters, new for each order) "
        "so that a retry after a lost answer cannot order twice."
    )


RETRY_AFTER_SECONDS = 5


def error_body(code: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "detail": detail, **extra}


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn DRF's nested error detail into {"field.sub": ["message", ...]}."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = "non_field_errors" if key == "non_field_errors" and not prefix else str(key)
            out.update(_flatten(value, f"{prefix}.{name}" if prefix else name))
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            out.setdefault(prefix or "non_field_errors", []).extend(str(i) for i in detail)
        else:
            for index, item in enumerate(detail):
                out.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
    else:
        out.setdefault(prefix or "non_field_errors", []).append(str(detail))
    return out


_DRF_CODES: list[tuple[type[drf.APIException], str]] = [
    (drf.NotAuthenticated, "not_authenticated"),
    (drf.AuthenticationFailed, "authentication_failed"),
    (drf.PermissionDenied, "permission_denied"),
    (drf.NotFound, "not_found"),
    (drf.MethodNotAllowed, "method_not_allowed"),
    (drf.NotAcceptable, "not_acceptable"),
    (drf.UnsupportedMediaType, "unsupported_media_type"),
    (drf.Throttled, "throttled"),
    (drf.ParseError, "validation_error"),
]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER: every exception becomes a JSON error in the spec's shape."""
    # Imported here: rest_framework.views imports the authentication classes, which import us.
    from rest_framework.views import set_rollback

    headers: dict[str, str] = {}
    if isinstance(exc, ApplicationError):
        body = error_body(exc.code, exc.detail, **exc.extra)
        status = exc.status_code
        if status == 503:
            headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    elif isinstance(exc, drf.ValidationError):
        fields = _flatten(exc.detail)
        body = error_body("validation_error", _validation_summary(fields), fields=fields)
        status = 400
    elif isinstance(exc, drf.APIException):
        code = next((c for cls, c in _DRF_CODES if isinstance(exc, cls)), "error")
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if isinstance(exc, drf.ParseError):
            detail = f"The request body is not valid JSON: {detail}"
        body = error_body(code, str(detail))
        status = exc.status_code
        wait = getattr(exc, "wait", None)
        if isinstance(exc, drf.Throttled) and wait is not None:
            headers["Retry-After"] = str(max(1, math.ceil(wait)))
    elif isinstance(exc, Http404):
        body, status = error_body("not_found", "Not found."), 404
    elif isinstance(exc, DjangoPermissionDenied):
        body = error_body("permission_denied", "You are not allowed to do this.")
        status = 403
    elif isinstance(exc, SuspiciousOperation):
        body, status = error_body("validation_error", "The request is malformed or too large."), 400
    elif isinstance(exc, (OperationalError, InterfaceError)) or is_driver_connection_error(exc):
        logger.warning("database unavailable: %s", exc)
        metrics.database_error(exc, kind="unavailable")
        body, status = error_body("service_unavailable", ServiceUnavailable.default_detail), 503
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    else:
        if isinstance(exc, DatabaseError):
            logger.exception("database error")
        else:
            logger.exception("unhandled error")
        body = error_body("server_error", "Something went wrong on our side; nothing was changed.")
        status = 500
    set_rollback()
    response = Response(body, status=status, headers=headers)
    if isinstance(exc, drf.APIException):
        auth_header = getattr(exc, "auth_header", None)
        if auth_header:
            response["WWW-Authenticate"] = auth_header
    return response


def is_driver_connection_error(exc: Exception) -> bool:
    """A driver's own connection error that escaped Django's wrapper (it happens when a cursor
    is closed on a dead connection): still an outage, still a 503."""
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        driver = getattr(conn, "Database", None)
        if driver is not None and isinstance(exc, (driver.OperationalError, driver.InterfaceError)):
            return True
    return False


def _validation_summary(fields: dict[str, list[str]]) -> str:
    if not fields:
        return "The request is not valid."
    name, messages = next(iter(fields.items()))
    more = "" if len(fields) == 1 else f" (and {len(fields) - 1} more field(s))"
    if name == "non_field_errors":
        return f"{messages[0]}{more}"
    return f"{name}: {messages[0]}{more}"


def _json_error(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse(error_body(code, detail), status=status)


# Paths a person's browser visits (the HR back office and its company sign-in): their errors
# are pages in the admin's look with a way back. Everything else is the API's JSON.
HTML_ERROR_PREFIXES = ("/admin/", "/oidc/")

# What an HR error page says when even the admin's context cannot be built (the database is down).
_BARE_ERROR_PAGE = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title} | AWSomeShop</title>'
    "</head><body><h1>{title}</h1><p>{detail}</p>"
    '<p><a href="/admin/">Back to AWSomeShop administration</a></p></body></html>'
)


def _is_back_office(request: HttpRequest) -> bool:
    return request.path_info.startswith(HTML_ERROR_PREFIXES)


def _back_office_error(request: HttpRequest, status: int, title: str, detail: str) -> HttpResponse:
    """The admin's own look, so HR keeps the header, the menu and a way back."""
    try:
        context: dict[str, Any] = {"title": title, "detail": detail, "status": status}
        if status != 500:
            # Builds the menu from the user's permissions: a database read, skipped after a crash.
            context = {**admin.site.each_context(request), **context}
        return render(request, "admin/hr/error.html", context, status=status)
    except Exception:
        logger.exception("could not render the back-office error page")
        return HttpResponse(_BARE_ERROR_PAGE.format(title=title, detail=detail), status=status)


# Django-level handlers for what never reaches a DRF view (unknown URLs, middleware failures).
def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_back_office(request):
        return _back_office_error(request, 400, "Bad request", "The request is malformed.")
    return _json_error(400, "validation_error", "The request is malformed.")


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_back_office(request):
        return _back_office_error(
            request,
            403,
            "Not allowed",
            "Your account may not do this. If your work needs it, ask an administrator for the permission.",
        )
    return _json_error(403, "permission_denied", "You are not allowed to do this.")


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_back_office(request):
        return _back_office_error(
            request, 404, "Page not found", "There is no such page, or what it showed no longer exists."
        )
    return _json_error(404, "not_found", "Not found.")


def handler500(request: HttpRequest) -> HttpResponse:
    if _is_back_office(request):
        return _back_office_error(
            request, 500, "Something went wrong", "Something went wrong on our side; nothing was changed."
        )
    return _json_error(500, "server_error", "Something went wrong on our side; nothing was changed.")
