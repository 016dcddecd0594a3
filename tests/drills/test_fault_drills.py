"""Fault drills: the production settings under gunicorn, talking to MariaDB or PostgreSQL
through a proxy that refuses, stalls, or cuts the connection right after a COMMIT.

Each drill asserts what clients are told (JSON, the right code, Retry-After, in bounded time)
and ends with the money invariants. The figures (time to 503, recovery time, counts) are
printed in the run's "measured figures" section; bench/RESULTS.md keeps a copy.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from django.db import connection

from orders.models import IdempotencyRecord, Order
from points.models import PointsAccount
from tests.drills.invariants import assert_money_invariants
from tests.factories import ProductFactory, UserFactory
from tests.support.cognito import CLIENT_ID, POOL_ID, JwksServer, SigningKey, cognito_claims, issuer_for, sign
from tests.support.gunicorn import Gunicorn, database_url, start_gunicorn
from tests.support.markers import requires_server_db
from tests.support.tcp_proxy import TcpProxy, proxy_to_test_database

pytestmark = [requires_server_db, pytest.mark.django_db(transaction=True)]

# The promise under test: a database fault is a JSON 503 within this many seconds (the default
# DB_CONNECT_TIMEOUT + DB_READ_TIMEOUT is 8), never a worker killed at gunicorn's 30 s.
ANSWER_WITHIN = 10.0


@pytest.fixture(scope="module")
def proxy(django_db_setup: None, django_db_blocker: Any) -> Iterator[TcpProxy]:
    proxy = proxy_to_test_database()
    yield proxy
    proxy.stop()


# Production verifies Cognito tokens only (it fails closed without a pool), serves one host
# name and sits behind a TLS-terminating load balancer: the drills sign tokens with a key served
# from a local JWKS endpoint and send the host and X-Forwarded-Proto the ALB would.
HOST = "shop.drills.test"
SIGNING_KEY = SigningKey(kid="drills-key")


@pytest.fixture(scope="module")
def jwks() -> Iterator[JwksServer]:
    server = JwksServer()
    server.keys.append(SIGNING_KEY)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def server(proxy: TcpProxy, jwks: JwksServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gunicorn]:
    """The image's configuration: production settings, persistent connections, two workers."""
    env = {
        "DJANGO_SETTINGS_MODULE": "awsomeshop.settings.production",
        "DJANGO_SECRET_KEY": "fault-drills-only",
        "DATABASE_URL": database_url("127.0.0.1", proxy.port),
        "COGNITO_USER_POOL_ID": POOL_ID,
        "COGNITO_CLIENT_ID": CLIENT_ID,
        "COGNITO_JWKS_URL": jwks.url,
        "COGNITO_ISSUER": issuer_for(POOL_ID),
        "APP_DOMAIN": HOST,
        "ORDER_RATE_LIMIT": "100000/min",
        "STATIC_ROOT": str(tmp_path_factory.mktemp("static")),
        "LOG_LEVEL": "WARNING",
    }
    server = start_gunicorn(env, tmp_path_factory.mktemp("drills") / "gunicorn.log", workers=2)
    yield server
    server.stop()
    assert "WORKER TIMEOUT" not in server.log.read_text()


class Shop:
    """An employee with points, a product, and the calls a client makes."""

    def __init__(self, server: Gunicorn):
        self.server = server
        self.user = UserFactory(points=1000, cognito_sub=f"drill-{uuid.uuid4().hex[:8]}")
        self.product = ProductFactory(points_cost=100, stock=5)
        self.initial_stock = {self.product.pk: 5}
        token = sign(cognito_claims(sub=self.user.cognito_sub, email=self.user.email), SIGNING_KEY)
        self.auth = {"Authorization": f"Bearer {token}", "Host": HOST, "X-Forwarded-Proto": "https"}

    def me(self) -> requests.Response:
        return requests.get(f"{self.server.url}/api/v1/me/", headers=self.auth, timeout=40)

    def health(self) -> requests.Response:
        return requests.get(f"{self.server.url}/health", headers={"Host": HOST}, timeout=40)

    def order(self, key: str) -> requests.Response:
        return requests.post(
            f"{self.server.url}/api/v1/orders/",
            json={"product_id": str(self.product.pk)},
            headers={**self.auth, "Idempotency-Key": key},
            timeout=40,
        )

    def warm(self) -> None:
        """Both workers hold an open database connection, as in production."""
        with ThreadPoolExecutor(4) as pool:
            assert {r.status_code for r in pool.map(lambda _: self.me(), range(8))} == {200}

    def balance(self) -> int:
        return PointsAccount.objects.get(user=self.user).balance


@pytest.fixture
def shop(server: Gunicorn) -> Shop:
    return Shop(server)


def _timed(call: Callable[[], requests.Response]) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def _assert_unavailable(response: requests.Response, code: str = "service_unavailable") -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert int(response.headers["Retry-After"]) > 0
    body = response.json()
    if urlsplit(response.url).path == "/health":
        assert body["status"] == "error", body  # the health check's own shape
    else:
        assert body["code"] == code, body  # the API's error shape


def _recovery_time(shop: Shop) -> float:
    """Seconds until /health says ready again (polled every 50 ms, at most 30 s)."""
    started = time.monotonic()
    while time.monotonic() - started < 30:
        try:
            if shop.health().status_code == 200:
                return time.monotonic() - started
        except requests.RequestException:
            pass
        time.sleep(0.05)
    pytest.fail("not ready 30 s after the database came back")


def _in_parallel(calls: list[Callable[[], requests.Response]]) -> list[tuple[requests.Response, float]]:
    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(_timed, calls))


def test_refused_database_is_a_fast_503_and_recovers(shop: Shop, proxy: TcpProxy, record_figure):
    shop.warm()
    proxy.stop()
    try:
        answers = _in_parallel([shop.health, shop.me, lambda: shop.order("refused-1"), shop.health])
    finally:
        proxy.start()
    for response, _ in answers:
        _assert_unavailable(response)
    order_answer = answers[2][0].json()
    assert "nothing was changed" in order_answer["detail"]
    recovery = _recovery_time(shop)
    retried = shop.order("refused-1")
    assert retried.status_code == 201, retried.text

    slowest = max(seconds for _, seconds in answers)
    counts = Counter(str(r.status_code) for r, _ in answers)
    record_figure(
        f"drill[{connection.vendor}] refuse: slowest 503 {slowest:.2f} s, recovery {recovery:.2f} s, "
        f"answers {dict(counts)}, retry after recovery {retried.status_code}"
    )
    assert slowest < ANSWER_WITHIN
    assert shop.balance() == 900
    assert_money_invariants(shop.initial_stock)


def test_stalled_database_is_a_503_within_bounds_not_a_killed_worker(
    shop: Shop, proxy: TcpProxy, server: Gunicorn, record_figure
):
    shop.warm()
    proxy.stall()
    try:
        # Two workers, four calls: two wait for a worker, then stall themselves; each call's own
        # time counts from when a worker started on it, which the server's budget bounds.
        answers = _in_parallel([shop.health, shop.me, lambda: shop.order("stalled-1"), shop.me])
    finally:
        proxy.resume()
    for response, _ in answers:
        _assert_unavailable(response)
    recovery = _recovery_time(shop)
    retried = shop.order("stalled-1")
    assert retried.status_code == 201, retried.text

    times = sorted(seconds for _, seconds in answers)
    record_figure(
        f"drill[{connection.vendor}] stall: 503 after {', '.join(f'{t:.2f}' for t in times)} s "
        f"(2 workers, 4 calls), recovery {recovery:.2f} s, retry after recovery {retried.status_code}"
    )
    # The first two were served at once: each within the bound. The others queued behind them.
    assert times[1] < ANSWER_WITHIN
    assert times[-1] < 2 * ANSWER_WITHIN
    assert "WORKER TIMEOUT" not in server.log.read_text()
    assert shop.balance() == 900
    assert_money_invariants(shop.initial_stock)


def test_connection_cut_after_commit_is_outcome_unknown_and_the_retry_charges_once(
    shop: Shop, proxy: TcpProxy, record_figure
):
    proxy.cut_after_commit(b"INSERT INTO", b"orders_order")
    response, seconds = _timed(lambda: shop.order("cut-1"))
    assert proxy.cut_done.is_set()
    _assert_unavailable(response, code="outcome_unknown")
    assert "nothing was changed" not in response.json()["detail"]
    # The order was committed: the database has it, with its stored answer.
    assert Order.objects.filter(user=shop.user).count() == 1
    assert IdempotencyRecord.objects.get(user=shop.user, key="cut-1").state == "completed"

    retried = shop.order("cut-1")
    assert retried.status_code == 201, retried.text
    assert retried.headers["Idempotent-Replayed"] == "true"
    fresh = shop.order("cut-2")
    assert fresh.status_code == 201

    orders = Order.objects.filter(user=shop.user).count()
    record_figure(
        f"drill[{connection.vendor}] cut after COMMIT: outcome_unknown in {seconds:.2f} s; retry with "
        f"the key {retried.status_code} replayed; orders {orders} for 2 keys; balance {shop.balance()}"
    )
    assert orders == 2
    assert shop.balance() == 800
    assert_money_invariants(shop.initial_stock)
