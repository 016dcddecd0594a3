"""One time budget per request for the identity provider's network calls.

A request may need the pool's JWKS (an unknown `kid`) and then Cognito's GetUser (a first
access token). Each call had its own timeouts and retries, so a stalled Cognito could hold a
worker for 15 s or more. Authentication opens a budget (AUTH_NETWORK_BUDGET_SECONDS, 5 s by
default) and every call takes its timeout from what is left; when nothing is left the request
gets 503 without calling out at all.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar


class BudgetSpent(Exception):
    """No time is left for another call to the identity provider in this request."""


_deadline: ContextVar[float | None] = ContextVar("auth_network_deadline", default=None)


@contextmanager
def network_budget(seconds: float) -> Iterator[None]:
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def time_left(default: float) -> float:
    """Seconds a network call may take now: `default` capped by the request's budget."""
    deadline = _deadline.get()
    if deadline is None:
        return default
    left = deadline - time.monotonic()
    if left <= 0.05:
        raise BudgetSpent()
    return min(default, left)
