"""A signed-in storefront session made directly in the session store, for tests and benchmarks
that need an employee signed in without going through the sign-in pages."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.utils.crypto import get_random_string

from shop.models import User

# The authentication backend a storefront sign-in records in the session. Django signs a
# session's user in again through this backend on every request, so it must be one the
# settings list: the storefront's own sign-in backend.
STOREFRONT_SIGN_IN_BACKEND = "storefront.signin.backends.StorefrontSignInBackend"


@dataclass(frozen=True)
class StorefrontSession:
    """A signed-in session, as its cookie: for a browser, a Lighthouse header or a load tool."""

    key: str
    cookie_name: str
    # The CSRF cookie a browser holds from its first page on (Django sets it with the first form).
    csrf_secret: str = ""

    @property
    def header(self) -> str:
        """The value of a ``Cookie`` request header carrying the session."""
        return f"{self.cookie_name}={self.key}"

    @property
    def browser_header(self) -> str:
        """The ``Cookie`` header a signed-in browser sends after its first page: the session and
        the CSRF cookie. Without the latter every page makes and sets a new CSRF secret, which
        no browser asks for more than once (load tools and Lighthouse use this one)."""
        return f"{self.header}; {settings.CSRF_COOKIE_NAME}={self.csrf_secret}"

    def playwright_cookie(self, url: str) -> dict[str, Any]:
        return {"name": self.cookie_name, "value": self.key, "url": url}


def storefront_session_for(user: User) -> StorefrontSession:
    """A session exactly as a completed sign-in leaves it (user, backend, password hash)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = STOREFRONT_SIGN_IN_BACKEND
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return StorefrontSession(
        key=store.session_key or "",
        cookie_name=settings.SESSION_COOKIE_NAME,
        csrf_secret=get_random_string(CSRF_SECRET_LENGTH, allowed_chars=CSRF_ALLOWED_CHARS),
    )
