"""Request ids for logs, and JSON errors for failures that happen outside DRF views."""

from __future__ import annotations

import io
import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

from shop.errors import ServiceUnavailable, error_body, is_driver_connection_error
from shop.logging import request_id_var

logger = logging.getLogger("shop.request")
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


class RequestIdMiddleware:
    """Takes X-Request-ID from the load balancer (or makes one), logs one line per request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
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
            response = JsonResponse(
                error_body("service_unavailable", ServiceUnavailable.default_detail), status=503
            )
            response["Retry-After"] = "5"
            return response
        return None


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
            body = meta["wsgi.input"].read(limit + 1)
            if len(body) > limit:
                return JsonResponse(
                    error_body("payload_too_large", f"The body is larger than {limit} bytes."), status=413
                )
            meta["CONTENT_LENGTH"] = str(len(body))
            request._stream = LimitedStream(io.BytesIO(body), len(body))  # type: ignore[assignment]
        return self.get_response(request)
