"""Reads of balances and the ledger."""

from __future__ import annotations

from django.db.models import QuerySet

from points.models import PointsAccount, PointsTransaction
from shop.models import User


def account_get(*, user: User) -> PointsAccount:
    return PointsAccount.objects.get(user=user)


def ledger_list(*, user: User) -> QuerySet[PointsTransaction]:
    return PointsTransaction.objects.filter(account_id=user.pk).order_by("-created_at", "-id")
