"""Real threads against MariaDB and PostgreSQL: HR users loading the expiring-points figures at
the same moment all get the right figures, and the cache of replayed lots (``ExpiryLots``) that
they all write at once ends up right, with no error."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest
from django.db import connection

from orders.services import order_place, order_refund
from points.models import ExpiryLots, PointsAccount
from points.selectors import points_expiring_windows
from points.services.grants import points_grant
from tests.admin.test_reports import _cache_matches_a_full_replay, _replayed_windows
from tests.factories import ProductFactory
from tests.points.test_expiry import clock
from tests.support.markers import requires_server_db
from tests.support.threads import run_at_once

pytestmark = [requires_server_db, pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

D = dt.date
WINDOWS = (30, 60, 90)


@pytest.mark.parametrize("readers", [2, 4])
def test_simultaneous_readers_get_the_right_figures_and_leave_right_rows(
    settings, make_user, category, caplog, record_figure, readers
):
    settings.POINTS_EXPIRY_MONTHS = 12
    users = [make_user() for _ in range(40)]
    mug = ProductFactory(name="Mug", points_cost=30, stock=1000, category=category)
    for i, user in enumerate(users):
        with clock(D(2026, 1, 1) + dt.timedelta(days=i)):
            points_grant(user=user, amount=50 + i, reason="Monthly")
        with clock(D(2026, 3, 1) + dt.timedelta(days=i)):
            order = order_place(user=user, product_id=mug.pk)
            if i % 3 == 0:
                order_refund(order_id=order.pk, refunded_by=None, reason="Returned")
            points_grant(user=user, amount=20, reason="Bonus")
    after = D(2026, 12, 20)
    expected = _replayed_windows(after, WINDOWS, 12)
    assert expected[90] > 0

    def read(_: int) -> Any:
        return points_expiring_windows(after=after, windows=WINDOWS)

    with caplog.at_level(logging.WARNING, logger="points.selectors"):
        cold = run_at_once(readers, read)
        # Some accounts change, then the readers meet again: they replay and upsert those at once.
        for user in users[::4]:
            with clock(D(2026, 2, 1)):
                points_grant(user=user, amount=7, reason="Correction")
        changed = run_at_once(readers, read)
    record_figure(
        f"expiry lots cache[{connection.vendor}] {readers} readers at once: {cold[0]}, {changed[0]}"
    )
    assert cold == [expected] * readers
    assert changed == [_replayed_windows(after, WINDOWS, 12)] * readers
    assert [r.getMessage() for r in caplog.records if r.name == "points.selectors"] == []
    assert ExpiryLots.objects.count() == PointsAccount.objects.count() == 40
    _cache_matches_a_full_replay()
