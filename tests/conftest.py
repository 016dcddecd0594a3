"""Fixtures shared by the whole suite: employees, products, and an API client that checks
every response against the OpenAPI schema."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from shop.auth.local_issuer import get_local_issuer
from shop.models import User
from tests.factories import CategoryFactory, ProductFactory, UserFactory
from tests.support import ledger_flush
from tests.support.openapi import assert_conforms

# Ledger rows cannot be deleted, not even by the flush after a transactional test: see there.
ledger_flush.install()

# The headless browser (`browser`, `page`) for every folder's browser tests: registered once
# here, because a session-scoped fixture imported into two folders' conftests would start a
# second Playwright inside the first one's event loop.
# The skipped tests, one line per reason (pyproject.toml reports failures and errors only).
pytest_plugins = ["tests.admin.browser_support", "tests.support.skip_summary"]


def pytest_report_header(config: pytest.Config) -> str:
    import os

    url = os.environ.get("DATABASE_URL", "sqlite:///:memory:")
    return f"database: {url.split('://', 1)[0]}"


class CheckedClient(APIClient):
    """An APIClient whose every response is validated against the schema."""

    def request(self, **kwargs: Any) -> Any:  # type: ignore[override]
        response = super().request(**kwargs)
        assert_conforms(response)
        return response


def token_for(user: User, **kwargs: Any) -> str:
    return get_local_issuer().issue(
        email=user.email, name=user.name, employee_id=user.employee_id or "", sub=user.cognito_sub, **kwargs
    )


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    def make(**kwargs: Any) -> User:
        return UserFactory(**kwargs)

    return make


@pytest.fixture
def employee(make_user: Callable[..., User]) -> User:
    return make_user(points=1000, cognito_sub="sub-employee")


@pytest.fixture
def client_for() -> Callable[[User], CheckedClient]:
    def make(user: User, **token_kwargs: Any) -> CheckedClient:
        client = CheckedClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user, **token_kwargs)}")
        return client

    return make


@pytest.fixture
def api(employee: User, client_for: Callable[[User], CheckedClient]) -> CheckedClient:
    return client_for(employee)


@pytest.fixture
def anon() -> CheckedClient:
    return CheckedClient()


@pytest.fixture
def category(db: None) -> Any:
    return CategoryFactory(name="Tech", slug="tech")


@pytest.fixture
def product(category: Any) -> Any:
    return ProductFactory(name="Earbuds", points_cost=300, stock=5, category=category)


@pytest.fixture
def vendor() -> str:
    return connection.vendor


FIGURES: list[str] = []


@pytest.fixture
def record_figure() -> Callable[[str], None]:
    """Measured figures (e.g. concurrency outcomes) printed at the end of the run."""
    return FIGURES.append


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if FIGURES:
        terminalreporter.section(f"measured figures ({connection.vendor})")
        for line in FIGURES:
            terminalreporter.write_line(line)


@pytest.fixture(autouse=True)
def _fresh_catalog_page_cache() -> None:
    # Product pages are cached per process; each test starts without any.
    from catalog.page_cache import page_cache_clear

    page_cache_clear()
    # So are the storefront catalog's listings and category choices (storefront.listing).
    from storefront.listing import listing_cache_clear

    listing_cache_clear()
    from storefront.views import catalog_listings_clear

    catalog_listings_clear()
    # The rate limiter's circuit breaker is per process too: each test starts with it closed.
    from shop.http.throttling import breaker

    breaker.reset()
