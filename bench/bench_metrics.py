"""Benchmark: what the application metrics cost a request.

Three figures:
1. the recorder's own calls (``count``, ``observe``) in nanoseconds, single-threaded and with
   8 threads contending for its lock;
2. ``GET /api/v1/me/`` and ``GET /api/v1/products/`` in-process through the whole middleware
   and authentication stack, alternating rounds with metrics off and on, so both see the same
   machine load; the difference is the per-request cost of metrics;
3. one flush of a busy minute's aggregates (what the background thread does once a minute).

The database is SQLite in memory by default (DATABASE_URL overrides it), so the request
figures are dominated by Django, not by a database server.

Usage: python bench/bench_metrics.py [--requests 2000]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "awsomeshop.settings.test")

import django

django.setup()

from django.conf import settings  # noqa: E402 - after django.setup()
from django.core.management import call_command  # noqa: E402 - after django.setup()
from django.test.utils import setup_test_environment  # noqa: E402 - after django.setup()

from shop.observability import metrics  # noqa: E402 - after django.setup()
from shop.observability.metrics import MetricsRecorder  # noqa: E402 - after django.setup()


def per_call_ns(recorder: MetricsRecorder, n: int, threads: int) -> float:
    def work() -> None:
        for i in range(n):
            recorder.count("Requests", Route="api/v1/me/", StatusClass="2xx")
            recorder.observe("RequestLatency", float(i % 50), Route="api/v1/me/", StatusClass="2xx")

    workers = [threading.Thread(target=work) for _ in range(threads)]
    started = time.perf_counter_ns()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    # Two calls per iteration; wall time divided by every call made.
    return (time.perf_counter_ns() - started) / (2 * n * threads)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()

    sink: list[str] = []
    recorder = MetricsRecorder(environment="bench", flush_seconds=3600, write=sink.append)
    print(f"python {platform.python_version()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    print(f"recorder call, 1 thread:  {per_call_ns(recorder, 200_000, 1):.0f} ns")
    print(f"recorder call, 8 threads: {per_call_ns(recorder, 25_000, 8):.0f} ns (wall time per call)")
    recorder.flush()

    setup_test_environment()
    from django.db import connection

    connection.creation.create_test_db(verbosity=0)
    call_command("seed_demo", verbosity=0)
    from rest_framework.test import APIClient

    from shop.auth.local_issuer import get_local_issuer
    from shop.models import User

    user = User.objects.get(email="alice@example.com")
    token = get_local_issuer().issue(email=user.email, name=user.name, sub=user.cognito_sub)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    metrics.reset_recorder(MetricsRecorder(environment="bench", flush_seconds=3600, write=sink.append))

    for path in ("/api/v1/me/", "/api/v1/products/"):
        timings: dict[bool, list[float]] = {False: [], True: []}
        rounds = 20
        per_round = max(1, args.requests // rounds)
        for _ in range(rounds):
            for on in (False, True):
                settings.METRICS_ENABLED = on
                started = time.perf_counter()
                for _ in range(per_round):
                    response = client.get(path)
                    assert response.status_code == 200, response.status_code
                timings[on].append((time.perf_counter() - started) / per_round * 1e6)
        off, on = statistics.median(timings[False]), statistics.median(timings[True])
        print(
            f"GET {path}: metrics off {off:.0f} µs, on {on:.0f} µs per request "
            f"(median of {rounds} rounds of {per_round}); difference {on - off:+.0f} µs ({(on - off) / off:+.1%})"
        )

    # A busy minute for one worker: 20 routes x 3 status classes, 500 latency samples each.
    busy = MetricsRecorder(environment="bench", flush_seconds=3600, write=sink.append)
    for route in range(20):
        for status in ("2xx", "4xx", "5xx"):
            for i in range(600):
                busy.count("Requests", Route=f"r{route}", StatusClass=status)
                busy.observe("RequestLatency", float(i), Route=f"r{route}", StatusClass=status)
    sink.clear()
    started = time.perf_counter()
    lines = busy.flush()
    elapsed = (time.perf_counter() - started) * 1000
    size = sum(len(line) for line in sink)
    print(
        f"flush of a busy minute (60 series, 30,000 samples kept): {elapsed:.1f} ms, {lines} lines, {size / 1024:.0f} KiB"
    )
    metrics.reset_recorder(None)


if __name__ == "__main__":
    main()
