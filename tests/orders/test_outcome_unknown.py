"""A connection lost during COMMIT: the order's outcome is unknown, and the API says so.

The database's COMMIT is made to succeed and then report a lost connection, exactly what a
client sees when the acknowledgement is lost on the way back. The real-network version of this
runs in tests/drills against MariaDB and PostgreSQL through a proxy that cuts after COMMIT.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError, connection

from orders.models import Order
from points.models import PointsAccount


@pytest.fixture
def commit_then_lose_connection(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The request's only COMMIT (the order's, with the key's row inserted first in the same
    transaction) happens, then reports the connection as lost. Nothing is queried in between:
    PostgreSQL would open a transaction there."""
    commits: list[int] = []
    real_commit = connection._commit

    def commit(*args: Any, **kwargs: Any) -> Any:
        real_commit(*args, **kwargs)
        commits.append(1)
        if len(commits) == 1:
            raise OperationalError(2013, "Lost connection to server during query")

    monkeypatch.setattr(connection, "_commit", commit)
    return commits


@pytest.mark.django_db(transaction=True)
def test_lost_commit_is_outcome_unknown_and_a_retry_with_the_key_replays(
    api, employee, product, commit_then_lose_connection
):
    body = {"product_id": str(product.pk)}
    first = api.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="lost-ack")
    assert first.status_code == 503
    assert first.json()["code"] == "outcome_unknown"
    assert "nothing was changed" not in first.json()["detail"]
    assert first["Retry-After"] == "5"
    assert Order.objects.count() == 1  # it was committed; only the answer was lost

    retry = api.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="lost-ack")
    assert retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1
    assert PointsAccount.objects.get(user=employee).balance == 1000 - product.points_cost


@pytest.mark.django_db(transaction=True)
def test_an_error_before_commit_still_says_nothing_was_changed(api, employee, product, monkeypatch):
    from orders import services

    def broken(**kwargs: Any) -> None:
        raise OperationalError(2013, "Lost connection to server during query")

    monkeypatch.setattr(services, "stock_apply", broken)
    response = api.post(
        "/api/v1/orders/", {"product_id": str(product.pk)}, format="json", HTTP_IDEMPOTENCY_KEY="before"
    )
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    assert "nothing was changed" in response.json()["detail"]
    assert Order.objects.count() == 0
    assert PointsAccount.objects.get(user=employee).balance == 1000
