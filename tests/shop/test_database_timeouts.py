"""Bounded waits on the database: the settings each driver gets, and the PostgreSQL engine's
client-side read deadline against a server that stops answering."""

from __future__ import annotations

import socket
import threading
import time

import psycopg
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from awsomeshop.settings.database import database_timeouts, mysql_timeout_options, postgres_timeout_options
from shop.db_backends.postgresql.base import DeadlineConnection


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
