"""Grants, adjustments and the database rules behind every balance."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, IntegrityError, connection, transaction

from points.models import PointsAccount, PointsTransaction
from points.services.grants import points_adjust, points_grant
from shop.http.errors import InvalidAmount, NegativeBalance


def test_points_grant_credits_balance_and_writes_ledger(make_user):
    user = make_user()
    entry = points_grant(user=user, amount=250, reason="Quarterly award")
    account = PointsAccount.objects.get(user=user)
    assert (account.balance, account.total_earned, account.total_redeemed) == (250, 250, 0)
    assert (entry.type, entry.amount, entry.balance_after) == ("earned", 250, 250)


@pytest.mark.parametrize("amount", [0, -5, 1_000_001, True])
def test_points_grant_refuses_bad_amounts(make_user, amount):
    user = make_user()
    with pytest.raises(InvalidAmount):
        points_grant(user=user, amount=amount, reason="x")
    assert PointsTransaction.objects.filter(account_id=user.pk).count() == 0


def test_points_grant_requires_a_reason(make_user):
    with pytest.raises(InvalidAmount):
        points_grant(user=make_user(), amount=5, reason="  ")


def test_points_adjust_deducts(make_user):
    user = make_user(points=100)
    entry = points_adjust(user=user, amount=-40, reason="Correction")
    account = PointsAccount.objects.get(user=user)
    assert (account.balance, account.total_adjusted, entry.type) == (60, -40, "adjusted")


def test_points_adjust_below_zero_is_refused_and_changes_nothing(make_user):
    user = make_user(points=100)
    with pytest.raises(NegativeBalance):
        points_adjust(user=user, amount=-101, reason="Too much")
    assert PointsAccount.objects.get(user=user).balance == 100
    assert PointsTransaction.objects.filter(account_id=user.pk).count() == 1


def test_database_refuses_a_negative_balance_even_bypassing_services(make_user):
    user = make_user(points=10)
    with pytest.raises(IntegrityError), transaction.atomic():
        PointsAccount.objects.filter(user=user).update(balance=-1, total_adjusted=-11)


def test_database_refuses_balance_that_disagrees_with_totals(make_user):
    user = make_user(points=10)
    with pytest.raises(IntegrityError), transaction.atomic():
        PointsAccount.objects.filter(user=user).update(balance=11)


def test_database_refuses_a_debit_typed_as_earned(make_user):
    user = make_user(points=10)
    with pytest.raises(IntegrityError), transaction.atomic():
        PointsTransaction.objects.create(account_id=user.pk, type="earned", amount=-5, balance_after=5)


def test_ledger_entries_are_append_only(make_user):
    user = make_user(points=10)
    entry = PointsTransaction.objects.get(account_id=user.pk)
    entry.amount = 1000
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    with pytest.raises(ValueError, match="append-only"):
        entry.delete()


def test_check_ledger_passes_on_consistent_data(make_user, capsys):
    make_user(points=10)
    call_command("check_ledger")
    assert "Ledger OK" in capsys.readouterr().out


def test_check_ledger_detects_a_corrupted_balance(make_user, capsys):
    user = make_user(points=10)
    # Corrupt consistently with the totals so the CHECK constraint lets it through: only the
    # ledger comparison can find it.
    PointsAccount.objects.filter(user=user).update(balance=500, total_earned=500)
    with pytest.raises(CommandError, match="violation"):
        call_command("check_ledger")
    err = capsys.readouterr().err
    assert user.email in err and "ledger sum 10" in err


def test_grant_points_command(make_user, capsys):
    user = make_user()
    call_command("grant_points", "--email", user.email.upper(), "--amount", "75", "--reason", "Thanks")
    assert PointsAccount.objects.get(user=user).balance == 75


def test_grant_points_command_all_active(make_user):
    a, b, inactive = make_user(), make_user(), make_user(is_active=False)
    call_command("grant_points", "--all-active", "--amount", "10", "--reason", "Holiday")
    balances = dict(PointsAccount.objects.values_list("user__email", "balance"))
    assert balances[a.email] == 10 and balances[b.email] == 10 and balances[inactive.email] == 0


def test_grant_points_command_unknown_email_fails(db):
    with pytest.raises(CommandError, match="No employee"):
        call_command("grant_points", "--email", "ghost@example.com", "--amount", "5", "--reason", "x")


@pytest.mark.django_db
def test_the_database_refuses_to_change_a_ledger_entry(make_user):
    user = make_user(points=100)
    entry = PointsTransaction.objects.get(account_id=user.pk)
    attempts = [
        lambda: PointsTransaction.objects.filter(pk=entry.pk).update(
            amount=1_000_000, balance_after=1_000_000
        ),
        lambda: PointsTransaction.objects.filter(pk=entry.pk).update(description="rewritten history"),
    ]
    for attempt in attempts:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            attempt()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as c:
        c.execute(f"UPDATE {PointsTransaction._meta.db_table} SET amount = 5")
    entry.refresh_from_db()
    assert (entry.amount, entry.balance_after, entry.description) == (100, 100, entry.description)
    call_command("check_ledger")
