"""Reads of balances and the ledger."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncWeek
from django.utils import timezone

from points.expiry import ENTRY_FIELDS, expiry_months, lots_from_entries
from points.models import GrantRequest, PointsAccount, PointsTransaction
from shop.models import User

LEFT_OUT_OWN = "your own account: another HR user must grant it"
LEFT_OUT_NOT_EMPLOYEE = "not on the employee roster (an HR-only or operations account)"
LEFT_OUT_INACTIVE = "deactivated"


def grant_recipients_split(
    *, users: Iterable[User], acting: User | None
) -> tuple[list[User], list[tuple[User, str]]]:
    """Who of `users` a bulk grant by `acting` reaches, and who it leaves out and why."""
    included: list[User] = []
    left_out: list[tuple[User, str]] = []
    for user in users:
        if acting is not None and user.pk == acting.pk:
            left_out.append((user, LEFT_OUT_OWN))
        elif not user.is_active:
            left_out.append((user, LEFT_OUT_INACTIVE))
        elif not user.is_employee:
            left_out.append((user, LEFT_OUT_NOT_EMPLOYEE))
        else:
            included.append(user)
    return included, left_out


def grant_requests_pending(*, limit: int = 5) -> tuple[int, list[GrantRequest]]:
    """For the dashboard: how many requests wait for approval, and the oldest few."""
    pending = GrantRequest.objects.filter(status=GrantRequest.Status.PENDING)
    return pending.count(), list(pending.select_related("requested_by").order_by("requested_at")[:limit])


def account_get(*, user: User) -> PointsAccount:
    return PointsAccount.objects.get(user=user)


def ledger_list(*, user: User) -> QuerySet[PointsTransaction]:
    return PointsTransaction.objects.filter(account_id=user.pk).order_by("-created_at", "-id")


def ledger_last_entry_at(*, user_ref: Any) -> QuerySet[PointsTransaction, Any]:
    """The time of an account's latest ledger entry, for a Subquery (`user_ref` is an OuterRef to
    the user's pk, which is the account's pk)."""
    return (
        PointsTransaction.objects.filter(account_id=user_ref).order_by("-created_at").values("created_at")[:1]
    )


@dataclass
class WeekFlow:
    week_start: date
    granted: int
    redeemed: int


def points_weekly_flows(*, weeks: int = 12, today: date | None = None) -> list[WeekFlow]:
    """Points granted (earned entries) and redeemed (orders, before refunds) per ISO week.

    One grouped query; weeks with no activity are filled in with zeros, oldest first.
    """
    today = today or timezone.now().date()
    first_week = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    start = datetime.combine(first_week, datetime.min.time(), tzinfo=timezone.get_current_timezone())
    rows = (
        PointsTransaction.objects.filter(
            created_at__gte=start, type__in=[PointsTransaction.Type.EARNED, PointsTransaction.Type.REDEEMED]
        )
        .annotate(week=TruncWeek("created_at"))
        .values("week", "type")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    by_week: dict[date, WeekFlow] = {
        first_week + timedelta(weeks=i): WeekFlow(first_week + timedelta(weeks=i), 0, 0) for i in range(weeks)
    }
    for row in rows:
        week = row["week"]
        key = week.date() if isinstance(week, datetime) else week
        flow = by_week.get(key)
        if flow is None:
            continue
        if row["type"] == PointsTransaction.Type.EARNED:
            flow.granted += int(row["total"])
        else:
            flow.redeemed += -int(row["total"])
    return list(by_week.values())


@dataclass
class UnspentSummary:
    employees: int
    points: int
    top: list[PointsAccount]


def points_unspent_summary(*, limit: int = 10) -> UnspentSummary:
    """Active employees holding points: how many, how much in all, and the largest balances."""
    accounts = PointsAccount.objects.filter(balance__gt=0, user__is_active=True)
    totals = accounts.aggregate(employees=Count("pk"), points=Sum("balance"))
    top = list(accounts.select_related("user").order_by("-balance", "user__email")[:limit])
    return UnspentSummary(employees=totals["employees"] or 0, points=int(totals["points"] or 0), top=top)


@dataclass(frozen=True)
class Expiring:
    points: int
    expires_on: dt.date | None


def points_expiring(*, user_id: Any, after: dt.date, days: int) -> Expiring:
    """Points of the account that expire in the ``days`` after ``after`` (0 when expiry is off)."""
    months = expiry_months()
    if months <= 0:
        return Expiring(0, None)
    entries = (
        PointsTransaction.objects.filter(account_id=user_id)
        .order_by("created_at", "id")
        .values(*ENTRY_FIELDS)
    )
    points, first = lots_from_entries(entries, months=months).upcoming(after, after + dt.timedelta(days=days))
    return Expiring(points, first)


def accounts_with_points() -> QuerySet[PointsAccount]:
    """Accounts that could have anything to expire, in lock order."""
    return PointsAccount.objects.filter(balance__gt=0).order_by("pk")


def points_expiring_total(*, after: dt.date, days: int) -> int | None:
    """Points of all accounts expiring in the ``days`` after ``after``; None when expiry is off.

    Replays the whole ledger once, in account order, streamed: one query, memory for one
    account's lots at a time.
    """
    months = expiry_months()
    if months <= 0:
        return None
    until = after + dt.timedelta(days=days)
    total = 0
    current: Any = None
    batch: list[dict[str, Any]] = []

    def flush() -> int:
        return lots_from_entries(batch, months=months).upcoming(after, until)[0] if batch else 0

    entries = PointsTransaction.objects.order_by("account_id", "created_at", "id").values(
        "account_id", *ENTRY_FIELDS
    )
    for entry in entries.iterator(chunk_size=5000):
        if entry["account_id"] != current:
            total += flush()
            current, batch = entry["account_id"], []
        batch.append(entry)
    return total + flush()
