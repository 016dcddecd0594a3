"""Django's MySQL and PostgreSQL backends with what production needs on top (see each base.py),
and the rule both share after a stall (`NoReconnectAfterStall`)."""

from __future__ import annotations

import time
from typing import Any

from django.db import Error, OperationalError

# A database call that took this long to fail met a server that is not answering, not a
# connection the server had closed or refused (those fail at once).
STALLED_SECONDS = 1.0
# A connection that answered a statement this recently is not pinged before the next request
# uses it (see NoReconnectAfterStall.close_if_health_check_failed).
ANSWERED_RECENTLY_SECONDS = 1.0


class NoReconnectAfterStall:
    """Mixed into a DatabaseWrapper: once a call on this connection waited out a timeout and
    failed, the rest of the request does not connect again; it fails at once (a 503).

    Django reconnects whenever it next needs the connection: after a failed health check, and
    after a lost connection inside a transaction (leaving the atomic block turns autocommit
    back on, which connects). When the server stopped answering, that adds DB_CONNECT_TIMEOUT
    to the DB_READ_TIMEOUT already waited: 8 s instead of 5 s before the client hears anything.
    The next request connects afresh (the flag is cleared between requests).

    Django's health check (CONN_HEALTH_CHECKS) pings a reused connection before each request's
    first statement: a full round trip to the database on every request, which the benchmark's
    sampling profiler found in 16 % of a busy worker's samples. It is skipped when the
    connection answered a statement less than ANSWERED_RECENTLY_SECONDS ago. What the ping
    guards against is a connection closed while it sat idle (the proxy's idle timeout, a
    restart long ago); a connection that answered a moment ago and failed since fails its
    first statement instead, and that request is answered 503 with nothing changed, as during
    any outage; the connection is then closed and the next request connects afresh.
    """

    connection: Any
    health_check_enabled: bool
    health_check_done: bool
    execute_wrappers: list[Any]
    _stalled = False
    _answered_at = float("-inf")  # time.monotonic() of the last statement that succeeded

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.execute_wrappers.append(self._note_stall)

    def _note_stall(self, execute: Any, sql: Any, params: Any, many: bool, context: Any) -> Any:
        started = time.monotonic()
        try:
            result = execute(sql, params, many, context)
        except Error:
            if time.monotonic() - started >= STALLED_SECONDS:
                self._stalled = True
            raise
        self._answered_at = time.monotonic()
        return result

    def close_if_health_check_failed(self) -> None:
        if self.connection is None or not self.health_check_enabled or self.health_check_done:
            return
        started = time.monotonic()
        if started - self._answered_at < ANSWERED_RECENTLY_SECONDS:
            self.health_check_done = True  # it was answering a moment ago: no round trip
            return
        super().close_if_health_check_failed()  # type: ignore[misc]
        if self.connection is None and time.monotonic() - started >= STALLED_SECONDS:
            self._stalled = True

    def ensure_connection(self) -> None:
        if self.connection is None and self._stalled:
            raise OperationalError("the database stopped answering during this request; not reconnecting")
        super().ensure_connection()  # type: ignore[misc]

    def close_if_unusable_or_obsolete(self) -> None:
        # Django calls this when a request starts and ends: the next request may connect.
        self._stalled = False
        super().close_if_unusable_or_obsolete()  # type: ignore[misc]
