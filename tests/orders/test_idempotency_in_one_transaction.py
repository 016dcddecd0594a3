"""An Idempotency-Key is claimed inside the order transaction: one transaction per order, a
failed order leaves the key free, and concurrent retries wait for the first and replay it."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from orders.idempotency import idempotency_claim, request_fingerprint
from orders.models import IdempotencyRecord, Order
from points.models import PointsAccount
from tests.factories import ProductFactory, UserFactory
from tests.orders.test_concurrency import _assert_ledger_ok, _post_order
from tests.support.markers import requires_server_db
from tests.support.threads import run_at_once


def _order(api, product_id, key):
    return api.post(
        "/api/v1/orders/", {"product_id": str(product_id)}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )


def test_a_failed_order_leaves_no_claim_behind(api, product, monkeypatch):
    import orders.services

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(orders.services, "stock_apply", broken)
    assert _order(api, product.pk, "k-fail").status_code == 500
    assert not IdempotencyRecord.objects.exists()
    monkeypatch.undo()
    response = _order(api, product.pk, "k-fail")
    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert Order.objects.count() == 1


def test_an_abandoned_in_progress_claim_is_taken_over(api, employee, product, settings):
    idempotency_claim(
        user=employee,
        key="stale",
        request_hash=request_fingerprint({"product_id": str(product.pk), "quantity": 1}),
    )
    IdempotencyRecord.objects.update(
        updated_at=timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_STALE_SECONDS + 5)
    )
    response = _order(api, product.pk, "stale")
    assert response.status_code == 201
    record = IdempotencyRecord.objects.get()
    assert record.state == IdempotencyRecord.State.COMPLETED and record.response_body == response.json()
    assert _order(api, product.pk, "stale")["Idempotent-Replayed"] == "true"


@requires_server_db
@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_wait_for_the_first_and_replay_it(record_figure):
    user = UserFactory(points=1000, cognito_sub="sub-idem-wait")
    product = ProductFactory(points_cost=100, stock=50)
    from tests.conftest import token_for

    token = token_for(user)
    results = run_at_once(12, lambda i: _post_order(token, product.pk, key="one-key"))
    record_figure(
        f"concurrency[{connection.vendor}] 12 x one key, claimed in the order transaction: {Counter(results)}"
    )
    # Nobody is told "in progress": each retry waits on the first's row and replays it.
    assert Counter(results) == {(201, "created"): 12}
    assert Order.objects.count() == 1
    assert PointsAccount.objects.get(user=user).balance == 900
    _assert_ledger_ok()
