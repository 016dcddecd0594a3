"""Request ids for logs, request metrics, and JSON errors for failures outside DRF views."""

from __future__ import annotations

import io
import logging
import os
import random
import re
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.handlers.wsgi import LimitedStream
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.functional import SimpleLazyObject

from shop.http.errors import ServiceUnavailable, error_body, is_driver_connection_error
from shop.observability import metrics
from shop.observability.logging import request_id_var

logger = logging.getLogger("shop.request")
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


def _new_request_id() -> str:
    """32 hex digits, as a UUID's. An id only has to be unique, not unguessable, so it comes from
    the process's own generator rather than uuid4(), which asks the kernel (os.urandom) and so
    releases the interpreter lock to the worker's front threads mid-request: a sampling profile
    of a busy worker found 4 % of its application thread's samples there, for a call that
    takes 2 microseconds alone (bench/RESULTS.md, "The health check's round trip")."""
    return f"{_ids.getrandbits(128):032x}"


_ids = random.Random()
os.register_at_fork(after_in_child=_ids.seed)


class RequestIdMiddleware:
    """Takes X-Request-ID from the load balancer (or makes one), logs one line per request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_ID.match(incoming) else _new_request_id()
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            logger.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            return response
        finally:
            request_id_var.reset(token)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # A database outage outside a DRF view (for example in the admin's session lookup)
        # still answers 503 in the API's error shape instead of a 500 page.
        if isinstance(exception, (OperationalError, InterfaceError)) or is_driver_connection_error(exception):
            logger.warning("database unavailable: %s", exception)
            metrics.database_error(exception, kind="unavailable")
            response = JsonResponse(
                error_body("service_unavailable", ServiceUnavailable.default_detail), status=503
            )
            response["Retry-After"] = "5"
            return response
        return None


class MetricsMiddleware:
    """Request metrics (count, latency, time in the database) and order outcomes.

    Order outcomes are read from the response of ``POST /api/v1/orders/`` rather than inside
    the view: the code of a refusal is the one the client was told, replays are not counted
    twice, and the view stays free of instrumentation.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not metrics.enabled():
            return self.get_response(request)
        database_seconds = [0.0]

        def timed(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            except (OperationalError, InterfaceError) as exc:
                metrics.database_error(exc, kind="query")
                raise
            finally:
                database_seconds[0] += time.perf_counter() - started

        started = time.perf_counter()
        with connection.execute_wrapper(timed):
            response = self.get_response(request)
        elapsed_ms = (time.perf_counter() - started) * 1000
        route = _route_of(request)
        status_class = f"{response.status_code // 100}xx"
        metrics.count("Requests", Route=route, StatusClass=status_class)
        metrics.observe("RequestLatency", elapsed_ms, Route=route, StatusClass=status_class)
        metrics.observe("DatabaseTime", database_seconds[0] * 1000)
        if response.status_code >= 500:
            # One series without dimensions, so the error-rate alarm needs no search expression.
            metrics.count("ServerErrors")
        match = request.resolver_match
        if request.method == "POST" and match is not None and match.url_name == "orders":
            _count_order_outcome(response)
        return response


def _route_of(request: HttpRequest) -> str:
    # URL patterns, never paths: bounded in number and free of ids. The admin's many screens
    # are one route; it is not what the metrics watch.
    match = request.resolver_match
    if match is None:
        return "unmatched"
    route = match.route or "unmatched"
    return "admin" if route.startswith("admin/") else route


def _count_order_outcome(response: HttpResponse) -> None:
    if response.get("Idempotent-Replayed") == "true":
        return
    if response.status_code == 201:
        metrics.count("OrderPlaced")
        return
    data = getattr(response, "data", None)
    code = data.get("code") if isinstance(data, dict) else None
    metrics.count("OrderRefused", Code=code if isinstance(code, str) else f"http_{response.status_code}")


class ChunkedBodyMiddleware:
    """Reads a `Transfer-Encoding: chunked` body, which Django alone would take as empty.

    Django sizes the body from Content-Length, which a chunked request does not send, so an
    order streamed in chunks was read as `{}` and refused for a missing product. gunicorn
    decodes the chunks and marks the input as terminated; the body is read here up to
    Django's upload limit (413 beyond it). A server that cannot say where the body ends gets
    411: the client should send Content-Length.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        if "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower() and not meta.get("CONTENT_LENGTH"):
            if not meta.get("wsgi.input_terminated"):
                return JsonResponse(
                    error_body("length_required", "Send the body with a Content-Length header."), status=411
                )
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2**31
            try:
                body = meta["wsgi.input"].read(limit + 1)
            except Exception:  # noqa: BLE001 - the server's decoder refusing the chunks (its own error types)
                # Malformed chunked framing (gunicorn's InvalidChunkSize and kin) or a connection
                # that broke mid-body: the client's fault, answered like any malformed request.
                # Under gunicorn.conf.py's worker the body is read before Django, so this is the
                # path of other servers (runserver, a different worker class).
                return JsonResponse(
                    error_body("validation_error", "The request body is malformed; nothing was changed."),
                    status=400,
                )
            if len(body) > limit:
                return JsonResponse(
                    error_body("payload_too_large", f"The body is larger than {limit} bytes."), status=413
                )
            meta["CONTENT_LENGTH"] = str(len(body))
            request._stream = LimitedStream(io.BytesIO(body), len(body))  # type: ignore[assignment]
        return self.get_response(request)


# The employee API: token-authenticated DRF views only. They read no session, no Django user
# and no messages, so the middleware that provides those (for the admin and HR's sign-in)
# is skipped there: a session store, a messages store with its cookie signer and a lazy user
# built and thrown away on every API request were a measurable part of a cheap request
# (bench/RESULTS.md, "Read endpoints and the worker model"). CSRF protection, security headers,
# host validation, request ids, metrics and the access log apply to API requests unchanged.
API_PATH_PREFIX = "/api/v1/"


def is_api_request(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PATH_PREFIX)


class _NotForApi:
    """Runs the middleware it is mixed into for every request except the employee API's."""

    get_response: Callable[[HttpRequest], Any]

    def __call__(self, request: HttpRequest) -> Any:
        if is_api_request(request):
            return self.get_response(request)
        return super().__call__(request)  # type: ignore[misc]


class BrowserSessionMiddleware(_NotForApi, SessionMiddleware):
    """Django's session middleware, for everything but the employee API."""


# The session Django's get_user is reading, while it runs: an authentication backend can take
# the user the session engine read along with the session (awsomeshop/sessions.py) instead of
# asking the database again. A context variable because get_user hands backends only the id.
_reading_session: ContextVar[Any] = ContextVar("reading_session", default=None)


def preloaded_user(user_id: object) -> Any:
    """The user with `user_id` as read along with the current request's session, or None.

    For an authentication backend's get_user: None (outside get_user, with another engine, or
    when the session's data no longer names that user) means "look the user up yourself".
    """
    find = getattr(_reading_session.get(), "preloaded_user", None)
    return find(user_id) if find is not None else None


def _session_user(request: HttpRequest) -> Any:
    token = _reading_session.set(request.session)
    try:
        return get_user(request)  # Django's, with its session-hash and backend checks
    finally:
        _reading_session.reset(token)


class BrowserAuthenticationMiddleware(_NotForApi, AuthenticationMiddleware):
    """Django's request.user (from the session), for everything but the employee API, whose
    user comes from the bearer token (shop.access.authentication)."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _session_user(request))  # type: ignore[assignment]


class BrowserMessageMiddleware(_NotForApi, MessageMiddleware):
    """Django's messages (the admin's notices), for everything but the employee API."""
