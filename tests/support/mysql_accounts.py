"""A throwaway MySQL/MariaDB account on the test database, for tests that log in as the
deployment does (a password, limited privileges) rather than as this machine's root."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


@contextmanager
def temporary_account(user: str, password: str, privileges: str = "ALL") -> Iterator[str]:
    # '%%' and the empty parameter lists: the cursor formats with %, and '%' is the any-host mask.
    def drop() -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP USER IF EXISTS '{user}'@'%%'", [])

    drop()
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE USER '{user}'@'%%' IDENTIFIED BY %s", [password])
        cursor.execute(f"GRANT {privileges} ON `{connection.settings_dict['NAME']}`.* TO '{user}'@'%%'", [])
    try:
        yield user
    finally:
        drop()
