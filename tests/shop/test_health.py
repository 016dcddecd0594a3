"""/health, /health/live and /healthz, including a real database outage and recovery."""

from __future__ import annotations

import pytest
from django.db import connection

from infra_cdktf.config import ENVIRONMENTS, LIVENESS_PATH
from tests.support.markers import requires_server_db
from tests.support.tcp_proxy import database_behind_proxy


def test_health_reports_each_check(anon, db):
    response = anon.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok"
    assert isinstance(body["checks"]["database"]["latency_ms"], (int, float))


def test_liveness_touches_no_dependency(anon, db, django_assert_num_queries):
    for path in ("/health/live", "/healthz"):
        with django_assert_num_queries(0):
            response = anon.get(path)
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}


def _load_balancer_paths() -> set[str]:
    """The paths the ALB target group and the ECS container check call (tests/infra pins that
    the stack uses these), from the stack's configuration."""
    return {config.health_check_path for config in ENVIRONMENTS.values()} | {LIVENESS_PATH}


def test_the_load_balancer_and_container_checks_use_liveness():
    assert _load_balancer_paths() == {"/healthz"}


def test_unready_health_says_when_to_retry(anon, db, monkeypatch):
    from shop.http import health

    def refused() -> None:
        raise OSError("connection refused")

    monkeypatch.setitem(health.CHECKS, "database", refused)
    response = anon.get("/health")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["checks"]["database"]["status"] == "error"


@requires_server_db
@pytest.mark.django_db(transaction=True)
def test_database_outage_is_503_and_recovers_without_restart(anon, api, product):
    client = anon
    with database_behind_proxy() as proxy:
        assert api.get("/api/v1/me/").status_code == 200

        proxy.stop()
        connection.close()
        health = client.get("/health")
        assert health.status_code == 503
        assert health["Retry-After"] == "5"
        assert health.json()["status"] == "error"
        assert health.json()["checks"]["database"]["status"] == "error"
        for call in (
            lambda: api.get("/api/v1/me/"),
            lambda: api.get("/api/v1/points/transactions/"),
            lambda: api.get("/api/v1/categories/"),
            lambda: api.get("/api/v1/products/"),
            lambda: api.get(f"/api/v1/products/{product.pk}/"),
            lambda: api.get("/api/v1/orders/"),
            lambda: api.post(
                "/api/v1/orders/", {"product_id": str(product.pk)}, format="json", HTTP_IDEMPOTENCY_KEY="k"
            ),
        ):
            response = call()
            assert response.status_code == 503
            assert response.json()["code"] == "service_unavailable"
            assert response["Retry-After"]
        assert client.get("/health/live").status_code == 200
        # The checks that decide whether ECS keeps a task stay green: no task churn.
        for path in _load_balancer_paths():
            assert client.get(path).status_code == 200, path

        proxy.start()
        assert client.get("/health").status_code == 200
        assert api.get("/api/v1/me/").status_code == 200
        # Nothing was written while the database was away, and the key is free again.
        response = api.post(
            "/api/v1/orders/", {"product_id": str(product.pk)}, format="json", HTTP_IDEMPOTENCY_KEY="k"
        )
        assert response.status_code == 201
        assert "Idempotent-Replayed" not in response


def test_cache_outage_is_reported_but_keeps_the_task_ready(anon, db, monkeypatch):
    from shop.http import health

    def broken() -> None:
        raise ConnectionError("redis is down")

    monkeypatch.setitem(health.CHECKS, "cache", broken)
    response = anon.get("/health")
    assert response.status_code == 200
    assert response.json()["checks"]["cache"] == {
        "status": "error",
        "latency_ms": response.json()["checks"]["cache"]["latency_ms"],
        "error": "ConnectionError",
    }


def test_a_cache_kept_in_the_failed_database_is_not_asked_again(anon, db, monkeypatch, settings):
    """The production cache is a database table: after the database check failed, asking the
    cache would add another connect timeout to the load balancer's wait."""
    from shop.http import health

    settings.CACHES = {
        "default": {"BACKEND": "shop.db.cache.LockingDatabaseCache", "LOCATION": "awsomeshop_cache"}
    }
    calls: list[str] = []
    monkeypatch.setitem(health.CHECKS, "database", lambda: (_ for _ in ()).throw(OSError("timed out")))
    monkeypatch.setitem(health.CHECKS, "cache", lambda: calls.append("cache"))
    response = anon.get("/health")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == {
        "status": "error",
        "latency_ms": 0.0,
        "error": "DatabaseUnavailable",
    }
    assert calls == []
