"""Database helpers: retrying transactions that lost a deadlock or serialization race, and
telling a failed commit from one whose outcome is unknown."""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar, cast

from django.conf import settings
from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    InterfaceError,
    OperationalError,
    connection,
    connections,
    transaction,
)
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import NOT_PROVIDED, Field, Model
from django.db.models.signals import post_save, pre_save
from django.db.transaction import TransactionManagementError

from shop.db.prepared import PreparedLookup
from shop.http.errors import OutcomeUnknown

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")
M = TypeVar("M", bound="Model")

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


def _default_connection() -> BaseDatabaseWrapper:
    """The connection `django.db.connection` stands for, looked up once per call: the proxy
    looks it up again on every attribute read, and each field's value preparation reads it."""
    return connections[DEFAULT_DB_ALIAS]


# (model label, database vendor, pk set in Python) -> the INSERT statement, and whether it
# returns the database-made primary key.
_INSERT_SQL: dict[tuple[str, str, bool], tuple[str, bool]] = {}


@functools.cache
def _has_database_made_values(model: type[Model]) -> bool:
    """A column the database fills (a default only the database knows, a generated column):
    the plain INSERT below would send an expression for it, so save() must write the row."""
    return any(
        getattr(f, "generated", False) or (f.db_default is not NOT_PROVIDED and not f.has_default())
        for f in model._meta.local_concrete_fields
    )


def insert_new(instance: Model) -> None:
    """INSERT a new `instance` in one statement, as `instance.save(force_insert=True)` would,
    without building the statement anew each time.

    For the hot write paths (an order writes five rows): the ORM compiles every INSERT from
    scratch, which costs several times what sending it does. The statement is made once per
    model from the model's own columns; values go through each field's `pre_save` (auto_now,
    defaults) and `get_db_prep_save`, as in `save()`. A model with save signal receivers, or
    one that is not a single table, is saved the ordinary way, so nothing listening is skipped.
    """
    db = _default_connection()
    model = type(instance)
    meta = model._meta
    if (
        meta.parents
        or pre_save.has_listeners(model)
        or post_save.has_listeners(model)
        or not instance._state.adding
        or _has_database_made_values(model)
    ):
        instance.save(force_insert=True)
        return
    pk = meta.pk
    assert pk is not None
    pk_set = getattr(instance, pk.attname) is not None
    fields = [f for f in meta.local_concrete_fields if pk_set or f is not pk]
    key = (meta.label, db.vendor, pk_set)
    cached = _INSERT_SQL.get(key)
    if cached is None:
        quote = db.ops.quote_name
        sql = (
            f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(fields))})"
        )
        returning = not pk_set and db.features.can_return_columns_from_insert
        if returning:
            sql += f" RETURNING {quote(pk.column)}"
        cached = _INSERT_SQL[key] = (sql, returning)
    sql, returning = cached
    params = [f.get_db_prep_save(f.pre_save(instance, True), db) for f in fields]
    # As save() does: a failed insert inside atomic() marks the transaction for rollback.
    with transaction.mark_for_rollback_on_error(), db.cursor() as cursor:
        cursor.execute(sql, params)
        if returning:
            value = cursor.fetchone()[0]
        elif not pk_set:
            value = db.ops.last_insert_id(cursor, meta.db_table, pk.column)
        if not pk_set:
            setattr(instance, pk.attname, pk.to_python(value))
    instance._state.adding = False
    instance._state.db = db.alias


# (model, field name) -> its locking lookup, compiled by the ORM once per database.
_LOCKS: dict[tuple[type[Model], str], PreparedLookup[Any]] = {}


def lock_one(model: type[M], field_name: str, value: Any) -> M | None:
    """``model.objects.select_for_update().filter(**{field_name: value}).first()`` for a unique
    UUID field (or a key to a UUID), inside a transaction; the statement is compiled once.

    The hot write paths lock one account and one product per order; the ORM compiles each of
    those SELECTs from scratch, which costs more than the round trip. `PreparedLookup` keeps
    the ORM's own SQL (its locking clause for this database included) and its row conversion.
    """
    db = _default_connection()
    if not db.in_atomic_block:
        # As the ORM refuses: outside a transaction the lock would end with the statement.
        raise TransactionManagementError("lock_one() locks a row only inside a transaction.")
    lookup = _LOCKS.get((model, field_name))
    if lookup is None:
        field = cast("Field[Any, Any]", model._meta.get_field(field_name))
        lookup = _LOCKS.setdefault(
            (model, field_name),
            PreparedLookup(
                lambda v: model._default_manager.select_for_update().filter(**{field_name: v}).order_by(),
                field=field,
            ),
        )
    found: M | None = lookup.first(db, value)
    return found


# (model label, field names, database vendor) -> the UPDATE statement and its fields.
_UPDATE_SQL: dict[tuple[str, tuple[str, ...], str], tuple[str, list[Field[Any, Any]]]] = {}


def save_fields(instance: Model, field_names: list[str], *, send_signals: bool = True) -> None:
    """``instance.save(update_fields=field_names)`` from a statement made once per model and
    field list (see insert_new); a model with save signal receivers is saved the ordinary way.
    ``auto_now`` fields among them are stamped, as ``save()`` does.

    ``send_signals=False`` writes the row without the save signals even when the model has
    receivers, as ``QuerySet.update`` does: only for a caller that knows every receiver ignores
    this save, and says why where it passes it.
    """
    db = _default_connection()
    model = type(instance)
    meta = model._meta
    if meta.parents or (send_signals and (pre_save.has_listeners(model) or post_save.has_listeners(model))):
        instance.save(update_fields=field_names)
        return
    pk = meta.pk
    assert pk is not None
    key = (meta.label, tuple(field_names), db.vendor)
    cached = _UPDATE_SQL.get(key)
    if cached is None:
        quote = db.ops.quote_name
        fields = [cast("Field[Any, Any]", meta.get_field(name)) for name in field_names]
        assignments = ", ".join(f"{quote(cast(str, f.column))} = %s" for f in fields)
        pk_column = quote(cast(str, pk.column))
        sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {pk_column} = %s"  # noqa: S608
        cached = _UPDATE_SQL[key] = (sql, fields)
    sql, fields = cached
    params = [f.get_db_prep_save(f.pre_save(instance, False), db) for f in fields]
    params.append(pk.get_db_prep_value(instance.pk, db))
    with transaction.mark_for_rollback_on_error(), db.cursor() as cursor:
        cursor.execute(sql, params)
        if cursor.rowcount == 0:
            raise DatabaseError("Save with update_fields did not affect any rows.")  # as save() says
