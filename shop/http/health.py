"""Health endpoints for the load balancer and the container runtime.

`/health` is readiness: it checks the database (and the cache) and reports each check with its
latency, in the shape the API contract fixes; operators and monitors read it. `/healthz` (the
load balancer's target check and the container check) and `/health/live` are liveness: they
touch nothing, so a database outage or failover leaves every task in service instead of making
ECS replace them all; the database's own health is watched by the RDS alarms.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.core.cache import cache, caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connection
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shop.http.errors import RETRY_AFTER_SECONDS


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_cache() -> None:
    cache.set("health-check", "ok", 5)
    if cache.get("health-check") != "ok":
        raise RuntimeError("cache did not return what was stored")


def _cache_in_database() -> bool:
    return isinstance(caches["default"], DatabaseCache)


CHECKS: dict[str, Callable[[], None]] = {"database": _check_database, "cache": _check_cache}
# Only the database decides readiness. The cache holds rate-limit counters, and the throttle
# fails open when it is unreachable, so a cache outage is reported but keeps tasks in service
# (otherwise a Redis blip would take every container out of the load balancer at once).
CRITICAL = {"database"}


def _run(check: Callable[[], None]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:  # noqa: BLE001 - any failure is the check's result, not a crash
        if check is _check_database:
            connection.close_if_unusable_or_obsolete()
        return {
            "status": "error",
            "latency_ms": round((time.perf_counter() - started) * 1000, 2),
            "error": type(exc).__name__,
        }
    return {"status": "ok", "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


class _CheckSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "error"])
    latency_ms = serializers.FloatField()
    error = serializers.CharField(required=False, help_text="The failure's type, when it failed.")


class _ReadinessSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "error"])
    checks = serializers.DictField(child=_CheckSerializer())


class _LivenessSerializer(serializers.Serializer):
    status = serializers.CharField(help_text='Always "ok".')


@method_decorator(never_cache, name="dispatch")
class HealthApi(APIView):
    """Readiness: 200 when every check passes, 503 with the failing check marked otherwise."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    @extend_schema(
        operation_id="health_readiness",
        responses={200: _ReadinessSerializer, 503: _ReadinessSerializer},
        tags=["health"],
    )
    def get(self, request: Request) -> Response:
        checks: dict[str, dict[str, Any]] = {}
        for name, check in CHECKS.items():
            if name == "cache" and checks["database"]["status"] == "error" and _cache_in_database():
                # The cache lives in the database that just failed: asking again would only
                # add another connect timeout to the load balancer's wait.
                checks[name] = {"status": "error", "latency_ms": 0.0, "error": "DatabaseUnavailable"}
                continue
            checks[name] = _run(check)
        ok = all(checks[name]["status"] == "ok" for name in CRITICAL)
        body = {"status": "ok" if ok else "error", "checks": checks}
        if ok:
            return Response(body)
        # Like every other 503 of this API: say when to look again.
        return Response(body, status=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


@method_decorator(never_cache, name="dispatch")
class LiveApi(APIView):
    """Liveness: answers whenever the process serves requests; touches no dependency."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    @extend_schema(operation_id="health_liveness", responses={200: _LivenessSerializer}, tags=["health"])
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


# LiveApi under its own name in the schema (its never_cache dispatch is inherited).
@extend_schema_view(
    get=extend_schema(operation_id="health_healthz", responses={200: _LivenessSerializer}, tags=["health"])
)
class HealthzApi(LiveApi):
    """`/healthz`: the load balancer's and the container's check (seed path), liveness only."""
