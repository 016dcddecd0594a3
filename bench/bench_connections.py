"""What a request pays for its database connection: a new one, or a kept one with a health check.

Usage:
    DATABASE_URL=mysql://root@127.0.0.1:3306/awsomeshop_bench .venv/bin/python bench/bench_connections.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/awsomeshop_bench .venv/bin/python bench/bench_connections.py

Each case runs what Django does around one request's first query (`SELECT 1`), N times, after
a warm-up, and prints median and p95:
  new      DB_CONN_MAX_AGE=0: connect (and Django's session set-up), query, close
  checked  a kept connection with DB_CONN_HEALTH_CHECKS: ping, then query
  kept     a kept connection without health checks: query
Local servers without TLS; behind RDS Proxy a new connection also pays a TLS handshake and the
proxy's authentication, so `new` is a lower bound there.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "awsomeshop.settings.test")

import django

django.setup()

from django.db import connection  # noqa: E402

from bench.support import timed as support_timed  # noqa: E402

N = int(os.environ.get("BENCH_N", "500"))


def query() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def new() -> None:
    connection.close()
    query()


def checked() -> None:
    # What close_if_unusable_or_obsolete and ensure_connection do with CONN_HEALTH_CHECKS.
    if not connection.is_usable():
        raise SystemExit("connection unusable")
    query()


def timed(name: str, op: Callable[[], object]) -> None:
    support_timed(name, op, n=N, warmup=50, width=8)


def main() -> None:
    print(f"database: {connection.vendor}, {N} repetitions each")
    timed("new", new)
    query()
    timed("checked", checked)
    timed("kept", query)


if __name__ == "__main__":
    main()
