"""Who is trying to log in, as django-axes counts it: the client's IP and the normalised username.

Each proxy we run appends the address it saw to X-Forwarded-For, so with N trusted proxies the
client is the N-th entry from the right; anything to its left was written by the client and is
ignored. With no trusted proxy (local runs) the header is ignored and REMOTE_ADDR is the client.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings
from django.http import HttpRequest


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    remote = _valid(str(request.META.get("REMOTE_ADDR", "")))
    count: int = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [
        part for part in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",") if part.strip()
    ]
    if len(forwarded) < count:
        # Fewer entries than proxies: the request did not come through all of them (e.g. a
        # health check straight to the container), so only the socket address is known.
        return remote
    return _valid(forwarded[-count]) or remote


def login_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """The username a login attempt is counted under, lower-cased like the stored emails.

    Without this, "HR@Example.com" and "hr@example.com" would be counted apart, and each
    spelling would get its own allowance of failures against the same account.
    """
    field: str = settings.AXES_USERNAME_FORM_FIELD
    raw = (credentials or {}).get(field)
    if raw is None:
        raw = request.POST.get(field)
    return str(raw).strip().lower() if raw is not None else None
