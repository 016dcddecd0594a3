"""Points expiry: oldest points first, refunds keep their dates, idempotent runs, no point
expiring twice or never, and the same under real concurrency on MariaDB and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io
import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from orders.services import order_place, order_refund
from points.expiry import Lots, add_months, lots_from_entries
from points.models import PointsAccount, PointsTransaction
from points.services.expiry import points_expire
from points.services.grants import points_grant
from tests.factories import ProductFactory, UserFactory
from tests.support.markers import requires_server_db
from tests.support.threads import run_at_once

D = dt.date


@contextmanager
def clock(day: dt.date) -> Iterator[None]:
    """Entries written inside get this date (created_at is set from timezone.now())."""
    moment = timezone.make_aware(dt.datetime.combine(day, dt.time(12)))
    original = timezone.now
    timezone.now = lambda: moment  # type: ignore[assignment]
    try:
        yield
    finally:
        timezone.now = original  # type: ignore[assignment]


def _entry(kind: str, amount: int, day: dt.date, order: Any = None) -> dict[str, Any]:
    return {
        "type": kind,
        "amount": amount,
        "created_at": dt.datetime.combine(day, dt.time(12)),
        "order_id": order,
    }


# -- the policy, from ledger entries alone ------------------------------------------------------


def test_month_arithmetic_clamps_to_the_end_of_shorter_months() -> None:
    assert add_months(D(2026, 1, 31), 1) == D(2026, 2, 28)
    assert add_months(D(2026, 11, 15), 12) == D(2027, 11, 15)
    assert add_months(D(2026, 12, 1), 3) == D(2027, 3, 1)


def test_spending_takes_the_oldest_points_first() -> None:
    lots = lots_from_entries(
        [
            _entry("earned", 100, D(2026, 1, 10)),
            _entry("earned", 100, D(2026, 3, 10)),
            _entry("redeemed", -150, D(2026, 4, 1), order="o1"),
        ],
        months=12,
    )
    assert lots.due(D(2027, 1, 10)) == 0  # the January grant was spent
    assert lots.due(D(2027, 3, 10)) == 50
    assert lots.upcoming(D(2027, 2, 1), D(2027, 3, 31)) == (50, D(2027, 3, 10))


def test_a_refund_gives_points_back_with_their_original_dates() -> None:
    entries = [
        _entry("earned", 100, D(2026, 1, 10)),
        _entry("earned", 100, D(2026, 3, 10)),
        _entry("redeemed", -150, D(2026, 4, 1), order="o1"),
        _entry("refunded", 150, D(2026, 5, 1), order="o1"),
    ]
    lots = lots_from_entries(entries, months=12)
    assert lots.due(D(2027, 1, 10)) == 100
    assert lots.due(D(2027, 3, 10)) == 200
    assert lots.total == 200


def test_deductions_and_expiries_consume_like_spending() -> None:
    lots = lots_from_entries(
        [
            _entry("earned", 100, D(2026, 1, 10)),
            _entry("adjusted", 40, D(2026, 2, 10)),  # an HR top-up is a lot of its own
            _entry("adjusted", -30, D(2026, 2, 11)),
            _entry("expired", -70, D(2027, 1, 10)),
        ],
        months=12,
    )
    assert lots.total == 40
    assert lots.due(D(2027, 1, 10)) == 0
    assert lots.due(D(2027, 2, 10)) == 40


def test_lots_never_go_below_zero() -> None:
    lots = Lots()
    lots.add(D(2027, 1, 1), 10)
    assert lots.take(25) == [(D(2027, 1, 1), 10)]
    assert lots.total == 0


# -- through the database -----------------------------------------------------------------------


@pytest.fixture
def expiry(settings: Any) -> int:
    settings.POINTS_EXPIRY_MONTHS = 12
    return 12


def _account(user: Any) -> PointsAccount:
    return PointsAccount.objects.get(pk=user.pk)


def _expire(as_of: dt.date) -> str:
    out = io.StringIO()
    call_command("expire_points", "--as-of", as_of.isoformat(), stdout=out)
    return out.getvalue()


def test_expire_points_writes_one_entry_per_account_and_a_second_run_changes_nothing(expiry, db):
    ana, bo = UserFactory(), UserFactory()
    with clock(D(2026, 1, 10)):
        points_grant(user=ana, amount=100, reason="January")
        points_grant(user=ana, amount=20, reason="January bonus")
        points_grant(user=bo, amount=300, reason="January")
    with clock(D(2026, 6, 10)):
        points_grant(user=ana, amount=50, reason="June")
    assert "Expired 0 points" in _expire(D(2027, 1, 9))
    assert "Expired 420 points in 2 accounts as of 2027-01-10" in _expire(D(2027, 1, 10))
    assert "Expired 0 points in 0 accounts" in _expire(D(2027, 1, 10))
    assert (_account(ana).balance, _account(ana).total_expired) == (50, 120)
    (entry,) = PointsTransaction.objects.filter(account_id=ana.pk, type="expired")
    assert entry.amount == -120
    assert entry.balance_after == 50
    call_command("check_ledger", stdout=io.StringIO())


def test_orders_spend_oldest_points_and_refunds_keep_their_dates(expiry, db):
    ana = UserFactory()
    product = ProductFactory(points_cost=150, stock=5)
    with clock(D(2026, 1, 10)):
        points_grant(user=ana, amount=100, reason="January")
    with clock(D(2026, 3, 10)):
        points_grant(user=ana, amount=100, reason="March")
    with clock(D(2026, 4, 1)):
        order = order_place(user=ana, product_id=product.pk)
    assert points_expire(user_id=ana.pk, as_of=D(2027, 1, 10)) is None  # January's were spent
    with clock(D(2026, 5, 1)):
        order_refund(order_id=order.pk, refunded_by=None, reason="Returned")
    # The refund brought January's 100 back with January's date, and 50 of March's.
    assert -points_expire(user_id=ana.pk, as_of=D(2027, 1, 10)).amount == 100  # type: ignore[union-attr]
    assert -points_expire(user_id=ana.pk, as_of=D(2027, 3, 10)).amount == 100  # type: ignore[union-attr]
    assert _account(ana).balance == 0


def test_nothing_expires_when_expiry_is_off(settings, db):
    settings.POINTS_EXPIRY_MONTHS = 0
    ana = UserFactory(points=100)
    assert "never expire" in _expire(D(2099, 1, 1))
    assert _account(ana).balance == 100


def test_the_database_knows_the_expired_type(db):
    ana = UserFactory(points=100)
    account = _account(ana)
    # Written past the services: an expiry that adds points is refused by the sign constraint.
    with pytest.raises(IntegrityError), transaction.atomic():
        PointsTransaction.objects.create(account=account, type="expired", amount=10, balance_after=110)


def test_me_shows_points_expiring_within_30_days_and_history_shows_expiries(expiry, db, client_for):
    ana = UserFactory(cognito_sub="sub-ana")
    today = timezone.localdate()
    with clock(add_months(today, -12) + dt.timedelta(days=10)):
        points_grant(user=ana, amount=70, reason="Old")
    with clock(add_months(today, -12) - dt.timedelta(days=1)):
        points_grant(user=ana, amount=30, reason="Older")
    points_grant(user=ana, amount=5, reason="New")
    api = client_for(ana)
    me = api.get("/api/v1/me/").json()
    assert me["expiring_soon"] == {"points": 70, "date": (today + dt.timedelta(days=10)).isoformat()}
    _expire(today)
    me = api.get("/api/v1/me/").json()
    assert (me["balance"], me["total_expired"]) == (75, 30)
    history = api.get("/api/v1/points/transactions/").json()["results"]
    assert history[0]["type"] == "expired"
    assert history[0]["amount"] == -30


def test_me_says_nothing_expires_when_expiry_is_off(api):
    assert api.get("/api/v1/me/").json()["expiring_soon"] is None


# -- interleavings with real threads -----------------------------------------------------------


@requires_server_db
@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_interleaved_grants_orders_refunds_and_expiry_runs_keep_every_rule(expiry, record_figure):
    """Rounds of threads that grant, order, refund and expire on the same accounts at once.

    After every round the ledger audit is clean; at the end, an expiry run for a date after
    every grant's expiry leaves each account at exactly zero: every point was spent or expired
    once (never twice: balances never went negative; never missed: nothing is left).
    """
    rng = random.Random(20261201)
    users = [UserFactory(points=500) for _ in range(3)]
    product = ProductFactory(points_cost=40, stock=10_000)
    today = timezone.localdate()
    orders: list[Any] = []
    outcomes: dict[str, int] = {}

    def operation(i: int) -> str:
        user = users[i % len(users)]
        kind = rng.choice(["grant", "order", "order", "refund", "expire"])
        if kind == "grant":
            points_grant(user=user, amount=rng.randint(1, 80), reason="round")
        elif kind == "order":
            orders.append(order_place(user=user, product_id=product.pk).pk)
        elif kind == "refund" and orders:
            order_refund(order_id=orders.pop(), refunded_by=None, reason="round")
        elif kind == "expire":
            # Nothing of today's grants is due yet: exercises the locks, must write nothing.
            assert points_expire(user_id=user.pk, as_of=today) is None
        return kind

    for _ in range(6):
        for result in run_at_once(8, operation):
            name = type(result).__name__ if isinstance(result, Exception) else result
            outcomes[name] = outcomes.get(name, 0) + 1
        call_command("check_ledger", stdout=io.StringIO())
    allowed = {"grant", "order", "refund", "expire", "InsufficientPoints", "IndexError"}
    assert set(outcomes) <= allowed, outcomes
    # A year and a day later, everything still held has expired, exactly once each.
    later = add_months(today, 12) + dt.timedelta(days=1)
    results = run_at_once(6, lambda i: points_expire(user_id=users[i % 3].pk, as_of=later))
    assert not [r for r in results if isinstance(r, Exception)]
    assert sum(1 for r in results if r is not None) == 3  # one entry per account; duplicates found nothing
    for user in users:
        account = _account(user)
        assert account.balance == 0
        assert account.total_earned - account.total_redeemed + account.total_adjusted == account.total_expired
    call_command("check_ledger", stdout=io.StringIO())
    record_figure(f"expiry interleavings ({connection.vendor}): {dict(sorted(outcomes.items()))}")
