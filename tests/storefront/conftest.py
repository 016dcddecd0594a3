"""Fixtures for the storefront's tests."""

from tests.admin.browser_support import browser, page  # noqa: F401  (fixtures for the browser tests)
