"""HR reports: liability now and over time, flows by period and department, top products,
expiring points; the figures on a small known data set, the CSV exports and pinned query counts."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.selectors import products_top
from orders.services import order_place, order_refund
from points.expiry import ENTRY_FIELDS, lots_from_entries
from points.models import ExpiryLots, PointsAccount, PointsTransaction
from points.selectors import (
    points_expiring_windows,
    points_flows_by_department,
    points_flows_by_period,
    points_liability_now,
    points_liability_series,
)
from points.services.expiry import points_expire
from points.services.grants import points_adjust, points_grant
from tests.factories import ProductFactory
from tests.points.test_expiry import clock

D = dt.date
REPORTS = reverse("hr_reports")
PERIOD = {"date_from": "2026-01-01", "date_to": "2026-03-31"}


@pytest.fixture
def ledger(make_user: Any, category: Any) -> dict[str, Any]:
    """Sales: s1 (100, spends 40), s2 (200); Engineering: e1 (300, spends 200, refunded);
    no department: n1 (50 in March)."""
    s1, s2 = make_user(department="Sales"), make_user(department="Sales")
    e1, n1 = make_user(department="Engineering"), make_user()
    mug = ProductFactory(name="Mug", points_cost=40, stock=10, category=category)
    lamp = ProductFactory(name="Lamp", points_cost=100, stock=10, category=category)
    with clock(D(2026, 1, 5)):
        for user, amount in ((s1, 100), (s2, 200), (e1, 300)):
            points_grant(user=user, amount=amount, reason="New year")
    with clock(D(2026, 2, 10)):
        order_place(user=s1, product_id=mug.pk)
        lamp_order = order_place(user=e1, product_id=lamp.pk, quantity=2)
    with clock(D(2026, 2, 20)):
        order_refund(order_id=lamp_order.pk, refunded_by=None, reason="Broken")
    with clock(D(2026, 3, 2)):
        points_grant(user=n1, amount=50, reason="Welcome")
    return {"s1": s1, "e1": e1}


def test_liability_now_is_the_sum_of_balances(ledger):
    now = points_liability_now()
    assert (now.accounts, now.points, now.active_points) == (4, 610, 610)
    assert points_liability_now(department="Sales").points == 260


def test_liability_over_time_by_month_and_week(ledger):
    series = points_liability_series(period="month", start=D(2026, 1, 1), end=D(2026, 3, 31))
    assert [(s.period, s.change, s.outstanding) for s in series] == [
        (D(2026, 1, 1), 600, 600),
        (D(2026, 2, 1), -40, 560),
        (D(2026, 3, 1), 50, 610),
    ]
    # The opening balance before the period comes from the ledger too.
    later = points_liability_series(period="month", start=D(2026, 2, 1), end=D(2026, 2, 28))
    assert [(s.change, s.outstanding) for s in later] == [(-40, 560)]
    weeks = points_liability_series(
        period="week", start=D(2026, 2, 9), end=D(2026, 2, 22), department="Sales"
    )
    assert [(s.period, s.outstanding) for s in weeks] == [(D(2026, 2, 9), 260), (D(2026, 2, 16), 260)]


def test_flows_by_period_and_by_department(ledger):
    months = points_flows_by_period(period="month", start=D(2026, 1, 1), end=D(2026, 3, 31))
    assert [(f.key, f.granted, f.redeemed, f.refunded, f.redeemed_net) for f in months] == [
        (D(2026, 1, 1), 600, 0, 0, 0),
        (D(2026, 2, 1), 0, 240, 200, 40),
        (D(2026, 3, 1), 50, 0, 0, 0),
    ]
    sales = points_flows_by_period(
        period="month", start=D(2026, 2, 1), end=D(2026, 2, 28), department="Sales"
    )
    assert [(f.granted, f.redeemed) for f in sales] == [(0, 40)]
    departments = points_flows_by_department(start=D(2026, 1, 1), end=D(2026, 3, 31))
    assert [(f.key, f.granted, f.redeemed, f.refunded) for f in departments] == [
        ("", 50, 0, 0),
        ("Engineering", 300, 200, 200),
        ("Sales", 300, 40, 0),
    ]


def test_expiring_points_in_30_60_90_days(ledger, settings):
    assert points_expiring_windows(after=D(2026, 12, 20)) is None  # expiry is off by default
    settings.POINTS_EXPIRY_MONTHS = 12
    # January's grants expire on 2027-01-05 (the refund gave e1 its January points back),
    # March's on 2027-03-02.
    assert points_expiring_windows(after=D(2026, 12, 20)) == {30: 560, 60: 560, 90: 610}
    assert points_expiring_windows(after=D(2026, 12, 20), department="Sales") == {30: 260, 60: 260, 90: 260}


def _csv(response: Any) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_reports_page_shows_every_report(hr_client, ledger):
    page = hr_client.get(REPORTS, {**PERIOD, "group": "month"}).content.decode()
    for name in ("liability", "flows", "departments", "products", "products-points", "expiring"):
        assert f'id="report-{name}"' in page
        assert reverse("hr_report_csv", args=[name]) in page
    assert "Outstanding now: 610 points in 4 accounts" in page
    assert "Points never expire here." in page


def test_each_report_exports_as_csv(hr_client, ledger, settings, monkeypatch):
    csv_url = lambda name: reverse("hr_report_csv", args=[name])  # noqa: E731
    assert _csv(hr_client.get(csv_url("liability"), PERIOD)) == [
        ["month starting", "net change", "outstanding at the end"],
        ["2026-01-01", "600", "600"],
        ["2026-02-01", "-40", "560"],
        ["2026-03-01", "50", "610"],
    ]
    flows = _csv(hr_client.get(csv_url("flows"), {**PERIOD, "department": "Sales"}))
    assert flows[0][:4] == ["month starting", "granted", "adjusted", "redeemed"]
    assert [row[:4] for row in flows[1:]] == [
        ["2026-01-01", "300", "0", "0"],
        ["2026-02-01", "0", "0", "40"],
        ["2026-03-01", "0", "0", "0"],
    ]
    departments = _csv(hr_client.get(csv_url("departments"), PERIOD))
    assert [row[:2] for row in departments[1:]] == [
        ["(none)", "50"],
        ["Engineering", "300"],
        ["Sales", "300"],
    ]
    # The refunded lamp order is not a top product.
    assert _csv(hr_client.get(csv_url("products"), PERIOD)) == [
        ["product", "orders", "units", "points"],
        ["Mug", "1", "1", "40"],
    ]
    settings.POINTS_EXPIRY_MONTHS = 12
    # Expiring points are counted from today (the session's clock stays real).
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *args: D(2026, 12, 20))
    expiring = _csv(hr_client.get(csv_url("expiring")))
    assert expiring == [["within", "points"], ["30 days", "560"], ["60 days", "560"], ["90 days", "610"]]
    response = hr_client.get(csv_url("liability"), {**PERIOD, "department": "Sales"})
    assert 'filename="liability-2026-01-01-2026-03-31-sales.csv"' in response["Content-Disposition"]


def test_unknown_report_is_404_and_bad_filters_fall_back_to_defaults(hr_client, ledger):
    assert hr_client.get(reverse("hr_report_csv", args=["salaries"])).status_code == 404
    page = hr_client.get(REPORTS, {"date_from": "2026-03-01", "date_to": "2026-01-01", "department": "Nope"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "The start date is after the end date." in text or "Select a valid choice" in text


def test_reports_need_the_ledger_view_permission(staff_without_group, hr_client):
    assert staff_without_group.get(REPORTS).status_code == 403
    assert staff_without_group.get(reverse("hr_report_csv", args=["liability"])).status_code == 403


def test_dashboard_filters_by_period_and_department(hr_client, ledger):
    page = hr_client.get(reverse("admin:index"), {**PERIOD, "department": "Sales"}).content.decode()
    assert 'id="dashboard-filter"' in page
    assert "Granted: 300" in page and "Redeemed: 40" in page
    assert "2 active employees hold 260 points" in page
    everyone = hr_client.get(reverse("admin:index"), PERIOD).content.decode()
    assert "Granted: 650" in everyone and "Redeemed: 240" in everyone


# Query counts: the session, the user and its permissions, the departments of the filter, then
# one query per selector (three for liability: now, the opening sum, the periods). Expiring
# points, only when expiry is on: two queries (the accounts' entry counts, the cached lots) when
# every account's lots are cached, two more when some must be replayed (their entries, the
# upsert of their rows), plus a savepoint around the upsert here, where each test runs inside a
# transaction (four queries more in all). The same with more data.


@pytest.mark.parametrize("expiry_months", [0, 12])
def test_reports_page_query_count_is_fixed(
    hr_client, ledger, make_user, settings, django_assert_num_queries, expiry_months
):
    settings.POINTS_EXPIRY_MONTHS = expiry_months
    replaying, cached = (18, 14) if expiry_months else (12, 12)
    params = {**PERIOD, "department": "Sales"}
    with django_assert_num_queries(replaying):
        hr_client.get(REPORTS, params)
    with django_assert_num_queries(cached):
        hr_client.get(REPORTS, params)
    for _ in range(10):
        points_grant(user=make_user(department="Sales"), amount=5, reason="more")
    with django_assert_num_queries(replaying):
        hr_client.get(REPORTS, params)
    with django_assert_num_queries(cached):
        hr_client.get(REPORTS, params)


@pytest.mark.parametrize(
    ("name", "queries"),
    [
        ("liability", 8),
        ("flows", 6),
        ("departments", 6),
        ("products", 6),
        ("products-points", 6),
        ("expiring", 11),
    ],
)
def test_report_csv_query_counts(hr_client, ledger, settings, django_assert_num_queries, name, queries):
    settings.POINTS_EXPIRY_MONTHS = 12
    with django_assert_num_queries(queries):
        hr_client.get(reverse("hr_report_csv", args=[name]), PERIOD)
    if name == "expiring":  # the lots are cached now: two queries instead of six
        with django_assert_num_queries(queries - 4):
            hr_client.get(reverse("hr_report_csv", args=[name]), PERIOD)


def test_filtered_dashboard_query_count_is_fixed(hr_client, ledger, make_user, django_assert_num_queries):
    params = {**PERIOD, "department": "Sales"}
    with django_assert_num_queries(13):
        hr_client.get(reverse("admin:index"), params)
    for _ in range(10):
        points_grant(user=make_user(department="Sales"), amount=5, reason="more")
    with django_assert_num_queries(13):
        hr_client.get(reverse("admin:index"), params)


def test_dashboard_query_count_with_expiry_on_is_fixed(
    hr_client, ledger, make_user, settings, monkeypatch, django_assert_num_queries
):
    settings.POINTS_EXPIRY_MONTHS = 12
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *args: D(2026, 12, 20))
    params = {**PERIOD, "department": "Sales"}
    with django_assert_num_queries(19):
        hr_client.get(reverse("admin:index"), params)
    with django_assert_num_queries(15):
        page = hr_client.get(reverse("admin:index"), params).content.decode()
    for _ in range(10):
        points_grant(user=make_user(department="Sales"), amount=5, reason="more")
    with django_assert_num_queries(19):
        hr_client.get(reverse("admin:index"), params)
    with django_assert_num_queries(15):
        hr_client.get(reverse("admin:index"), params)
    assert "260 points expire within 30 days" in page


def test_top_products_rank_by_units_or_by_points(db, make_user, category):
    buyer = make_user(points=10_000)
    pens = ProductFactory(name="Pen", points_cost=10, stock=10, category=category)
    chair = ProductFactory(name="Chair", points_cost=900, stock=10, category=category)
    order_place(user=buyer, product_id=pens.pk, quantity=3)
    order_place(user=buyer, product_id=chair.pk)
    table = {"quantity": ["Pen", "Chair"], "points": ["Chair", "Pen"]}
    for by, names in table.items():
        rows = products_top(by=by)
        assert [r["product__name"] for r in rows] == names
    assert [(r["orders"], r["quantity"], r["points"]) for r in products_top(by="points")] == [
        (1, 1, 900),
        (1, 3, 30),
    ]


def _replayed_windows(after: dt.date, windows: tuple[int, ...], months: int) -> dict[int, int]:
    """The reference: every account's ledger replayed entry by entry."""
    totals = dict.fromkeys(windows, 0)
    for account in PointsAccount.objects.all():
        entries = (
            PointsTransaction.objects.filter(account=account)
            .order_by("created_at", "id")
            .values(*ENTRY_FIELDS)
        )
        lots = lots_from_entries(entries, months=months)
        for days in windows:
            totals[days] += lots.upcoming(after, after + dt.timedelta(days=days))[0]
    return totals


def test_expiring_windows_match_a_full_replay_on_a_random_ledger(make_user, category, settings):
    """The figures from the lots cache (read raw, replayed only where the ledger changed) equal
    replaying every account's ledger through the ORM, on a seeded random year of grants, HR
    adjustments both ways, orders, refunds and expiry runs, month-end dates included."""
    settings.POINTS_EXPIRY_MONTHS = 2
    rng = random.Random(20261201)
    users = [make_user() for _ in range(8)]
    products = [ProductFactory(points_cost=cost, stock=1000, category=category) for cost in (7, 30, 55)]
    orders: list[Any] = []
    day = D(2026, 1, 1)
    for _ in range(160):
        day += dt.timedelta(days=rng.choice((0, 1, 2, 3)))
        user = rng.choice(users)
        user.points_account.refresh_from_db()
        balance = user.points_account.balance
        action = rng.random()
        with clock(day):
            if action < 0.35 or balance < 7:
                points_grant(user=user, amount=rng.randint(5, 120), reason="Random")
            elif action < 0.45:
                points_adjust(user=user, amount=-rng.randint(1, balance), reason="Correction")
            elif action < 0.5:
                points_adjust(user=user, amount=rng.randint(1, 40), reason="Bonus")
            elif action < 0.85:
                affordable = [p for p in products if p.points_cost <= balance]
                orders.append(order_place(user=user, product_id=rng.choice(affordable).pk))
            elif action < 0.92 and orders:
                order = orders.pop(rng.randrange(len(orders)))
                order_refund(order_id=order.pk, refunded_by=None, reason="Returned")
            else:
                points_expire(user_id=user.pk, as_of=day)
    # Refunds (which give lots back with their old dates) and expiry entries must be in the data.
    assert PointsTransaction.objects.filter(type="refunded").exists()
    assert PointsTransaction.objects.filter(type="expired").exists()
    windows = (1, 30, 45, 60, 90)
    for after in (
        D(2026, 1, 31),
        D(2026, 2, 28),
        day - dt.timedelta(days=40),
        day,
        day + dt.timedelta(days=20),
    ):
        assert points_expiring_windows(after=after, windows=windows) == _replayed_windows(
            after, windows, 2
        ), after


# --- the cache of replayed lots (ExpiryLots) ---------------------------------------------------


@pytest.fixture
def replays(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The accounts the reports replay, one item per replay, in order."""
    replayed: list[Any] = []

    def spy(entries: list[dict[str, Any]], *, months: int) -> Any:
        # The replay reads the ids as the database driver gives them (hex text or a UUID).
        replayed.append(uuid.UUID(str(entries[0]["account_id"])))
        return lots_from_entries(entries, months=months)

    monkeypatch.setattr("points.selectors.lots_from_entries", spy)
    return replayed


def _cache_matches_a_full_replay() -> None:
    """Every cached row for the current policy is what replaying its account's whole ledger gives."""
    for row in ExpiryLots.objects.all():
        entries = PointsTransaction.objects.filter(account_id=row.account_id).order_by("created_at", "id")
        assert row.entry_count == entries.count()
        assert row.lots == lots_from_entries(entries.values(*ENTRY_FIELDS), months=row.months).as_json()


def test_expiring_windows_come_from_the_cache_and_replay_only_changed_accounts(
    ledger, settings, replays, django_assert_num_queries
):
    settings.POINTS_EXPIRY_MONTHS = 12
    after, accounts = D(2026, 12, 20), PointsAccount.objects.count()
    expected = {30: 560, 60: 560, 90: 610}
    assert points_expiring_windows(after=after) == expected
    assert len(replays) == len(set(replays)) == accounts
    assert ExpiryLots.objects.filter(months=12).count() == accounts
    _cache_matches_a_full_replay()

    replays.clear()
    with django_assert_num_queries(2):  # the entry counts and the cached rows; no entry is read
        assert points_expiring_windows(after=after) == expected
    assert points_expiring_windows(after=after, department="Sales") == {30: 260, 60: 260, 90: 260}
    assert replays == []

    # One new entry: exactly that account is replayed, and the figure has it (expires 2027-03-01).
    with clock(D(2026, 3, 1)):
        points_grant(user=ledger["s1"], amount=25, reason="Late bonus")
    assert (
        points_expiring_windows(after=after)
        == {30: 560, 60: 560, 90: 635}
        == _replayed_windows(after, (30, 60, 90), 12)
    )
    assert replays == [ledger["s1"].pk]
    _cache_matches_a_full_replay()

    # A refund and an expiry run change two accounts: those two, and only them, again.
    replays.clear()
    with clock(D(2027, 1, 6)):
        points_expire(user_id=ledger["e1"].pk, as_of=D(2027, 1, 6))
    with clock(D(2026, 3, 3)):
        points_adjust(user=ledger["s1"], amount=-10, reason="Correction")
    assert points_expiring_windows(after=after) == _replayed_windows(after, (30, 60, 90), 12)
    assert sorted(replays, key=str) == sorted([ledger["s1"].pk, ledger["e1"].pk], key=str)
    _cache_matches_a_full_replay()


def test_a_policy_or_time_zone_change_is_not_served_from_stale_rows(ledger, settings, replays):
    settings.POINTS_EXPIRY_MONTHS = 12
    accounts = PointsAccount.objects.count()
    after = D(2026, 12, 20)
    assert points_expiring_windows(after=after) == {30: 560, 60: 560, 90: 610}
    # Two months: January's points expired in March, n1's 50 of 2 March expire on 2 May.
    settings.POINTS_EXPIRY_MONTHS = 2
    for day in (D(2026, 2, 1), D(2026, 4, 20)):
        assert points_expiring_windows(after=day) == _replayed_windows(day, (30, 60, 90), 2)
    assert points_expiring_windows(after=D(2026, 4, 20)) == {30: 50, 60: 50, 90: 50}
    assert len(replays) == 2 * accounts  # each account once per policy, not once per call
    assert set(ExpiryLots.objects.values_list("months", flat=True)) == {2}
    _cache_matches_a_full_replay()
    # Back to twelve months: the rows are rewritten again, never read under the wrong policy.
    settings.POINTS_EXPIRY_MONTHS = 12
    assert points_expiring_windows(after=after) == {30: 560, 60: 560, 90: 610}
    assert len(replays) == 3 * accounts
    # Another time zone moves entries written near midnight to another local day: replayed too.
    with timezone.override("Pacific/Kiritimati"):
        assert points_expiring_windows(after=after) == _replayed_windows(after, (30, 60, 90), 12)
        assert set(ExpiryLots.objects.values_list("time_zone", flat=True)) == {"Pacific/Kiritimati"}
    assert len(replays) == 4 * accounts


def test_the_random_ledger_stays_right_as_it_grows_with_the_cache(make_user, settings, replays):
    """Cached lots plus replays of changed accounts equal a full replay after every new entry."""
    settings.POINTS_EXPIRY_MONTHS = 1
    rng = random.Random(7)
    users = [make_user() for _ in range(5)]
    day = D(2026, 1, 30)
    for step in range(30):
        day += dt.timedelta(days=rng.choice((0, 1, 3)))
        user = rng.choice(users)
        user.points_account.refresh_from_db()
        with clock(day):
            if user.points_account.balance > 10 and rng.random() < 0.4:
                points_adjust(user=user, amount=-rng.randint(1, 10), reason="Correction")
            else:
                points_grant(user=user, amount=rng.randint(5, 50), reason="Random")
        replays.clear()
        assert points_expiring_windows(after=day, windows=(5, 31)) == _replayed_windows(day, (5, 31), 1), step
        assert replays == [user.pk], step


def test_the_reports_page_reads_as_hr_expects(hr_client, make_user, hr_user):
    """Numbers with thousands separators, the default period shown in From and To, the first
    period labelled with the period's first day, and the wide tables on a row of their own."""
    from points.services.grants import points_grant

    points_grant(user=make_user(), amount=2865, reason="Big award", granted_by=hr_user)
    points_grant(user=make_user(), amount=9000, reason="Big award", granted_by=hr_user)
    points_grant(user=make_user(), amount=9000, reason="Big award", granted_by=hr_user)
    points_grant(user=make_user(), amount=2000, reason="Big award", granted_by=hr_user)
    page = hr_client.get(REPORTS).content.decode()
    today = timezone.localdate()
    start = today - timedelta(days=364)
    assert f'name="date_from" value="{start.isoformat()}"' in page
    assert f'name="date_to" value="{today.isoformat()}"' in page
    assert ">22,865<" in page and ">22865<" not in page
    first_row = re.search(r'id="report-flows".*?<tbody><tr><td>([^<]+)</td>', page, re.S)
    assert first_row and first_row.group(1) == start.isoformat()
    for name in ("liability", "flows", "departments"):
        assert f'class="module report report-wide" id="report-{name}"' in page
