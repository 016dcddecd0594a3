"""The database refuses to delete ledger entries (points/migrations/0006), on every engine."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from points.models import PointsTransaction
from points.services.grants import points_grant
from shop.models import User

TABLE = PointsTransaction._meta.db_table


def _refused(sql: str, params: list[object] | None = None) -> None:
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as c:
        c.execute(sql, params)


def test_the_database_refuses_to_delete_a_ledger_entry(make_user: Callable[..., User]) -> None:
    user = make_user(points=100)
    points_grant(user=user, amount=50, reason="Second award")
    entries = list(PointsTransaction.objects.filter(account_id=user.pk).order_by("pk"))
    assert len(entries) == 2

    pk = PointsTransaction._meta.pk.get_db_prep_value(entries[0].pk, connection)  # type: ignore[union-attr]
    _refused(f"DELETE FROM {TABLE} WHERE id = %s", [pk])
    _refused(f"DELETE FROM {TABLE}")
    # The queryset's delete() skips the model's own refusal and issues a DELETE: still refused.
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        PointsTransaction.objects.filter(pk=entries[1].pk).delete()

    assert list(PointsTransaction.objects.filter(account_id=user.pk).order_by("pk")) == entries
    call_command("check_ledger")


@pytest.mark.django_db(transaction=True)
def test_the_flush_between_transactional_tests_empties_the_ledger_and_keeps_the_trigger(
    make_user: Callable[..., User],
) -> None:
    # Exactly what TransactionTestCase runs after each test (tests/support/ledger_flush.py).
    make_user(points=100)
    call_command("flush", verbosity=0, interactive=False, reset_sequences=False, allow_cascade=False)
    assert not PointsTransaction.objects.exists()

    user = make_user(points=7)
    _refused(f"DELETE FROM {TABLE}")
    assert PointsTransaction.objects.filter(account_id=user.pk).count() == 1
