"""Lets transactional tests empty the ledger between tests although its rows cannot be deleted.

After a transactional test Django flushes every table. PostgreSQL's flush is a TRUNCATE, which
fires no row trigger, so it needs nothing. MySQL's and SQLite's flush is a DELETE per table, which
the ledger's trigger refuses (points/migrations/0006). The flush is changed, for the ledger table
only, to what the database owner would do:

- MySQL: TRUNCATE, which fires no trigger (and needs the DROP privilege, which the app's database
  user does not hold);
- SQLite (no TRUNCATE): drop the trigger, delete, create it again, in the flush's one transaction.

The trigger itself is never weakened, so every raw DELETE a test makes is still refused.
"""

from __future__ import annotations

import importlib
from typing import Any

from django.db.backends.mysql.base import DatabaseWrapper as MySQLWrapper
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteWrapper

MySQLOperations = MySQLWrapper.ops_class
SQLiteOperations = SQLiteWrapper.ops_class
_migration = importlib.import_module("points.migrations.0006_ledger_rows_cannot_be_deleted")
LEDGER: str = _migration.TABLE


def _mysql_flush(original: Any) -> Any:
    def sql_flush(self: Any, style: Any, tables: Any, **kwargs: Any) -> list[str]:
        if LEDGER not in tables:
            return list(original(self, style, tables, **kwargs))
        sql = list(original(self, style, [t for t in tables if t != LEDGER], **kwargs))
        truncate = f"TRUNCATE {self.quote_name(LEDGER)};"
        if not sql:
            return ["SET FOREIGN_KEY_CHECKS = 0;", truncate, "SET FOREIGN_KEY_CHECKS = 1;"]
        # Before the statement that turns foreign-key checks back on.
        return [*sql[:-1], truncate, sql[-1]]

    return sql_flush


def _sqlite_flush(original: Any) -> Any:
    def sql_flush(self: Any, style: Any, tables: Any, **kwargs: Any) -> list[str]:
        sql = list(original(self, style, tables, **kwargs))
        if not any(self.quote_name(LEDGER) in statement for statement in sql):
            return sql
        create, drop = _migration.SQL["sqlite"]
        return [*drop, *sql, *create]

    return sql_flush


def install() -> None:
    """Wraps the MySQL and SQLite flush SQL once per process."""
    for operations, wrap in ((MySQLOperations, _mysql_flush), (SQLiteOperations, _sqlite_flush)):
        if not getattr(operations.sql_flush, "_ledger_aware", False):
            wrapped = wrap(operations.sql_flush)
            wrapped._ledger_aware = True
            operations.sql_flush = wrapped  # type: ignore[method-assign]
