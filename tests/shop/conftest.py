"""Fixtures for the rate-limit tests: a stopped clock and the two shared caches."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import caches

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The order throttle's clock, stopped mid-minute so a test never straddles two windows.

    A list so a test can move it: ``fixed_clock[0] += 60``.
    """
    from shop.http.throttling import OrderPlacementThrottle

    now = [(time.time() // 60) * 60 + 30]
    monkeypatch.setattr(OrderPlacementThrottle, "timer", lambda self: now[0])
    return now


@pytest.fixture
def database_cache(settings: Any, db: None) -> None:
    """The default cache as production has it without REDIS_URL: the table, emptied first."""
    settings.CACHES = {
        "default": {"BACKEND": "shop.db.cache.LockingDatabaseCache", "LOCATION": "awsomeshop_cache"}
    }
    caches["default"].clear()


@pytest.fixture
def redis_cache(settings: Any) -> Iterator[str]:
    """The default cache on the Redis server under a key prefix of its own; yields the prefix.

    Only this test's keys are touched, and they are deleted afterwards.
    """
    import redis

    raw = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5)
    try:
        raw.ping()
    except redis.RedisError:
        pytest.skip(f"no Redis server reachable at {REDIS_URL} (set REDIS_URL)")
    prefix = f"awsomeshop-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    yield prefix
    for key in raw.scan_iter(f"{prefix}:*"):
        raw.delete(key)
