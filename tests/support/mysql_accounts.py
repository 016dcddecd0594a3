"""A throwaway MySQL/MariaDB account on the test database, for tests that log in as the
deployment does (a password, limited privileges) rather than as this machine's root."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


def account_name(base: str) -> str:
    """A server-wide account name unique to this test process.

    Accounts belong to the server, not to one database, so two suites running at once against
    the same MariaDB (parallel CI jobs, two developers) would drop each other's accounts.
    """
    return f"{base}_{os.getpid()}"


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
