"""The authentication backend that enforces HR login lockouts (django-axes) on web logins only.

axes refuses to run without the request, because it counts failures per client address.
Logins with no request are not web logins (Django's test client, a shell, a management
command) and cannot be brute-forced over the network, so they are left to the next backend
instead of failing with an error.
"""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.http import HttpRequest


class LoginLockoutBackend(AxesStandaloneBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
