"""Bounded waits on the database: the settings each driver gets, and the PostgreSQL engine's
client-side read deadline against a server that stops answering."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import psycopg
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from awsomeshop.settings.database import database_timeouts, mysql_timeout_options, postgres_timeout_options
from shop.db.backends.postgresql.base import DeadlineConnection


def test_defaults_answer_a_stalled_database_within_ten_seconds():
    timeouts = database_timeouts({})
    assert timeouts == {"connect": 3, "read": 5, "write": 5, "statement": 4}
    assert timeouts["connect"] + timeouts["read"] < 10
    assert timeouts["statement"] < timeouts["read"]


def test_mysql_gets_socket_timeouts():
    assert mysql_timeout_options({}) == {"connect_timeout": 3, "read_timeout": 5, "write_timeout": 5}
    assert mysql_timeout_options({"DB_READ_TIMEOUT": "0", "DB_WRITE_TIMEOUT": "0"}) == {"connect_timeout": 3}


def test_postgresql_gets_keepalives_and_a_statement_timeout():
    options = postgres_timeout_options({"DB_STATEMENT_TIMEOUT": "2.5"})
    assert options["connect_timeout"] == 3
    assert (options["keepalives"], options["keepalives_idle"]) == (1, 30)
    assert options["tcp_user_timeout"] == 5000
    assert options["options"] == "-c statement_timeout=2500"


@pytest.mark.parametrize("value", ["soon", "-1"])
def test_nonsense_timeouts_are_refused_at_start_up(value):
    with pytest.raises(ImproperlyConfigured, match="DB_READ_TIMEOUT"):
        database_timeouts({"DB_READ_TIMEOUT": value})


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL engine's own deadline")
def test_a_postgresql_server_that_stops_answering_is_an_error_within_the_read_timeout(db):
    """A proxy that passes the login through and then holds every byte: libpq alone would wait
    forever. The connection is closed afterwards (its state is unknown)."""
    settings = connection.settings_dict
    stalled = threading.Event()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def relay() -> None:
        client, _ = listener.accept()
        upstream = socket.create_connection((settings["HOST"] or "127.0.0.1", int(settings["PORT"] or 5432)))
        client.settimeout(0.1)
        upstream.settimeout(0.1)
        while True:
            for source, target in ((client, upstream), (upstream, client)):
                try:
                    data = source.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not data:
                    return
                if not stalled.is_set():
                    target.sendall(data)

    threading.Thread(target=relay, daemon=True).start()
    conn = DeadlineConnection.connect(
        host="127.0.0.1",
        port=listener.getsockname()[1],
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        dbname=settings["NAME"],
    )
    conn.read_timeout = 1.0
    assert conn.execute("SELECT 1").fetchone() == (1,)
    stalled.set()
    started = time.monotonic()
    with pytest.raises(psycopg.OperationalError, match="no answer"):
        conn.execute("SELECT 1")
    assert time.monotonic() - started < 2
    assert conn.closed
    listener.close()


class _Base:
    """Django's health check as the mixin sees it: is_usable() waited `seconds`, then failed."""

    def __init__(self, seconds: float, clock: list[float]):
        self.connection: object | None = object()
        self.health_check_enabled = True
        self.health_check_done = False
        self.execute_wrappers: list[object] = []
        self.connects = 0
        self._seconds = seconds
        self._clock = clock

    def close_if_health_check_failed(self) -> None:
        self._clock[0] += self._seconds
        self.connection = None  # failed: Django closes it, and connects again when next needed
        self.health_check_done = True

    def ensure_connection(self) -> None:
        if self.connection is None:
            self.connects += 1
            self.connection = object()

    def close_if_unusable_or_obsolete(self) -> None:
        pass


@pytest.mark.parametrize(
    ("seconds", "reconnects"), [(5.0, False), (0.01, True)], ids=["stalled", "closed-by-server"]
)
def test_after_a_stalled_health_check_the_request_fails_instead_of_reconnecting(
    monkeypatch, seconds, reconnects
):
    """A check that failed at once (the server closed an idle connection) reconnects as Django
    does; one that waited out the read timeout fails the request, so the client hears after
    DB_READ_TIMEOUT instead of DB_READ_TIMEOUT + DB_CONNECT_TIMEOUT. The next request connects."""
    from django.db import OperationalError

    import shop.db.backends as backends

    clock = [100.0]
    monkeypatch.setattr(backends.time, "monotonic", lambda: clock[0])

    class Wrapper(backends.NoReconnectAfterStall, _Base):
        pass

    wrapper = Wrapper(seconds, clock)
    wrapper.close_if_health_check_failed()
    if reconnects:
        wrapper.ensure_connection()
        assert wrapper.connects == 1
    else:
        with pytest.raises(OperationalError, match="not reconnecting"):
            wrapper.ensure_connection()
        assert wrapper.connects == 0
        wrapper.close_if_unusable_or_obsolete()  # the request ended; the next one starts
        wrapper.ensure_connection()
        assert wrapper.connects == 1


@pytest.mark.skipif(
    connection.vendor == "sqlite", reason="a database server behind a proxy (MariaDB, PostgreSQL)"
)
def test_a_stall_inside_a_transaction_fails_without_a_second_wait_to_reconnect(db):
    """Django turns autocommit back on when a failed atomic block ends, which connects again: on
    a stalled server that was a second wait (the connect timeout) before the error."""
    from django.db import OperationalError, connections, transaction
    from django.db.utils import load_backend

    from tests.support.tcp_proxy import proxy_to_test_database

    proxy = proxy_to_test_database()
    engine = "shop.db.backends.mysql" if connection.vendor == "mysql" else "shop.db.backends.postgresql"
    settings_dict = {
        **connection.settings_dict,
        "ENGINE": engine,
        "HOST": "127.0.0.1",
        "PORT": str(proxy.port),
        "READ_TIMEOUT": 1.5,
        "CONN_HEALTH_CHECKS": False,
        "OPTIONS": {**connection.settings_dict["OPTIONS"]},
    }
    if connection.vendor == "mysql":
        settings_dict["OPTIONS"].update(read_timeout=1, write_timeout=1, connect_timeout=2)
    else:
        settings_dict["OPTIONS"].update(connect_timeout=2)
    wrapper = load_backend(engine).DatabaseWrapper(settings_dict, alias="stall-test")
    connections["stall-test"] = wrapper
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT 1")
        accepted = proxy.accepted
        started = time.monotonic()

        def order_like_transaction() -> None:
            with transaction.atomic(using="stall-test"):
                with wrapper.cursor() as cursor:
                    cursor.execute("SELECT 1")
                proxy.stall()
                with wrapper.cursor() as cursor:
                    cursor.execute("SELECT 2")

        with pytest.raises(OperationalError):
            order_like_transaction()
        waited = time.monotonic() - started
        assert proxy.accepted == accepted, "a new connection was attempted within the request"
        assert waited < 2.0 + 1.0  # the read timeout, without the connect timeout on top
        wrapper.close_if_unusable_or_obsolete()  # the request is over
        assert not wrapper._stalled
    finally:
        proxy.stop()
        with contextlib.suppress(Exception):
            wrapper.close()
        del connections["stall-test"]
