"""Metrics from the real server: gunicorn as the image runs it writes EMF lines on stdout.

What this adds to test_metrics.py (gunicorn with the image's gunicorn.conf.py): the flush
thread starts in each forked worker, writes on its
own schedule to the worker's inherited stdout (what the awslogs driver ships), and a worker's
last metrics are written when it is stopped. No database is needed: the requests below are
answered before any query.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import requests
from django.db import connection

from tests.support.gunicorn import start_gunicorn

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="engine-independent (no query is made); the SQLite pass runs it once",
)


def _documents(path: Path) -> list[dict[str, object]]:
    docs = []
    for line in path.read_text().splitlines():
        if '"_aws"' in line:
            docs.append(json.loads(line))
    return docs


def test_gunicorn_workers_write_emf_lines_on_stdout(tmp_path: Path) -> None:
    stdout = tmp_path / "stdout.log"
    env = {
        "DJANGO_SETTINGS_MODULE": "awsomeshop.settings.local",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        "METRICS": "on",
        "METRICS_ENVIRONMENT": "runtime-test",
        "METRICS_FLUSH_SECONDS": "0.5",
    }
    server = start_gunicorn(env, stdout, workers=2)
    base = server.url
    try:
        for _ in range(5):
            assert requests.get(f"{base}/health/live", timeout=5).status_code == 200
            listing = requests.get(
                f"{base}/api/v1/categories/", headers={"Authorization": "Bearer y"}, timeout=5
            )
            assert listing.status_code == 401
            refused = requests.get(f"{base}/api/v1/me/", headers={"Authorization": "Bearer x"}, timeout=5)
            assert refused.status_code == 401
        # Written by the flush thread, while the workers keep running.
        deadline = time.monotonic() + 10
        while not any("AuthFailure" in d for d in _documents(stdout)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert server.process.poll() is None
    finally:
        server.stop()  # SIGTERM: each worker writes what it still holds as it exits
    docs = _documents(stdout)
    assert docs, "no EMF line on stdout"
    totals: dict[tuple[str, str], float] = {}
    for doc in docs:
        directive = doc["_aws"]["CloudWatchMetrics"][0]  # type: ignore[index]
        assert directive["Namespace"] == "AWSomeShop"
        assert doc["Environment"] == "runtime-test"
        for metric in directive["Metrics"]:
            values = doc[metric["Name"]]
            values = values if isinstance(values, list) else [values]
            # Latency: how many samples; counters: their sum.
            amount = len(values) if metric["Name"] == "RequestLatency" else sum(values)
            key = (metric["Name"], str(doc.get("Route", "")) + str(doc.get("Reason", "")))
            totals[key] = totals.get(key, 0) + amount
    assert totals[("Requests", "api/v1/me/")] == 5
    assert totals[("Requests", "api/v1/categories/")] == 5
    assert totals[("RequestLatency", "api/v1/categories/")] == 5
    assert totals[("AuthFailure", "malformed")] == 10
    # Load-balancer probes are answered before the metrics middleware: not application traffic.
    assert not [key for key in totals if "health" in key[1]]
