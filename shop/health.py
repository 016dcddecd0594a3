"""Health endpoints for the load balancer and the container runtime.

`/health` is readiness: it checks the database (and the cache) and reports each check with its
latency, in the shape the API contract fixes. `/health/live` is liveness: it touches nothing,
so a database outage makes tasks unready, not restarted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_cache() -> None:
    cache.set("health-check", "ok", 5)
    if cache.get("health-check") != "ok":
        raise RuntimeError("cache did not return what was stored")


CHECKS: dict[str, Callable[[], None]] = {"database": _check_database, "cache": _check_cache}


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


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    checks = {name: _run(check) for name, check in CHECKS.items()}
    ok = all(result["status"] == "ok" for result in checks.values())
    return JsonResponse({"status": "ok" if ok else "error", "checks": checks}, status=200 if ok else 503)


@never_cache
@require_GET
def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})
