"""The client's IP address for login throttling, trusting X-Forwarded-For only as far as our proxies.

Each proxy we run appends the address it saw to X-Forwarded-For, so with N trusted proxies the
client is the N-th entry from the right; anything to its left was written by the client and is
ignored. With no trusted proxy (local runs) the header is ignored and REMOTE_ADDR is the client.
"""

from __future__ import annotations

import ipaddress

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
