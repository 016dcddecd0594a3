"""Django's PostgreSQL backend, plus a client-side limit on every wait for the server.

libpq has a connect timeout but no read timeout: a server (or proxy) that accepts a query and
then says nothing holds the worker forever, and TCP keepalives do not help while the peer's
kernel still acknowledges. psycopg's wait loop can stop at a deadline; this backend gives every
wait the ``READ_TIMEOUT`` of the database settings (``DB_READ_TIMEOUT``). On expiry the
connection is closed (its state is unknown) and the driver's OperationalError is raised, which
the API answers with 503.
"""

from __future__ import annotations

from typing import Any

import psycopg
from django.db.backends.postgresql import base
from psycopg import errors

from shop.db.backends import NoReconnectAfterStall


class DeadlineConnection(psycopg.Connection[Any]):
    read_timeout: float | None = None

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        try:
            return super().wait(gen, interval=interval, timeout=timeout or self.read_timeout)
        except errors._WaitTimeout:
            self.pgconn.finish()
            raise psycopg.OperationalError(
                f"no answer from the database server within {timeout or self.read_timeout} s"
            ) from None


class _Driver:
    """psycopg as Django's backend sees it (`self.Database`), connecting with DeadlineConnection."""

    def __init__(self, read_timeout: float | None):
        self._read_timeout = read_timeout

    def __getattr__(self, name: str) -> Any:
        return getattr(psycopg, name)

    def connect(self, *args: Any, **kwargs: Any) -> DeadlineConnection:
        connection = DeadlineConnection.connect(*args, **kwargs)
        connection.read_timeout = self._read_timeout
        return connection


class DatabaseWrapper(NoReconnectAfterStall, base.DatabaseWrapper):
    def __init__(self, settings_dict: dict[str, Any], *args: Any, **kwargs: Any):
        super().__init__(settings_dict, *args, **kwargs)
        self.Database = _Driver(settings_dict.get("READ_TIMEOUT") or None)
