"""Fixtures for the storefront's tests: a signed-in employee's session, a real gunicorn serving
the storefront, and the headless Chromium of the admin's browser tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.db import connection

from shop.models import User
from tests.admin.browser_support import browser  # noqa: F401  (the session's Chromium)
from tests.support.gunicorn import Gunicorn, database_url, start_gunicorn

# The authentication backend a storefront sign-in records in the session. Django signs a
# session's user in again through this backend on every request, so it must be one the
# settings list. The one place to change when the storefront's own sign-in backend lands.
STOREFRONT_SIGN_IN_BACKEND = "shop.admin_sign_in.backends.PasswordLoginBackend"


@dataclass(frozen=True)
class StorefrontSession:
    """A signed-in session, as its cookie: for a browser, a Lighthouse header or a load tool."""

    key: str
    cookie_name: str

    @property
    def header(self) -> str:
        return f"{self.cookie_name}={self.key}"

    def playwright_cookie(self, url: str) -> dict[str, Any]:
        return {"name": self.cookie_name, "value": self.key, "url": url}


def storefront_session_for(user: User) -> StorefrontSession:
    """A session exactly as a completed sign-in leaves it (user, backend, password hash)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = STOREFRONT_SIGN_IN_BACKEND
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return StorefrontSession(key=store.session_key or "", cookie_name=settings.SESSION_COOKIE_NAME)


@pytest.fixture
def storefront_session(db: None) -> Callable[[User], StorefrontSession]:
    """``storefront_session(user)``: a session signed in as ``user``, saved in the database."""
    return storefront_session_for


@pytest.fixture(scope="session")
def storefront_server(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gunicorn]:
    """gunicorn (two workers, the image's configuration) on the test database.

    The server is another process, so it sees committed rows only: its tests are transactional.
    In-memory SQLite cannot be shared with another process; these tests run on MariaDB and
    PostgreSQL. Points expire after a month here so that the home page's "expiring soon" notice
    can be shown (the default, 0, never expires anything).
    """
    if connection.vendor == "sqlite":
        pytest.skip("gunicorn is another process: it needs MariaDB or PostgreSQL, not in-memory SQLite")
    with django_db_blocker.unblock():
        url = database_url()
    log: Path = tmp_path_factory.mktemp("storefront-gunicorn") / "server.log"
    server = start_gunicorn({"DATABASE_URL": url, "POINTS_EXPIRY_MONTHS": "1"}, log, workers=2)
    yield server
    server.stop()
