"""On MySQL/MariaDB an atomic block begins with START TRANSACTION and leaves the session in
autocommit mode (shop/db/backends/mysql/base.py): no ``SET autocommit`` before or after, and
commits, rollbacks, savepoints and row locks behave as they did."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import OperationalError, connection, transaction

from shop.models import User
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.skipif(connection.vendor != "mysql", reason="MySQL's way of beginning a transaction"),
    pytest.mark.django_db(transaction=True),
]


def _status(name: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SHOW SESSION STATUS LIKE %s", [name])
        return int(cursor.fetchone()[1])


def _committed_name(pk: Any) -> str | None:
    """The name another connection reads: only what was committed."""
    found: list[str | None] = []

    def read() -> None:
        try:
            found.append(User.objects.filter(pk=pk).values_list("name", flat=True).first())
        finally:
            connection.close()

    reader = threading.Thread(target=read)
    reader.start()
    reader.join()
    return found[0]


def test_an_atomic_block_sends_no_set_autocommit() -> None:
    user = UserFactory(name="before")
    sets, begins = _status("Com_set_option"), _status("Com_begin")
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(name="after")
    # Each SHOW also counts nothing here; Django's way would count 2 SETs and no BEGIN.
    assert (_status("Com_set_option") - sets, _status("Com_begin") - begins) == (0, 1)
    assert connection.connection.get_autocommit() is True
    assert connection.get_autocommit() is True


def test_what_a_block_writes_is_seen_only_after_its_commit() -> None:
    user = UserFactory(name="before")
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(name="inside")
        assert _committed_name(user.pk) == "before"
    assert _committed_name(user.pk) == "inside"
    # After the block, a statement commits by itself again.
    User.objects.filter(pk=user.pk).update(name="autocommitted")
    assert _committed_name(user.pk) == "autocommitted"


def _rename_then_fail(pk: Any, name: str) -> None:
    with transaction.atomic():
        User.objects.filter(pk=pk).update(name=name)
        raise RuntimeError(name)


def test_a_failed_block_rolls_back_and_a_failed_savepoint_only_its_part() -> None:
    user = UserFactory(name="before")
    with pytest.raises(RuntimeError):
        _rename_then_fail(user.pk, "lost")
    assert _committed_name(user.pk) == "before"
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(name="kept")
        with pytest.raises(RuntimeError):
            _rename_then_fail(user.pk, "rolled back to the savepoint")
    assert _committed_name(user.pk) == "kept"
    User.objects.filter(pk=user.pk).update(name="then autocommitted")
    assert _committed_name(user.pk) == "then autocommitted"


def test_a_row_lock_is_held_until_the_commit() -> None:
    user = UserFactory(name="before")
    outcome: list[str] = []

    def try_lock() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET SESSION innodb_lock_wait_timeout = 1")
            with transaction.atomic():
                User.objects.select_for_update().get(pk=user.pk)
            outcome.append("locked")
        except OperationalError as exc:
            outcome.append(f"waited: {exc.args[0]}")
        finally:
            connection.close()

    with transaction.atomic():
        User.objects.select_for_update().get(pk=user.pk)
        other = threading.Thread(target=try_lock)
        other.start()
        other.join()
    assert outcome == ["waited: 1205"]  # lock wait timeout
