"""The ledger: opening points accounts, and ledger_apply, the one balance write, which
records its ledger entry in the same transaction and counts it in the metrics on commit."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.db import transaction

from points.models import GrantBatch, PointsAccount, PointsTransaction
from shop.db.transactions import insert_new, save_fields
from shop.http.errors import NegativeBalance
from shop.models import User
from shop.observability import metrics

Type = PointsTransaction.Type


def account_create(*, user: User) -> PointsAccount:
    return PointsAccount.objects.create(user=user)


def accounts_create(*, users: Sequence[User]) -> list[PointsAccount]:
    """Empty accounts for many new employees in one statement (the roster import)."""
    return PointsAccount.objects.bulk_create([PointsAccount(user=user) for user in users])


def ledger_apply(
    *,
    account: PointsAccount,
    type: str,
    amount: int,
    description: str = "",
    order_id: uuid.UUID | None = None,
    created_by: User | None = None,
    batch: GrantBatch | None = None,
) -> PointsTransaction:
    """Apply one signed amount to a locked account and write its ledger entry.

    The caller must hold the account's row lock inside a transaction. Totals move as the
    models module describes; the database's CHECK constraints back every rule here.
    """
    if account.balance + amount < 0:
        raise NegativeBalance()
    account.balance += amount
    update_fields = ["balance", "updated_at"]
    if type == Type.EARNED:
        account.total_earned += amount
        update_fields.append("total_earned")
    elif type in (Type.REDEEMED, Type.REFUNDED):
        account.total_redeemed -= amount
        update_fields.append("total_redeemed")
    elif type == Type.EXPIRED:
        account.total_expired -= amount
        update_fields.append("total_expired")
    else:
        account.total_adjusted += amount
        update_fields.append("total_adjusted")
    save_fields(account, update_fields)
    entry = PointsTransaction(
        account=account,
        type=type,
        amount=amount,
        balance_after=account.balance,
        order_id=order_id,
        description=description[:255],
        created_by=created_by,
        batch=batch,
    )
    insert_new(entry)
    ledger_metrics_on_commit(type=type, amounts=[amount])
    return entry


# Ledger entry type -> (points moved, entries written) metrics (docs/metrics.md).
_LEDGER_METRICS = {
    Type.EARNED: ("PointsGranted", "Grants"),
    Type.REDEEMED: ("PointsRedeemed", "Redemptions"),
    Type.REFUNDED: ("PointsRefunded", "Refunds"),
    Type.ADJUSTED: ("PointsAdjusted", "Adjustments"),
    Type.EXPIRED: ("PointsExpired", "Expiries"),
}


def ledger_metrics_on_commit(*, type: str, amounts: list[int]) -> None:
    """Count points moved once the transaction commits: a rolled-back write counts nothing."""
    if not amounts or not metrics.enabled():
        return
    points_metric, entries_metric = _LEDGER_METRICS[Type(type)]
    # Debits are stored negative; the metrics count points moved, so always positive.
    total = sum(abs(amount) for amount in amounts)

    def emit() -> None:
        metrics.count(points_metric, total)
        metrics.count(entries_metric, len(amounts))

    transaction.on_commit(emit)
