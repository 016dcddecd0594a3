"""What the storefront keeps per process (storefront/fragments.py KeptStore): bounded, oldest
first out, and never past an entry's expiry; the catalog's kept listings follow it."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.test.utils import override_settings

from storefront import fragments, listing
from storefront.fragments import KeptStore
from tests.factories import ProductFactory, UserFactory
from tests.storefront.sessions import signed_in_client


class _Clock:
    """time.monotonic for the modules under test, moved on by hand."""

    def __init__(self) -> None:
        self.offset = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.offset


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> _Clock:
    clock = _Clock()
    fake_time = SimpleNamespace(monotonic=clock.monotonic)
    monkeypatch.setattr(fragments, "time", fake_time)
    monkeypatch.setattr(listing, "time", fake_time)
    return clock


def test_an_entry_is_kept_for_its_seconds_only(clock: _Clock) -> None:
    store: KeptStore[str] = KeptStore(max_entries=4)
    store.put("a", "first", 10)
    store.put("never", "kept", 0)
    assert store.peek("a") == "first" and store.peek("never") is None
    clock.offset = 9.9
    assert store.peek("a") == "first"
    clock.offset = 10.0
    assert store.peek("a") is None


def test_the_least_recently_used_entry_goes_first() -> None:
    store: KeptStore[int] = KeptStore(max_entries=2)
    store.put("a", 1, 60)
    store.put("b", 2, 60)
    assert store.peek("a") == 1  # now "b" is the least recently used
    store.put("c", 3, 60)
    assert (store.peek("a"), store.peek("b"), store.peek("c")) == (1, None, 3)
    store.clear()
    assert store.peek("a") is None


@pytest.mark.django_db
@override_settings(CATALOG_CACHE_SECONDS=60)
def test_a_kept_catalog_listing_is_built_again_after_the_catalog_cache_seconds(
    clock: _Clock, django_assert_num_queries: Any
) -> None:
    browser: Client = signed_in_client(UserFactory(email="alice@example.com", points=5000))
    ProductFactory(name="Kettle", points_cost=800, stock=9)
    # the session with its user, categories with the catalog version, count, page
    with django_assert_num_queries(4):
        assert browser.get("/products/").status_code == 200
    clock.offset = 59
    with django_assert_num_queries(2):  # the session with its user, the live values: kept
        assert browser.get("/products/").status_code == 200
    clock.offset = 61
    with django_assert_num_queries(4):
        assert browser.get("/products/").status_code == 200
