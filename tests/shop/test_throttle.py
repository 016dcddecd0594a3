"""Order placement rate limit: 429 `throttled` with Retry-After, per employee, in a shared cache."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.models import Order
from points.models import PointsAccount
from shop.db.cache import LockingDatabaseCache
from tests.factories import ProductFactory


@pytest.fixture
def limited(settings: Any) -> Any:
    settings.ORDER_RATE_LIMIT = "2/min"
    return settings


@pytest.fixture
def cheap_product(category: Any) -> Any:
    return ProductFactory(points_cost=10, stock=100, category=category)


def _order(client: Any, product: Any) -> Any:
    return client.post(
        "/api/v1/orders/",
        {"product_id": str(product.pk)},
        format="json",
        HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
    )


def _assert_throttled(response: Any) -> None:
    assert response.status_code == 429, response.content
    assert response.json()["code"] == "throttled"
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 60


def test_orders_over_the_limit_are_429_with_retry_after_and_not_placed(limited, api, employee, cheap_product):
    assert [_order(api, cheap_product).status_code for _ in range(2)] == [201, 201]
    _assert_throttled(_order(api, cheap_product))
    assert Order.objects.filter(user=employee).count() == 2
    assert PointsAccount.objects.get(user=employee).balance == 1000 - 20


def test_listing_and_reading_are_not_throttled(limited, api, cheap_product):
    for _ in range(2):
        _order(api, cheap_product)
    _assert_throttled(_order(api, cheap_product))
    for _ in range(5):
        assert api.get("/api/v1/orders/").status_code == 200
        assert api.get("/api/v1/me/").status_code == 200


def test_the_limit_is_per_employee(limited, api, cheap_product, make_user, client_for):
    for _ in range(2):
        _order(api, cheap_product)
    _assert_throttled(_order(api, cheap_product))
    colleague = client_for(make_user(points=100, cognito_sub="sub-colleague"))
    assert _order(colleague, cheap_product).status_code == 201


def test_the_next_window_allows_orders_again(limited, api, cheap_product, fixed_clock):
    for _ in range(2):
        assert _order(api, cheap_product).status_code == 201
    response = _order(api, cheap_product)
    _assert_throttled(response)
    assert int(response["Retry-After"]) == 30  # the clock stands mid-minute
    fixed_clock[0] += int(response["Retry-After"])
    assert _order(api, cheap_product).status_code == 201


def test_limit_off_when_rate_is_empty(settings, api, cheap_product):
    settings.ORDER_RATE_LIMIT = None
    assert {_order(api, cheap_product).status_code for _ in range(5)} == {201}


def test_database_cache_table_exists_after_migrate(db):
    assert "awsomeshop_cache" in connection.introspection.table_names()


def _window_key(user: Any, now: float) -> str:
    return f"throttle:order_place:{user.pk}:{int(now // 60)}"


def test_counts_in_the_database_cache_are_shared_by_every_process(
    limited, database_cache, api, employee, cheap_product, make_user, client_for, fixed_clock
):
    assert _order(api, cheap_product).status_code == 201
    # Another server process has its own cache object over the same table and sees the count.
    other_process = LockingDatabaseCache("awsomeshop_cache", {})
    assert other_process.get(_window_key(employee, fixed_clock[0])) == 1
    # And what another process counted limits this one.
    colleague = make_user(points=100, cognito_sub="sub-colleague-db")
    other_process.set(_window_key(colleague, fixed_clock[0]), 2, 120)
    _assert_throttled(_order(client_for(colleague), cheap_product))
    assert not Order.objects.filter(user=colleague).exists()


def _statements_on_the_cache_table(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "awsomeshop_cache" in q["sql"]]


def test_only_a_windows_first_order_creates_its_counter(
    limited, database_cache, api, cheap_product, fixed_clock
):
    with CaptureQueriesContext(connection) as first:
        assert _order(api, cheap_product).status_code == 201
    with CaptureQueriesContext(connection) as second:
        assert _order(api, cheap_product).status_code == 201
    # The first: incr misses (1), add (count for culling, select, insert: 3), incr (select, update: 2).
    assert len(_statements_on_the_cache_table(first)) == 6
    # Every later order in the window: incr alone, the locking select and the update.
    assert len(_statements_on_the_cache_table(second)) == 2


def test_counts_in_redis_are_shared_by_every_process(
    limited, redis_cache, api, employee, cheap_product, fixed_clock
):
    import redis

    from tests.shop.conftest import REDIS_URL

    raw = redis.Redis.from_url(REDIS_URL)
    assert [_order(api, cheap_product).status_code for _ in range(2)] == [201, 201]
    _assert_throttled(_order(api, cheap_product))
    raw_key = f"{redis_cache}:1:{_window_key(employee, fixed_clock[0])}"
    assert int(raw.get(raw_key)) == 3  # the refused request is counted too
    assert 0 < raw.ttl(raw_key) <= 120  # the counter expires; it never locks anyone out for good
    assert Order.objects.filter(user=employee).count() == 2


def test_redis_counts_an_order_in_one_round_trip(
    limited, redis_cache, api, employee, cheap_product, fixed_clock, monkeypatch
):
    # The database cache's counter costs a transaction of its own per order; in Redis the
    # increment and the expiry go in one script, so one packet out and one answer back.
    import redis

    from tests.shop.conftest import REDIS_URL

    sent: list[bytes] = []
    real_send = redis.connection.Connection.send_packed_command

    def counting_send(self: Any, command: Any, check_health: bool = True) -> None:
        sent.append(b"".join(command) if isinstance(command, list) else bytes(command))
        real_send(self, command, check_health)

    assert _order(api, cheap_product).status_code == 201  # connects the pool first
    monkeypatch.setattr(redis.connection.Connection, "send_packed_command", counting_send)
    assert _order(api, cheap_product).status_code == 201
    monkeypatch.undo()
    assert len(sent) == 1
    assert b"EVAL" in sent[0] and b"INCR" in sent[0] and b"EXPIRE" in sent[0]
    raw = redis.Redis.from_url(REDIS_URL)
    raw_key = f"{redis_cache}:1:{_window_key(employee, fixed_clock[0])}"
    assert int(raw.get(raw_key)) == 2
    assert 0 < raw.ttl(raw_key) <= 120


def test_a_redis_window_starts_from_a_counter_no_one_created(
    limited, redis_cache, api, employee, cheap_product, fixed_clock
):
    # INCR creates the window's counter; the next window is counted apart from the last.
    for _ in range(2):
        assert _order(api, cheap_product).status_code == 201
    _assert_throttled(_order(api, cheap_product))
    fixed_clock[0] += 60
    assert [_order(api, cheap_product).status_code for _ in range(3)] == [201, 201, 429]


def test_unreachable_redis_lets_orders_through(limited, api, cheap_product, caplog):
    from tests.support.cognito import free_port

    limited.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }
    assert _order(api, cheap_product).status_code == 201
    assert "order throttle cache unavailable" in caplog.text


@pytest.mark.parametrize(
    ("env", "backend"),
    [
        ({}, "shop.db.cache.LockingDatabaseCache"),
        ({"REDIS_URL": "redis://cache.internal:6379/0"}, "django.core.cache.backends.redis.RedisCache"),
    ],
    ids=["default-database", "redis-url"],
)
def test_production_settings_choose_the_shared_cache(env, backend):
    environment = {
        **{
            k: v
            for k, v in os.environ.items()
            if k not in {"REDIS_URL", "ORDER_RATE_LIMIT", "TRUSTED_PROXY_COUNT"}
        },
        "DJANGO_SETTINGS_MODULE": "awsomeshop.settings.production",
        "DJANGO_SECRET_KEY": "x" * 50,
        "DATABASE_URL": "sqlite:///:memory:",
        **env,
    }
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.CACHES['default']['BACKEND'], s.ORDER_RATE_LIMIT, s.TRUSTED_PROXY_COUNT)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    assert out == [backend, "30/min", "1"]


def test_production_redis_has_timeouts_and_the_auth_token_out_of_the_url():
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("REDIS_")},
        "DJANGO_SETTINGS_MODULE": "awsomeshop.settings.production",
        "DJANGO_SECRET_KEY": "x" * 50,
        "DATABASE_URL": "sqlite:///:memory:",
        "REDIS_URL": "rediss://cache.internal:6379/0",
        "REDIS_AUTH_TOKEN": "token-from-secrets-manager",
    }
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps(s.CACHES['default']))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True, timeout=60
    ).stdout
    import json

    cache = json.loads(out.strip().splitlines()[-1])
    assert cache["LOCATION"] == "rediss://cache.internal:6379/0"
    assert cache["OPTIONS"] == {
        "socket_connect_timeout": 1.0,
        "socket_timeout": 1.0,
        "password": "token-from-secrets-manager",
    }


# --- The circuit breaker around the cache -------------------------------------------------------


class _FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_breaker_opens_after_failures_in_a_row_and_a_probe_closes_it(monkeypatch, caplog):
    from shop.http import throttling

    counted: list[str] = []
    monkeypatch.setattr(throttling.metrics, "count", lambda name, *a, **k: counted.append(name))
    probe_answers: list[Exception | None] = [OSError("still stalled"), None]
    probed = threading.Event()

    def probe() -> None:
        probed.set()
        answer = probe_answers.pop(0)
        if answer is not None:
            raise answer

    clock = _FakeClock()
    breaker = throttling.CacheBreaker(probe, failures=3, open_seconds=10, clock=clock)
    breaker.failed()
    breaker.succeeded()  # a success in between: the count starts again
    for _ in range(2):
        breaker.failed()
    assert breaker.allow() and not breaker.is_open
    breaker.failed()
    assert breaker.is_open and counted == ["CacheCircuitOpened"]
    assert "circuit open" in caplog.text
    assert not breaker.allow()  # open: requests skip the cache
    clock.now += 10
    assert not breaker.allow()  # the probe runs in the background; this request does not wait
    assert probed.wait(5)
    _wait_for(lambda: not breaker._probing)
    assert breaker.is_open  # the probe failed: open for another period
    probed.clear()
    assert not breaker.allow()
    clock.now += 10
    assert not breaker.allow()
    assert probed.wait(5)
    _wait_for(lambda: len(counted) == 2)
    assert breaker.allow()
    assert counted == ["CacheCircuitOpened", "CacheCircuitClosed"]
    assert "circuit closed" in caplog.text


def _wait_for(condition: Any, seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def test_a_stalled_redis_is_asked_only_until_the_circuit_opens_then_again_once_it_answers(
    limited, redis_cache, api, cheap_product, monkeypatch
):
    """Orders pass while Redis is stalled, but only the first few wait on it; once it answers
    again the limit is enforced again, without any order having to try it first."""
    from shop.http import throttling
    from tests.shop.conftest import REDIS_URL
    from tests.support.tcp_proxy import TcpProxy

    redis_port = int(REDIS_URL.rsplit(":", 1)[1].split("/")[0])
    proxy = TcpProxy("127.0.0.1", redis_port)
    proxy.start()
    limited.ORDER_RATE_LIMIT = "1000/min"
    limited.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{proxy.port}/{REDIS_URL.rsplit('/', 1)[1]}",
            "KEY_PREFIX": redis_cache,
            "OPTIONS": {"socket_timeout": 0.2, "socket_connect_timeout": 0.2},
        }
    }
    monkeypatch.setattr(throttling.breaker, "_open_seconds", 0.3)
    asked: list[float] = []
    real_count = throttling._count_in_redis

    def counting(*args: Any, **kwargs: Any) -> int:
        asked.append(time.monotonic())
        return real_count(*args, **kwargs)

    monkeypatch.setattr(throttling, "_count_in_redis", counting)
    try:
        assert _order(api, cheap_product).status_code == 201
        proxy.stall()
        statuses = [_order(api, cheap_product).status_code for _ in range(8)]
        assert statuses == [201] * 8
        assert len(asked) == 1 + throttling.CIRCUIT_FAILURES  # then the circuit opened
        assert throttling.breaker.is_open
        proxy.resume()
        time.sleep(0.4)
        assert _order(api, cheap_product).status_code == 201  # starts the probe; skips the cache
        _wait_for(lambda: not throttling.breaker.is_open)
        before = len(asked)
        assert _order(api, cheap_product).status_code == 201
        assert len(asked) == before + 1  # counted in Redis again
    finally:
        proxy.stop()
