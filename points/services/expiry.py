"""The write that expires due points (points_expire, run daily by `expire_points`); the policy
and the lot arithmetic it applies are points.expiry's, which the reports read too."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from points.expiry import ENTRY_FIELDS, expiry_months, lots_from_entries
from points.lock_objects import account_for_update
from points.models import PointsTransaction
from points.services.ledger import ledger_apply
from shop.db.transactions import retry_on_conflict

Type = PointsTransaction.Type


@retry_on_conflict
def points_expire(*, user_id: Any, as_of: dt.date) -> PointsTransaction | None:
    """Expire the account's points whose date is on or before ``as_of`` (``points/expiry.py``).

    Locks the account like every other writer (the one lock order), so it is safe beside
    orders and grants, and writes at most one ``expired`` entry. Idempotent: the entry consumes
    the lots it expires, so a second run for the same date finds nothing due.
    """
    months = expiry_months()
    if months <= 0:
        return None
    with transaction.atomic():
        account = account_for_update(user_id)
        entries = account.entries.order_by("created_at", "id").values(*ENTRY_FIELDS)
        due = lots_from_entries(entries, months=months).due(as_of)
        if due <= 0:
            return None
        return ledger_apply(
            account=account,
            type=Type.EXPIRED,
            amount=-due,
            description=f"{due} points reached their expiry date (on or before {as_of.isoformat()})",
        )
