"""Row locks for points accounts.

THE LOCK ORDER, for every writer in the project: a grant approval request first (approving
one locks it, then applies its grant), then points account(s), ordered by pk, then product(s),
ordered by pk, then the order row, then the order's idempotency record (inserted there with
its response; orders.idempotency), and last the catalog version row (updated when stock
reaches or leaves zero or a product changes; catalog.services.catalog_version_bump). Two
transactions that follow one order cannot deadlock each other. One departure: taking over a
key whose earlier claim died locks that key's record right after the account, before the
product (orders.idempotency); a key belongs to one employee and every path to its record holds
that employee's account lock first, so no two transactions meet there in opposite orders. Locks are plain `select_for_update()` on single-table querysets: MariaDB
rejects `of=...`, and these querysets join nothing, so it is not needed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from points.models import GrantRequest, PointsAccount
from shop.db.transactions import lock_one


def grant_request_for_update(request_id: Any) -> GrantRequest:
    """First in the lock order: the second of two simultaneous approvers waits here, then sees
    the request already decided."""
    return GrantRequest.objects.select_for_update().get(pk=request_id)


def accounts_for_update(user_ids: Iterable[Any]) -> QuerySet[PointsAccount]:
    return PointsAccount.objects.select_for_update().filter(user_id__in=list(user_ids)).order_by("pk")


def account_for_update(user_id: Any) -> PointsAccount:
    # Every order locks one account: a statement made once (shop.db.transactions.lock_one), not per call.
    account = lock_one(PointsAccount, "user", user_id)
    if account is None:
        raise PointsAccount.DoesNotExist(f"No points account for user {user_id}.")
    return account
