"""The order limit under simultaneous requests: counts are atomic in every shared cache.

Real threads, each with its own database connection (and so its own cache client), stand in
for server processes on several containers: what they share is exactly what containers share,
the database table or the Redis server.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import caches
from django.db import connection
from django.utils import timezone

from orders.models import Order
from points.models import PointsAccount
from shop.db.cache import LockingDatabaseCache
from tests.conftest import CheckedClient, token_for
from tests.factories import ProductFactory, UserFactory
from tests.support.markers import requires_server_db
from tests.support.threads import run_at_once

TABLE = "awsomeshop_cache"


@pytest.fixture
def table_cache(db: None) -> LockingDatabaseCache:
    return LockingDatabaseCache(TABLE, {})


def test_incr_counts_and_the_parent_reads_the_same_row(table_cache):
    table_cache.add("n", 0, 60)
    assert [table_cache.incr("n") for _ in range(3)] == [1, 2, 3]
    assert table_cache.incr("n", 5) == 8
    assert table_cache.decr("n", 2) == 6
    assert table_cache.get("n") == 6


def test_incr_of_a_missing_or_expired_key_raises_like_django(table_cache):
    with pytest.raises(ValueError, match="not found"):
        table_cache.incr("missing")
    table_cache.set("old", 1, 60)
    past = timezone.now() - timedelta(seconds=5)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {connection.ops.quote_name(TABLE)} SET expires = %s WHERE cache_key = %s",
            [
                connection.ops.adapt_datetimefield_value(past.replace(microsecond=0)),
                table_cache.make_key("old"),
            ],
        )
    with pytest.raises(ValueError, match="not found"):
        table_cache.incr("old")


@requires_server_db
@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_simultaneous_increments_in_the_table_lose_nothing(database_cache, record_figure):
    # Redis INCR is atomic by itself; the table's incr is this project's code, so it is tested.
    caches["default"].add("hits", 0, 60)

    def hit_ten_times(i: int) -> None:
        for _ in range(10):
            caches["default"].incr("hits")

    errors = [r for r in run_at_once(20, hit_ten_times) if r is not None]
    total = caches["default"].get("hits")
    record_figure(f"cache incr[{connection.vendor}, database]: 20 threads x 10 = {total}")
    assert errors == []
    assert total == 200


def _post_order(token: str, product_id: Any) -> int:
    response = CheckedClient().post(
        "/api/v1/orders/",
        {"product_id": str(product_id)},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
    )
    return response.status_code


@requires_server_db
@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("cache", ["database_cache", "redis_cache"])
def test_a_burst_of_orders_gets_exactly_the_limit_through(
    cache, request, settings, fixed_clock, record_figure
):
    request.getfixturevalue(cache)
    settings.ORDER_RATE_LIMIT = "5/min"
    user = UserFactory(points=1000, cognito_sub=f"sub-burst-{cache}")
    product = ProductFactory(points_cost=10, stock=100)
    token = token_for(user)

    outcomes = Counter(run_at_once(20, lambda i: _post_order(token, product.pk)))
    record_figure(f"order throttle[{connection.vendor}, {cache}] 5/min, 20 at once: {dict(outcomes)}")
    assert outcomes == {201: 5, 429: 15}
    assert Order.objects.filter(user=user).count() == 5
    assert PointsAccount.objects.get(user=user).balance == 1000 - 5 * 10
