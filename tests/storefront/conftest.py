"""Fixtures for the storefront's tests: a signed-in employee's session, a real gunicorn serving
the storefront (the headless Chromium is the suite's, tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from shop.models import User
from tests.support.gunicorn import NO_SHEDDING, Gunicorn, database_url, start_gunicorn
from tests.support.storefront_session import (  # noqa: F401  (the backend: one constant, there)
    STOREFRONT_SIGN_IN_BACKEND,
    StorefrontSession,
    storefront_session_for,
)


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
    server = start_gunicorn({"DATABASE_URL": url, "POINTS_EXPIRY_MONTHS": "1", **NO_SHEDDING}, log, workers=2)
    yield server
    server.stop()
