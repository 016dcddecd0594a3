"""The storefront's response headers, and its outage page for a database that does not answer.

Security headers are set here rather than by a library because the policy is one fixed string
for the storefront's own pages only: the admin's theme and the API docs have their own needs
(django-csp would have to be exempted on both). Django's SecurityMiddleware already sends
``Referrer-Policy: same-origin``, ``X-Content-Type-Options`` and, in production, HSTS.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from shop.http.errors import is_driver_connection_error

logger = logging.getLogger(__name__)

# Paths that are not the storefront's: the API (JSON), the back office and its sign-in, health.
NOT_STOREFRONT = ("/api/", "/admin/", "/oidc/", "/health", "/static/", "/media/")

PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
    "payment=(), usb=(), interest-cohort=()"
)


def is_storefront_request(request: HttpRequest) -> bool:
    return not request.path_info.startswith(NOT_STOREFRONT)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def content_security_policy() -> str:
    """No inline script or style, nothing from elsewhere but the images' bucket and Cognito.

    Read from the settings on every response (the policy itself is built once per set of
    values), so a setting changed at run time, as tests do, is followed.
    """
    return _policy(
        getattr(settings, "AWS_STORAGE_BUCKET_NAME", "") or "",
        getattr(settings, "AWS_S3_ENDPOINT_URL", "") or "",
        getattr(settings, "AWS_S3_REGION_NAME", "") or settings.AWS_REGION,
        # Where sign-in and sign-out send the browser: Cognito's hosted UI (storefront/signin).
        tuple(
            _origin(getattr(settings, name, "") or "")
            for name in ("STOREFRONT_OIDC_AUTHORIZATION_ENDPOINT", "STOREFRONT_OIDC_LOGOUT_ENDPOINT")
        ),
    )


@functools.lru_cache(maxsize=8)
def _policy(bucket: str, endpoint: str, region: str, identity: tuple[str, ...]) -> str:
    images = ["'self'", "data:"]
    if bucket:
        images.append(_origin(endpoint) if endpoint else f"https://{bucket}.s3.{region}.amazonaws.com")
    # Signing in and out leaves through a form whose redirect goes to Cognito's hosted UI;
    # Chrome applies form-action to that redirect too.
    forms = ["'self'", *sorted({origin for origin in identity if origin})]
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {' '.join(images)}",
            "font-src 'self'",
            "connect-src 'self'",
            f"form-action {' '.join(forms)}",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "object-src 'none'",
        ]
    )


class StorefrontMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if is_storefront_request(request):
            response.setdefault("Content-Security-Policy", content_security_policy())
            response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
            # Pages show a person's balance and orders: no shared cache may keep them.
            response.setdefault("Cache-Control", "private, no-store")
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_storefront_request(request):
            return None
        if isinstance(exception, (OperationalError, InterfaceError)) or is_driver_connection_error(exception):
            logger.warning("storefront: database unavailable: %s", exception)
            detail = _(
                "The shop cannot reach its database just now. Nothing was changed; try again in a minute."
            )
            response = render(
                request, "storefront/unavailable.html", {"detail": detail, "outage": True}, status=503
            )
            response["Retry-After"] = "30"
            return response
        return None
