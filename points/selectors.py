"""Reads of balances and the ledger."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import groupby
from operator import itemgetter
from typing import Any

from django.db import IntegrityError, OperationalError, connection, connections, transaction
from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Sum, Value, When
from django.utils import timezone

from points.expiry import ENTRY_FIELDS, expiry_months, lots_from_entries
from points.models import ExpiryLots, GrantRequest, PointsAccount, PointsTransaction
from shop.models import User

logger = logging.getLogger(__name__)

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
        why = grant_left_out_reason(user, acting=acting)
        if why is None:
            included.append(user)
        else:
            left_out.append((user, why))
    return included, left_out


def grant_left_out_reason(user: User, *, acting: User | None) -> str | None:
    """Why a grant by `acting` leaves `user` out (never one's own account, only active
    employees on the roster), or None when the grant reaches them."""
    # What is true of the account whoever grants comes first: an HR-only account has no points
    # to grant, so "another HR user must grant it" would send HR looking for a way that is not there.
    if not user.is_active:
        return LEFT_OUT_INACTIVE
    if not user.is_employee:
        return LEFT_OUT_NOT_EMPLOYEE
    if acting is not None and user.pk == acting.pk:
        return LEFT_OUT_OWN
    return None


def grant_requests_pending(*, limit: int = 5) -> tuple[int, list[GrantRequest]]:
    """For the dashboard: how many requests wait for approval, and the oldest few."""
    pending = GrantRequest.objects.filter(status=GrantRequest.Status.PENDING)
    return pending.count(), list(pending.select_related("requested_by").order_by("requested_at")[:limit])


def account_get(*, user: User) -> PointsAccount:
    # The API's authentication loads the account with the user, in the same query
    # (API_USER_SELECT_RELATED); anyone else's user costs one query here.
    if User.points_account.related.is_cached(user):
        return user.points_account
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
class UnspentSummary:
    employees: int
    points: int
    top: list[PointsAccount]


def points_unspent_summary(*, limit: int = 10, department: str = "") -> UnspentSummary:
    """Active employees holding points: how many, how much in all, and the largest balances."""
    accounts = PointsAccount.objects.filter(balance__gt=0, user__is_active=True)
    if department:
        accounts = accounts.filter(user__department=department)
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


def points_expiring_total(*, after: dt.date, days: int, department: str = "") -> int | None:
    """Points of all accounts expiring in the ``days`` after ``after``; None when expiry is off.

    See ``points_expiring_windows``.
    """
    totals = points_expiring_windows(after=after, windows=(days,), department=department)
    return None if totals is None else totals[days]


# --- HR reports: grouped SQL over the ledger, a fixed number of queries whatever the volume --

PERIODS = ("week", "month")


def period_start(day: date, period: str) -> date:
    return day - timedelta(days=day.weekday()) if period == "week" else day.replace(day=1)


def period_next(day: date, period: str) -> date:
    if period == "week":
        return day + timedelta(weeks=1)
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def periods_between(start: date, end: date, period: str) -> list[date]:
    """The starts of the periods (weeks from Monday, calendar months) that touch [start, end]."""
    first, result = period_start(start, period), []
    while first <= end:
        result.append(first)
        first = period_next(first, period)
    return result


def day_start(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=timezone.get_current_timezone())


def _ledger_window(*, start: date | None, end: date | None, department: str) -> QuerySet[PointsTransaction]:
    """Ledger entries from ``start`` to ``end`` inclusive (local days), of one department if given."""
    entries = PointsTransaction.objects.all()
    if start is not None:
        entries = entries.filter(created_at__gte=day_start(start))
    if end is not None:
        entries = entries.filter(created_at__lt=day_start(end + timedelta(days=1)))
    if department:
        entries = entries.filter(account__user__department=department)
    return entries


def _period_index(firsts: list[date]) -> Case:
    """Which of the periods starting at ``firsts`` an entry falls in, as a CASE of plain
    comparisons: the same SQL on every engine, where TruncWeek/TruncMonth is a Python function
    called per row on SQLite (seconds on 200,000 rows). Entries must already be in the window."""
    return Case(
        *(When(created_at__lt=day_start(first), then=Value(i - 1)) for i, first in enumerate(firsts[1:], 1)),
        default=Value(len(firsts) - 1),
        output_field=IntegerField(),
    )


@dataclass(frozen=True)
class Liability:
    """Points held now: the company owes them (in products) until spent or expired."""

    accounts: int
    points: int
    active_points: int


def points_liability_now(*, department: str = "") -> Liability:
    accounts = PointsAccount.objects.all()
    if department:
        accounts = accounts.filter(user__department=department)
    totals = accounts.aggregate(
        accounts=Count("pk", filter=Q(balance__gt=0)),
        points=Sum("balance"),
        active_points=Sum("balance", filter=Q(user__is_active=True)),
    )
    return Liability(
        accounts=totals["accounts"] or 0,
        points=int(totals["points"] or 0),
        active_points=int(totals["active_points"] or 0),
    )


@dataclass(frozen=True)
class LiabilityPoint:
    period: date
    change: int
    outstanding: int  # at the end of the period


def points_liability_series(
    *, period: str, start: date, end: date, department: str = ""
) -> list[LiabilityPoint]:
    """Outstanding points at the end of each period, from the ledger alone (two queries).

    Every balance is the sum of its ledger, so the liability at any moment is the sum of all
    entries before it: the opening sum before ``start`` plus each period's net change.
    """
    opening = _ledger_window(start=None, end=start - timedelta(days=1), department=department).aggregate(
        total=Sum("amount")
    )["total"]
    firsts = periods_between(start, end, period)
    changes = {
        row["p"]: int(row["total"])
        for row in _ledger_window(start=start, end=end, department=department)
        .annotate(p=_period_index(firsts))
        .values("p")
        .annotate(total=Sum("amount"))
        .order_by()
    }
    outstanding = int(opening or 0)
    series = []
    for i, first in enumerate(firsts):
        change = changes.get(i, 0)
        outstanding += change
        series.append(LiabilityPoint(first, change, outstanding))
    return series


@dataclass
class Flows:
    """Points moved in a period or department, by kind (all positive figures)."""

    key: Any
    granted: int = 0
    adjusted: int = 0
    redeemed: int = 0
    refunded: int = 0
    expired: int = 0

    @property
    def redeemed_net(self) -> int:
        return self.redeemed - self.refunded


_FLOW_SUMS = {
    "granted": Sum("amount", filter=Q(type=PointsTransaction.Type.EARNED)),
    "adjusted": Sum("amount", filter=Q(type=PointsTransaction.Type.ADJUSTED)),
    "redeemed": Sum("amount", filter=Q(type=PointsTransaction.Type.REDEEMED)),
    "refunded": Sum("amount", filter=Q(type=PointsTransaction.Type.REFUNDED)),
    "expired": Sum("amount", filter=Q(type=PointsTransaction.Type.EXPIRED)),
}


def _flows(key: Any, row: dict[str, Any]) -> Flows:
    # Debits are stored negative; the report shows sizes. Adjustments keep their sign.
    return Flows(
        key=key,
        granted=int(row["granted"] or 0),
        adjusted=int(row["adjusted"] or 0),
        redeemed=-int(row["redeemed"] or 0),
        refunded=int(row["refunded"] or 0),
        expired=-int(row["expired"] or 0),
    )


def points_flows_by_period(*, period: str, start: date, end: date, department: str = "") -> list[Flows]:
    """Grants, adjustments, redemptions, refunds and expiries per week or month (one query)."""
    firsts = periods_between(start, end, period)
    rows = {
        row["p"]: row
        for row in _ledger_window(start=start, end=end, department=department)
        .annotate(p=_period_index(firsts))
        .values("p")
        .annotate(**_FLOW_SUMS)
        .order_by()
    }
    return [_flows(first, rows[i]) if i in rows else Flows(key=first) for i, first in enumerate(firsts)]


def points_flows_by_department(*, start: date, end: date) -> list[Flows]:
    """The same figures per department over [start, end] (one query); "" is no department."""
    rows = (
        _ledger_window(start=start, end=end, department="")
        .values(department=F("account__user__department"))
        .annotate(**_FLOW_SUMS)
        .order_by("department")
    )
    return [_flows(row["department"], row) for row in rows]


def points_expiring_windows(
    *, after: dt.date, windows: Iterable[int] = (30, 60, 90), department: str = ""
) -> dict[int, int] | None:
    """Points expiring within each of ``windows`` days after ``after``; None when expiry is off.

    Every account's lots as a replay of its whole ledger gives them (``_current_lots``: cached,
    only accounts whose ledger changed are replayed), summed per window.
    """
    months = expiry_months()
    if months <= 0:
        return None
    # ISO dates compare as strings in date order: the cached lots are summed without parsing.
    first = after.isoformat()
    ends = {days: (after + dt.timedelta(days=days)).isoformat() for days in windows}
    totals = dict.fromkeys(ends, 0)
    for lots in _current_lots(months=months, department=department):
        for expires_on, points in lots:
            if expires_on <= first:
                continue
            for days, until in ends.items():
                if expires_on <= until:
                    totals[days] += points
    return totals


# Up to this many accounts to replay, and fewer than half of them, their entries are read
# through an IN list of their ids; otherwise the whole (filtered) ledger is streamed and the
# other accounts skipped. One query either way; the list stays far below the parameter limits
# (SQLite's is 999 in Django's eyes: max_query_params).
REPLAY_BY_ID_MAX = 5000


def _current_lots(*, months: int, department: str) -> list[list[list[Any]]]:
    """Each (filtered) account's lots, ``[[ISO date, points], ...]``, exactly as replaying its
    whole ledger gives them, in at most four queries whatever the volume (SQLite writes the
    cache in batches of ~160 rows).

    Replaying 200,000 entries takes seconds, so the result is kept per account in
    ``ExpiryLots``: the entry counts of the accounts (one grouped query) and the cached rows for
    this policy (one query) tell which accounts are unchanged; only the others' entries are read
    (one streamed query) and replayed, and their rows written (one upsert). Reading the ledger
    after counting it can only see more entries (it is append-only); a row stores the number of
    entries actually replayed, so it is never labelled with a set it was not computed from.

    The rows are read as the database driver returns them (``_raw_rows``): Django's per-row
    converters (UUIDs, datetimes, JSON) were half the time of a cold call (profiled, SQLite).
    Account and order ids stay the driver's values, compared only with each other.
    """
    zone = timezone.get_current_timezone_name()
    entries = _ledger_window(start=None, end=None, department=department)
    # COUNT(*), not COUNT(id): the (account, created_at) index answers it without reading rows
    # (ten times faster on SQLite at 200,000 entries).
    counts: dict[Any, int] = dict(
        _raw_rows(entries.values_list("account_id").annotate(n=Count("*")).order_by())
    )
    cached = ExpiryLots.objects.filter(months=months, time_zone=zone)
    if department:
        cached = cached.filter(account__user__department=department)
    result: list[list[list[Any]]] = []
    for account_id, entry_count, lots in _raw_rows(cached.values_list("account_id", "entry_count", "lots")):
        if counts.get(account_id) == entry_count:
            del counts[account_id]
            # PostgreSQL's driver may hand jsonb over decoded; the others give the JSON text.
            result.append(json.loads(lots) if isinstance(lots, str | bytes) else lots)
    accounts, stale = len(counts) + len(result), counts  # what is left: no matching row
    if not stale:
        return result
    by_id_max = min(REPLAY_BY_ID_MAX, connection.features.max_query_params or REPLAY_BY_ID_MAX) - 10
    if len(stale) <= by_id_max and 2 * len(stale) < accounts:
        entries = entries.filter(account_id__in=list(stale))
    stream = _raw_rows(
        entries.order_by("account_id", "created_at", "id").values_list("account_id", *ENTRY_FIELDS)
    )
    stored_as = connection.timezone  # of the naive datetimes MariaDB and SQLite return
    rows: list[ExpiryLots] = []
    for account_id, account_rows in groupby(stream, key=itemgetter(0)):
        if account_id not in stale:
            continue
        batch = [
            {
                "account_id": account_id,
                "type": kind,
                "amount": amount,
                "created_at": _aware(created_at, stored_as),
                "order_id": order_id,
            }
            for _, kind, amount, created_at, order_id in account_rows
        ]
        lots = lots_from_entries(batch, months=months).as_json()
        result.append(lots)
        rows.append(
            ExpiryLots(
                account_id=account_id, entry_count=len(batch), months=months, time_zone=zone, lots=lots
            )
        )
    _expiry_lots_store(rows)
    return result


def _raw_rows(queryset: QuerySet[Any], *, chunk_size: int = 5000) -> Iterator[tuple[Any, ...]]:
    """A ``values_list`` queryset's rows as the driver returns them, without Django's converters."""
    sql, params = queryset.query.get_compiler(queryset.db).as_sql()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(chunk_size):
            yield from rows


def _aware(moment: datetime | str, stored_as: dt.tzinfo | None) -> datetime:
    """A ledger time as the driver returns it (SQLite: ISO text; MariaDB: naive; PostgreSQL:
    aware) as Django's converter would give it: aware, unless USE_TZ is off (``stored_as`` None)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo is not None or stored_as is None else moment.replace(tzinfo=stored_as)


def _expiry_lots_store(rows: list[ExpiryLots]) -> None:
    """Upsert the replayed accounts' rows. Two HR users loading the dashboard at once write the
    same rows: both in account order, so neither waits for a lock the other holds in the
    opposite order, and the later write wins with the same (or a newer) result. Should the
    database still refuse one write (a deadlock on MariaDB), that request's figures are already
    computed and right; only its cache rows are not kept."""
    if not rows:
        return
    rows.sort(key=lambda row: str(row.account_id))
    try:
        with transaction.atomic():
            ExpiryLots.objects.bulk_create(
                rows,
                update_conflicts=True,
                # MariaDB's ON DUPLICATE KEY UPDATE names no conflict target (any unique key counts).
                unique_fields=["account"]
                if connection.features.supports_update_conflicts_with_target
                else None,
                update_fields=["entry_count", "months", "time_zone", "lots", "updated_at"],
            )
    except (OperationalError, IntegrityError):
        logger.warning("expiry lots cache: %d rows not written (concurrent write)", len(rows), exc_info=True)
