"""Row locks for points accounts.

THE LOCK ORDER, for every writer in the project: points account(s) first, ordered by pk, then
product(s), ordered by pk, then the order row, and last the catalog version row (updated when
stock reaches or leaves zero or a product changes; catalog.services.catalog_version_bump). Two transactions that follow one order cannot
deadlock each other. Locks are plain `select_for_update()` on single-table querysets: MariaDB
rejects `of=...`, and these querysets join nothing, so it is not needed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from points.models import PointsAccount


def accounts_for_update(user_ids: Iterable[Any]) -> QuerySet[PointsAccount]:
    return PointsAccount.objects.select_for_update().filter(user_id__in=list(user_ids)).order_by("pk")


def account_for_update(user_id: Any) -> PointsAccount:
    return PointsAccount.objects.select_for_update().get(user_id=user_id)
