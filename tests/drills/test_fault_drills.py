"""Fault drills: the production settings under gunicorn, talking to MariaDB or PostgreSQL
through a proxy that refuses, stalls, or cuts the connection right after a COMMIT.

Each drill asserts what clients are told (JSON, the right code, Retry-After, in bounded time)
and ends with the money invariants. The figures (time to 503, recovery time, counts) are
printed in the run's "measured figures" section; bench/RESULTS.md keeps a copy.
"""

from __future__ import annotations

import contextlib
import os
import socket
import statistics
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from django.db import connection

from orders.models import IdempotencyRecord, Order
from points.models import PointsAccount
from shop.http.throttling import CIRCUIT_FAILURES
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


REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def _redis_reachable() -> bool:
    host_port = urlsplit(REDIS_URL)
    try:
        socket.create_connection(
            (host_port.hostname or "127.0.0.1", host_port.port or 6379), timeout=0.5
        ).close()
    except OSError:
        return False
    return True


@pytest.fixture(scope="module")
def redis_proxy() -> Iterator[TcpProxy]:
    """The rate limiter's Redis, as production has it, behind a proxy a drill can stall."""
    parts = urlsplit(REDIS_URL)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 6379)
    proxy.start()
    yield proxy
    proxy.stop()


@pytest.fixture(scope="module")
def server(
    proxy: TcpProxy, redis_proxy: TcpProxy, jwks: JwksServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gunicorn]:
    """The image's configuration: production settings, persistent connections, two workers,
    the rate limit counted in Redis."""
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
        "REDIS_URL": f"redis://127.0.0.1:{redis_proxy.port}{urlsplit(REDIS_URL).path or '/0'}",
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
    if urlsplit(response.url).path == "/health" and "code" not in body:
        assert body["status"] == "error", body  # the health check's own shape (unless it was shed)
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
        # Two workers, four calls: two stall on the database, two queue behind them.
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
    # Every call within the bound, those that queued behind a stalled one included: they are
    # shed after a second instead of waiting for it (awsomeshop/gunicorn_worker.py).
    assert times[-1] < ANSWER_WITHIN
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


# --- Under load: what every client sees -------------------------------------------------------
# 50 clients (the 48-56) call the API in a loop while a fault comes and goes; a poller
# reads /healthz every 100 ms, as the load balancer and the container check would. Every time is
# the client's own (from sending the request to the end of the answer), so queueing in the
# server counts. Bounded so the drills stay a small part of CI: a few seconds per fault.
CLIENTS = 50
HEALTHZ_WITHIN = 1.0


@dataclass
class Answer:
    kind: str
    status: int  # 0: no answer (connection error, client timeout)
    seconds: float
    code: str | None = None
    retry_after: str | None = None


@dataclass
class Load:
    answers: list[Answer] = field(default_factory=list)
    healthz: list[Answer] = field(default_factory=list)

    def slowest(self, kind: str | None = None) -> float:
        return max((a.seconds for a in self.answers if kind in (None, a.kind)), default=0.0)

    def counts(self) -> dict[str, int]:
        return dict(Counter(f"{a.status}{' ' + a.code if a.code else ''}" for a in self.answers))

    def summary(self) -> str:
        slowest = sorted(self.answers, key=lambda a: a.seconds)[-3:]
        return (
            f"{len(self.answers)} answers, slowest {self.slowest():.2f} s "
            f"({', '.join(f'{a.kind} {a.status} {a.seconds:.1f} s' for a in reversed(slowest))}), /healthz max "
            f"{max(a.seconds for a in self.healthz):.2f} s over {len(self.healthz)} checks, {self.counts()}"
        )

    def assert_bounded(self) -> None:
        """Every client answered within ANSWER_WITHIN, honestly; /healthz within HEALTHZ_WITHIN."""
        assert self.answers and self.healthz
        assert not [a for a in self.answers if a.status == 0], "a client got no answer"
        assert not [a for a in self.answers if a.status >= 500 and a.status != 503], self.counts()
        for answer in self.answers:
            if answer.status == 503:
                assert answer.code in ("service_unavailable", "outcome_unknown"), answer
                assert answer.retry_after and int(answer.retry_after) > 0, answer
        assert self.slowest() <= ANSWER_WITHIN, self.summary()
        assert {a.status for a in self.healthz} == {200}, self.summary()
        assert max(a.seconds for a in self.healthz) <= HEALTHZ_WITHIN, self.summary()


class Crowd:
    """Employees with points, one well-stocked product, and the calls their clients make."""

    def __init__(self, server: Gunicorn, employees: int = 10):
        self.server = server
        self.product = ProductFactory(points_cost=1, stock=100_000)
        self.initial_stock = {self.product.pk: 100_000}
        self.auth = []
        for _ in range(employees):
            user = UserFactory(points=100_000, cognito_sub=f"crowd-{uuid.uuid4().hex[:8]}")
            token = sign(cognito_claims(sub=user.cognito_sub, email=user.email), SIGNING_KEY)
            self.auth.append({"Authorization": f"Bearer {token}", "Host": HOST, "X-Forwarded-Proto": "https"})

    def call(self, session: requests.Session, client: int, n: int) -> Answer:
        auth = self.auth[client % len(self.auth)]
        kind = ("order", "me", "products")[n % 3]
        started = time.monotonic()
        try:
            if kind == "order":
                response = session.post(
                    f"{self.server.url}/api/v1/orders/",
                    json={"product_id": str(self.product.pk)},
                    headers={**auth, "Idempotency-Key": uuid.uuid4().hex},
                    timeout=30,
                )
            else:
                path = "/api/v1/me/" if kind == "me" else "/api/v1/products/"
                response = session.get(f"{self.server.url}{path}", headers=auth, timeout=30)
        except requests.RequestException:
            return Answer(kind, 0, time.monotonic() - started)
        seconds = time.monotonic() - started
        code = None
        if response.status_code >= 400:
            try:
                code = response.json().get("code")
            except ValueError:
                code = "not-json"
        return Answer(kind, response.status_code, seconds, code, response.headers.get("Retry-After"))

    def order_once(self) -> Answer:
        with requests.Session() as session:
            return self.call(session, 0, 0)

    @contextmanager
    def load(self, clients: int = CLIENTS) -> Iterator[Load]:
        load = Load()
        stop = threading.Event()

        def client(index: int) -> None:
            with requests.Session() as session:
                n = index
                while not stop.is_set():
                    load.answers.append(self.call(session, index, n))
                    n += 1

        def healthz() -> None:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    status = requests.get(
                        f"{self.server.url}/healthz", headers={"Host": HOST}, timeout=30
                    ).status_code
                except requests.RequestException:
                    status = 0
                load.healthz.append(Answer("healthz", status, time.monotonic() - started))
                time.sleep(0.1)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        threads.append(threading.Thread(target=healthz))
        for thread in threads:
            thread.start()
        try:
            yield load
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=60)


@pytest.fixture
def crowd(server: Gunicorn) -> Crowd:
    return Crowd(server)


def _recovered(crowd: Crowd) -> Answer:
    """An order placed once the fault is over (polled for at most 30 s)."""
    deadline = time.monotonic() + 30
    while True:
        answer = crowd.order_once()
        if answer.status == 201 or time.monotonic() > deadline:
            return answer
        time.sleep(0.1)


def test_no_fault_under_load_is_the_baseline(crowd: Crowd, record_figure):
    """The same load without a fault, for comparison: on a shared 2-core machine 50 clients
    overload two workers, and what cannot start within a second is shed (503, Retry-After)."""
    with crowd.load() as load:
        time.sleep(4)
    record_figure(f"drill[{connection.vendor}] no fault, {CLIENTS} clients: {load.summary()}")
    load.assert_bounded()
    assert_money_invariants(crowd.initial_stock)


@pytest.mark.parametrize("fault", ["stall", "refuse", "cut"])
def test_database_fault_under_load_every_client_answered_within_bounds(
    crowd: Crowd, proxy: TcpProxy, server: Gunicorn, record_figure, fault
):
    with crowd.load() as load:
        time.sleep(1)
        if fault == "stall":
            proxy.stall()
            time.sleep(10)  # longer than the database timeouts (8 s), so stalled calls end here
            proxy.resume()
        elif fault == "refuse":
            proxy.stop()
            time.sleep(3)
            proxy.start()
        else:  # every open connection reset, again and again, whatever it was doing (COMMITs too)
            ends = time.monotonic() + 3
            while time.monotonic() < ends:
                proxy.resume()
                time.sleep(0.3)
        time.sleep(2)
    after = _recovered(crowd)
    record_figure(f"drill[{connection.vendor}] database {fault}, {CLIENTS} clients: {load.summary()}")
    load.assert_bounded()
    assert after.status == 201, after
    assert "WORKER TIMEOUT" not in server.log.read_text()
    assert_money_invariants(crowd.initial_stock)


def test_stalled_redis_costs_orders_milliseconds_not_its_timeout(
    crowd: Crowd, redis_proxy: TcpProxy, record_figure
):
    if not _redis_reachable():
        pytest.skip(f"no Redis server at {REDIS_URL} (set REDIS_URL): the stalled-Redis drill needs one")

    def order_times(n: int) -> list[float]:
        answers = [crowd.order_once() for _ in range(n)]
        assert {a.status for a in answers} == {201}, answers
        return [a.seconds for a in answers]

    normal = order_times(30)
    redis_proxy.stall()
    try:
        # The first orders per worker (3 each) wait the Redis timeout (1 s); then the circuit opens.
        opening = order_times(8)
        stalled = order_times(30)
        with crowd.load() as load:
            time.sleep(4)
    finally:
        redis_proxy.resume()
    record_figure(
        f"drill[{connection.vendor}] Redis stalled: orders one at a time, median {statistics.median(normal) * 1000:.0f} ms "
        f"normal, {statistics.median(stalled) * 1000:.0f} ms stalled (max {max(normal) * 1000:.0f} / "
        f"{max(stalled) * 1000:.0f} ms); while the circuit opened: {', '.join(f'{t:.2f}' for t in opening)} s; "
        f"{CLIENTS} clients: {load.summary()}"
    )
    assert statistics.median(stalled) - statistics.median(normal) < 0.1
    # Only the failures that open each worker's circuit waited on Redis.
    assert sum(1 for t in opening + stalled if t >= 0.5) <= 2 * CIRCUIT_FAILURES
    load.assert_bounded()
    assert_money_invariants(crowd.initial_stock)


def test_slow_and_lying_clients_under_load_hold_no_worker(crowd: Crowd, server: Gunicorn, record_figure):
    # Twice as many as the task has workers: with synchronous workers, each held one for 30 s.
    body = b'{"email_enabled": true}'
    lying = (
        b"PUT /api/v1/me/notifications/ HTTP/1.1\r\nHost: "
        + HOST.encode()
        + b"\r\nX-Forwarded-Proto: https\r\n"
        b"Content-Type: application/json\r\nAuthorization: "
        + crowd.auth[0]["Authorization"].encode()
        + b"\r\n"
        b"Content-Length: %d\r\n\r\n" % (len(body) + 10) + body
    )
    held = []
    with crowd.load() as load:
        for _ in range(4):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
            sock.sendall(lying)
            held.append(sock)
            trickle = socket.create_connection(("127.0.0.1", server.port), timeout=30)
            trickle.sendall(lying[: len(lying) - len(body)])
            held.append(trickle)
        started = time.monotonic()
        while time.monotonic() - started < 5:
            for sock in held[1::2]:
                with contextlib.suppress(OSError):
                    sock.send(b" ")  # a byte now and then: alive, but far below the floor rate
            time.sleep(0.5)
    slow_answers = []
    for sock in held:
        with sock:
            data = b""
            with contextlib.suppress(OSError):
                while chunk := sock.recv(65536):
                    data += chunk
            slow_answers.append(int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0)
    record_figure(
        f"drill[{connection.vendor}] {len(held)} slow/lying clients beside {CLIENTS} clients: "
        f"slow ones got {dict(Counter(slow_answers))}; the others {load.summary()}"
    )
    assert slow_answers == [408] * len(held)
    load.assert_bounded()
    assert_money_invariants(crowd.initial_stock)


def test_connection_cut_after_a_refusal_is_stored_says_so_and_a_retry_can_succeed(
    shop: Shop, proxy: TcpProxy, record_figure
):
    """The refusal is committed, its acknowledgement lost. The client was told "nothing was
    changed" (503) while the key remembered a 409 it never saw, which every retry then
    replayed, even once stock was back."""
    Product = type(shop.product)
    Product.objects.filter(pk=shop.product.pk).update(stock=0)
    proxy.cut_after_commit(b"INSERT INTO", b"orders_idempotencyrecord")
    response, seconds = _timed(lambda: shop.order("refused-cut-1"))
    assert proxy.cut_done.is_set()
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["code"] == "out_of_stock"
    assert "processed again" in body["detail"]
    # Stock returns; the retry with the same key is processed, not pinned to the refusal.
    Product.objects.filter(pk=shop.product.pk).update(stock=5)
    retried = shop.order("refused-cut-1")
    record_figure(
        f"drill[{connection.vendor}] cut after a refusal's COMMIT: {response.status_code} "
        f"{body['code']} in {seconds:.2f} s; retry after stock returned {retried.status_code}"
    )
    assert retried.status_code == 201, retried.text
    assert "Idempotent-Replayed" not in retried.headers
    assert shop.balance() == 900
    assert_money_invariants(shop.initial_stock)
