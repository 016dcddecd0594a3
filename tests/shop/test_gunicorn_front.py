"""What the real gunicorn answers before and around Django: its own limits in JSON, chunked
bodies, and a graceful stop under load (SIGTERM: in-flight requests finish, no 5xx, no reset)."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from django.db import connection

from awsomeshop.gunicorn_worker import CLIENT_GRACE_SECONDS
from tests.conftest import token_for
from tests.factories import ProductFactory, UserFactory
from tests.support.gunicorn import Gunicorn, database_url, start_gunicorn
from tests.support.markers import requires_server_db


def _raw(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are (requests would refuse or fix them) and parse the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gunicorn]:
    # No database needed for what gunicorn refuses before Django.
    server = start_gunicorn({}, tmp_path_factory.mktemp("gunicorn") / "server.log")
    yield server
    server.stop()


@pytest.mark.parametrize(
    ("request_bytes", "status", "code"),
    [
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n", 431, "headers_too_large"),
        (
            b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(120)) + b"\r\n",
            431,
            "headers_too_large",
        ),
        (b"GET / HTTP/9.9\r\nHost: x\r\n\r\n", 400, "validation_error"),
    ],
    ids=["request-line", "header-size", "header-count", "bad-version"],
)
def test_gunicorn_refusals_are_json(server, request_bytes, status, code):
    got, headers, body = _raw(server.port, request_bytes)
    assert got == status
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body)["code"] == code
    assert b"<html" not in body


def _answer_of(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    return int(lines[0].split()[1]), dict(line.split(": ", 1) for line in lines[1:]), body


def _held(port: int, request: bytes) -> socket.socket:
    """A connection that sends `request` and then neither sends more nor closes."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(request)
    return sock


LYING_BODY = (
    b"PUT /api/v1/me/notifications/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Content-Length: 10\r\n\r\n{}"
)


@pytest.mark.parametrize(
    "request_bytes",
    [
        LYING_BODY,  # shorter than its Content-Length, connection held open
        b"GET /api/v1/me/ HTTP/1.1\r\nHost: x\r\nAuthoriz",  # a head that stops halfway
        b'POST /api/v1/orders/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"pro',
    ],
    ids=["body-short-of-content-length", "head-cut", "chunked-cut"],
)
def test_a_client_that_stops_sending_is_answered_408_within_seconds(server, request_bytes):
    """gunicorn's sync worker waited for the missing bytes until its 30 s timeout killed it (a
    500); the front thread gives up after CLIENT_GRACE_SECONDS, and the application never waits."""
    started = time.monotonic()
    with _held(server.port, request_bytes) as sock:
        status, headers, body = _answer_of(sock)
    seconds = time.monotonic() - started
    assert status == 408
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body)["code"] == "request_timeout"
    assert CLIENT_GRACE_SECONDS <= seconds < CLIENT_GRACE_SECONDS + 2


def test_a_body_slower_than_the_floor_rate_is_408(server):
    """A body that keeps coming, a byte at a time, is still refused once it falls below the rate."""
    body = b'{"email_enabled": true}' + b" " * 2000
    started = time.monotonic()
    with _held(
        server.port,
        b"PUT /api/v1/me/notifications/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body),
    ) as sock:
        with contextlib.suppress(OSError):  # the server stops reading once it has answered
            for byte in body:
                sock.sendall(bytes([byte]))
                time.sleep(0.1)
                if time.monotonic() - started > CLIENT_GRACE_SECONDS + 3:
                    break
        status, _, answer = _answer_of(sock)
    assert status == 408, answer
    assert time.monotonic() - started < CLIENT_GRACE_SECONDS + 4


def test_a_body_cut_short_by_the_client_is_400(server):
    with _held(server.port, LYING_BODY) as sock:
        sock.shutdown(socket.SHUT_WR)  # the client closes its side: the body will never be whole
        status, _, body = _answer_of(sock)
    assert status == 400
    assert json.loads(body)["code"] == "validation_error"
    assert "shorter than its Content-Length" in json.loads(body)["detail"]


def test_slow_clients_do_not_hold_the_worker(server):
    """More slow clients than a task has workers: everyone else is still answered at once
    (the module's server has one worker; four such connections stopped a whole task)."""
    # A form post: Django's CSRF check reads the body before any view (an unauthenticated API
    # call is refused before its body is read, so it would not show the problem).
    lying_form = (
        b"POST /admin/login/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 100\r\n\r\nusername=a"
    )
    held = [_held(server.port, lying_form) for _ in range(8)]
    try:
        time.sleep(0.5)
        for path in ("/healthz", "/api/v1/me/"):
            started = time.monotonic()
            response = requests.get(server.url + path, timeout=10)
            assert time.monotonic() - started < 1.0, path
            assert response.status_code in (200, 401), response.text
    finally:
        for sock in held:
            sock.close()


@requires_server_db
@pytest.mark.django_db(transaction=True)
def test_a_chunked_order_body_is_read_through_gunicorn(tmp_path: Path):
    user = UserFactory(points=1000, cognito_sub="sub-chunked")
    product = ProductFactory(points_cost=100, stock=5)
    server = start_gunicorn({"DATABASE_URL": database_url()}, tmp_path / "server.log")
    try:
        body = json.dumps({"product_id": str(product.pk)}).encode()
        chunks = (
            b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:10], body[10:])) + b"0\r\n\r\n"
        )
        request = (
            b"POST /api/v1/orders/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer " + token_for(user).encode() + b"\r\n"
            b"Idempotency-Key: chunked-1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunks
        )
        status, _headers, answer = _raw(server.port, request)
        assert status == 201, answer
        assert json.loads(answer)["balance_after"] == 900
    finally:
        server.stop()


def _slow_order(port: int, token: str, product_id: str, key: str) -> tuple[socket.socket, bytes]:
    """Open an order request and send all but the end of its body: it is in flight."""
    body = json.dumps({"product_id": product_id}).encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(
        b"POST /api/v1/orders/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Authorization: Bearer " + token.encode() + b"\r\nIdempotency-Key: " + key.encode() + b"\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body[:5]
    )
    return sock, body[5:]


def _finish(sock: socket.socket, rest: bytes) -> int:
    with sock:
        sock.sendall(rest)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return int(data.split(b" ", 2)[1])


@requires_server_db
@pytest.mark.django_db(transaction=True)
def test_sigterm_under_load_finishes_in_flight_requests(tmp_path: Path, record_figure):
    """Load first (a bounded request loop on loopback), then SIGTERM while two orders are in
    flight, one per worker, their bodies half sent. Both finish with 201 after the signal, and
    nothing before got a 5xx or a reset. New requests stop before the signal, as they do in
    production: ECS sends SIGTERM only after the ALB has drained the task."""
    user = UserFactory(points=10_000, cognito_sub="sub-sigterm")
    product = ProductFactory(points_cost=10, stock=100)
    token = token_for(user)
    server = start_gunicorn({"DATABASE_URL": database_url()}, tmp_path / "server.log", workers=2)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def client() -> None:
        with requests.Session() as session:
            for _ in range(25):  # bounded
                try:
                    response = session.get(
                        f"{server.url}/api/v1/me/", headers={"Authorization": f"Bearer {token}"}, timeout=30
                    )
                    kind = str(response.status_code)
                except requests.ConnectionError as exc:
                    kind = f"connection error: {type(exc).__name__}"
                with lock:
                    outcomes[kind] += 1

    try:
        threads = [threading.Thread(target=client) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        in_flight = [_slow_order(server.port, token, str(product.pk), f"sigterm-{i}") for i in range(2)]
        time.sleep(0.3)  # both accepted by a worker each and waiting for the rest of the body
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)  # the signal has been delivered; the workers are draining
        statuses = [_finish(sock, rest) for sock, rest in in_flight]
        exit_code = server.process.wait(timeout=40)
        stopped_in = time.monotonic() - started
    finally:
        server.stop()
    record_figure(
        f"gunicorn SIGTERM [{connection.vendor}]: load {dict(outcomes)}; in flight at the signal: "
        f"{statuses}; stopped in {stopped_in:.2f} s"
    )
    assert outcomes == Counter({"200": 100})
    assert statuses == [201, 201]
    assert exit_code == 0
    assert stopped_in < 25  # gunicorn's graceful_timeout, itself under ECS's stopTimeout


def test_large_bodies_held_at_once_are_capped_per_worker(server):
    """Bodies are read into memory before Django: a worker holds at most BODY_BUDGET_BYTES of
    large ones at once, and sheds the next (503) instead of reading it."""
    from awsomeshop.gunicorn_worker import BODY_BUDGET_BYTES

    size = 7 * 1024 * 1024
    head = (
        b"POST /admin/login/ HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=x\r\n"
        b"Content-Length: %d\r\n\r\n" % size
    )
    fitting = BODY_BUDGET_BYTES // size
    held = [_held(server.port, head) for _ in range(fitting)]
    try:
        time.sleep(0.5)
        with _held(server.port, head) as extra:
            status, headers, body = _answer_of(extra)
        assert status == 503
        assert json.loads(body)["code"] == "service_unavailable"
        assert int(headers["Retry-After"]) > 0
    finally:
        for sock in held:
            sock.close()
    # The budget is returned once those requests end (408 after the grace period).
    time.sleep(CLIENT_GRACE_SECONDS + 0.5)
    response = requests.get(server.url + "/healthz", timeout=5)
    assert response.status_code == 200


@requires_server_db
@pytest.mark.django_db(transaction=True)
def test_an_application_thread_stuck_past_the_timeout_gets_its_worker_killed(tmp_path: Path):
    """As gunicorn kills a synchronous worker stuck on one request for `timeout`, it kills a
    worker whose application thread is (its heartbeat stops; the front threads do not keep it
    alive). Here the database stalls with every client timeout switched off."""
    from tests.support.tcp_proxy import proxy_to_test_database

    proxy = proxy_to_test_database()
    proxy.stall()
    server = start_gunicorn(
        {
            "DATABASE_URL": database_url("127.0.0.1", proxy.port),
            "DB_CONNECT_TIMEOUT": "60",
            "DB_READ_TIMEOUT": "0",
            "GUNICORN_CMD_ARGS": "--timeout 3",
        },
        tmp_path / "server.log",
    )
    try:
        started = time.monotonic()
        with contextlib.suppress(requests.RequestException):
            requests.get(server.url + "/health", timeout=30)  # readiness: asks the database
        assert time.monotonic() - started < 15
        deadline = time.monotonic() + 10
        while "WORKER TIMEOUT" not in server.log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "WORKER TIMEOUT" in server.log.read_text()
    finally:
        server.stop()
        proxy.stop()


def test_a_shed_storefront_page_is_a_page_and_a_shed_api_request_is_json() -> None:
    from awsomeshop.gunicorn_worker import _busy

    status, headers, body = _busy({"PATH_INFO": "/products/"})
    assert status.startswith("503") and ("Content-Type", "text/html; charset=utf-8") in headers
    assert b"Try again in a minute" in body and "Retry-After" in dict(headers)
    status, headers, body = _busy({"PATH_INFO": "/api/v1/orders/"})
    assert status.startswith("503") and ("Content-Type", "application/json") in headers
    assert json.loads(body)["code"] == "service_unavailable"
