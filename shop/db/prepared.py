"""A query the ORM compiles once and runs many times: for lookups on every request's path.

Django builds a query's SQL anew each time it runs; for the API's one per-request query (the
employee behind a token, with the points account joined) that building was most of the
query's CPU cost, more than the database round trip (bench/RESULTS.md, "Read endpoints").
`PreparedLookup` asks the ORM for the SQL of the same queryset once per database and then only
executes it with the new value, turning rows into model instances with the ORM's own
machinery (its converters, `from_db` and `select_related` population), so the objects are
exactly what the queryset would have returned. Only the SQL text is reused; every call still
reads the database, through the connection's execute wrappers (metrics, query counting).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model, QuerySet
from django.db.models.query import ModelIterable, get_related_populators  # type: ignore[attr-defined]

M = TypeVar("M", bound=Model)

# Stands for the looked-up value while the SQL is compiled; found among the parameters after.
_PLACEHOLDER = "prepared-lookup-placeholder-3f9c1e"
_UUID_PLACEHOLDER = uuid.UUID("3f9c1e00-0000-4000-8000-00003f9c1e00")


@dataclass(frozen=True)
class _Compiled:
    model: type[Model]
    sql: str
    params: tuple[Any, ...]
    at: int  # where the looked-up value goes in params
    # Column position -> (converters, expression), as SQLCompiler.get_converters gives them.
    converters: dict[int, tuple[list[Any], Any]]
    init_list: list[str]
    start: int
    end: int
    populators: list[Any]


class PreparedLookup(Generic[M]):
    """`first(connection, value)` is `build(value)[:1]` executed on that connection.

    `build` must return a queryset of plain model instances (no annotations, prefetching or
    values()) that uses its argument as one query parameter. `key` names whatever else the
    queryset depends on (settings), so a changed setting compiles anew.

    `field`, when given, is the model field the value is compared with: a UUID field, or a
    foreign key to a UUID primary key. The statement is then compiled with a UUID standing in
    for the value, and each value is prepared for the database as that field prepares it (so a
    UUID given as text works too). Without it the value must be text, passed as it is.
    """

    def __init__(
        self,
        build: Callable[[object], QuerySet[M]],
        *,
        key: Callable[[], Hashable] = lambda: None,
        field: Field[Any, Any] | None = None,
    ):
        self._build = build
        self._key = key
        self._field = field
        self._compiled: dict[Hashable, _Compiled] = {}
        self._lock = threading.Lock()

    def _placeholder(self, connection: BaseDatabaseWrapper) -> tuple[object, object]:
        """What the statement is compiled with, and how it appears among the parameters."""
        if self._field is None:
            return _PLACEHOLDER, _PLACEHOLDER
        target = getattr(self._field, "target_field", self._field)  # a foreign key's, or the field
        if target.get_internal_type() != "UUIDField":
            raise ValueError("PreparedLookup(field=...) takes a UUID field or a key to a UUID.")
        return _UUID_PLACEHOLDER, self._field.get_db_prep_value(_UUID_PLACEHOLDER, connection)

    def first(self, connection: BaseDatabaseWrapper, value: Any) -> M | None:
        c = self._compiled_for(connection)
        params = list(c.params)
        if self._field is not None:
            value = self._field.get_db_prep_value(self._field.to_python(value), connection)
        params[c.at] = value
        with connection.cursor() as cursor:
            cursor.execute(c.sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        if c.converters:
            # As SQLCompiler.apply_converters does, with this thread's connection.
            row = list(row)
            for position, (converters, expression) in c.converters.items():
                value = row[position]
                for converter in converters:
                    value = converter(value, expression, connection)
                row[position] = value
        obj = c.model.from_db(connection.alias, c.init_list, row[c.start : c.end])
        for populator in c.populators:
            populator.populate(row, obj)
        return obj  # type: ignore[return-value]  # an instance of the queryset's model, M

    def _compiled_for(self, connection: BaseDatabaseWrapper) -> _Compiled:
        key = (connection.alias, connection.vendor, self._key())
        compiled = self._compiled.get(key)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(key) or self._compile(connection)
                self._compiled[key] = compiled
        return compiled

    def _compile(self, connection: BaseDatabaseWrapper) -> _Compiled:
        placeholder, prepared = self._placeholder(connection)
        queryset = self._build(placeholder)[:1]
        query = queryset.query
        prefetching: tuple[Any, ...] = getattr(queryset, "_prefetch_related_lookups", ())
        if query.annotations or prefetching or queryset._iterable_class is not ModelIterable:
            raise ValueError("PreparedLookup takes plain model querysets only.")
        compiler = query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        if list(params).count(prepared) != 1:
            raise ValueError("The queryset must use the looked-up value exactly once.")
        select, klass_info = compiler.select, compiler.klass_info
        assert klass_info is not None
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        return _Compiled(
            model=queryset.model,
            sql=sql,
            params=tuple(params),
            at=list(params).index(prepared),
            converters=compiler.get_converters([s[0] for s in select[0 : compiler.col_count]]),
            init_list=[s[0].target.attname for s in select[start:end]],
            start=start,
            end=end,
            populators=get_related_populators(klass_info, select, connection.alias),
        )
