"""Database helpers: retrying transactions that lost a deadlock or serialization race, and
telling a failed commit from one whose outcome is unknown."""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction

from shop.errors import OutcomeUnknown

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

# MySQL/MariaDB: 1213 deadlock found, 1205 lock wait timeout. PostgreSQL: SQLSTATE 40001
# serialization failure, 40P01 deadlock detected. Everything else is not worth retrying.
_MYSQL_RETRYABLE = {1213, 1205}
_POSTGRES_RETRYABLE = {"40001", "40P01"}


def is_retryable(exc: BaseException) -> bool:
    cause = exc.__cause__ or exc
    if connection.vendor == "mysql":
        args: tuple[object, ...] = getattr(cause, "args", ())
        return bool(args) and args[0] in _MYSQL_RETRYABLE
    if connection.vendor == "postgresql":
        return getattr(cause, "sqlstate", None) in _POSTGRES_RETRYABLE
    if connection.vendor == "sqlite":
        return "database is locked" in str(exc)
    return False


def retry_on_conflict(func: Callable[P, R]) -> Callable[P, R]:
    """Run `func` (which opens its own transaction) again if the database chose it as a
    deadlock or serialization victim: a bounded number of times, with jittered backoff.
    It must be the outermost transaction, or the retry would run inside a broken one."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        attempts = settings.ORDER_MAX_ATTEMPTS
        for attempt in range(1, attempts + 1):
            try:
                return func(*args, **kwargs)
            except OperationalError as exc:
                if attempt == attempts or not is_retryable(exc) or connection.in_atomic_block:
                    raise
                delay = min(0.5, 0.01 * 2**attempt) * random.uniform(0.5, 1.5)
                logger.info("retrying after %s (attempt %d): %s", type(exc).__name__, attempt, exc)
                time.sleep(delay)
        raise AssertionError("unreachable")

    return wrapper


def atomic_durable() -> transaction.Atomic:
    return transaction.atomic(durable=True)


HR_OUTCOME_UNKNOWN = (
    "The connection to the database was lost while this change was being saved, so it may or "
    "may not have taken effect. Look at the employee's ledger (or the product's stock history) "
    "before repeating it."
)


@contextmanager
def atomic_with_known_outcome(detail: str | None = None) -> Iterator[None]:
    """`transaction.atomic()`, except that losing the connection during COMMIT raises
    OutcomeUnknown instead of a plain database error.

    An error before COMMIT means the database rolled back: nothing changed, and the API says
    so. During COMMIT the server may have committed and only the acknowledgement was lost, so
    the client must be told the truth: unknown, retry with the same Idempotency-Key.
    """
    atomic = transaction.atomic()
    atomic.__enter__()
    try:
        yield
    except BaseException as exc:
        atomic.__exit__(type(exc), exc, exc.__traceback__)  # rolls back; never swallows
        raise
    try:
        atomic.__exit__(None, None, None)
    except (OperationalError, InterfaceError) as exc:
        if connection.in_atomic_block:
            raise  # a savepoint, not a COMMIT: the outer transaction decides
        raise OutcomeUnknown(detail) from exc
