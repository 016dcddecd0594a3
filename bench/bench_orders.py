"""Order placement and catalog read benchmarks against a real database.

Usage (the database named in DATABASE_URL is created if missing, migrated and emptied):
    DATABASE_URL=mysql://root@127.0.0.1:3306/awsomeshop_bench .venv/bin/python bench/bench_orders.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/awsomeshop_bench .venv/bin/python bench/bench_orders.py
    DATABASE_URL=sqlite:////tmp/awsomeshop_bench.sqlite3 .venv/bin/python bench/bench_orders.py

It prints, for each scenario, the number of operations, wall time, throughput and latency
percentiles. Figures are recorded in bench/RESULTS.md; nothing here asserts a speed.
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "awsomeshop.settings.test")
os.environ.setdefault("DATABASE_URL", "sqlite:////tmp/awsomeshop_bench.sqlite3")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "300"))
THREADS = int(os.environ.get("BENCH_THREADS", "8"))


def ensure_database() -> None:
    name = connection.settings_dict["NAME"]
    if connection.vendor in ("mysql", "postgresql"):
        with connection._nodb_cursor() as cursor:
            if connection.vendor == "mysql":
                cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4")
            else:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
                if cursor.fetchone() is None:
                    cursor.execute(f'CREATE DATABASE "{name}"')
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def report(name: str, latencies: list[float], wall: float) -> None:
    ms = [v * 1000 for v in latencies]
    print(
        f"{name:<48} n={len(ms):>5}  {len(ms) / wall:>8.1f}/s  "
        f"p50={statistics.median(ms):6.2f} ms  p95={percentile(ms, 95):6.2f} ms  "
        f"max={max(ms):7.2f} ms"
    )


def timed_threads(
    n_threads: int, per_thread: int, op: Callable[[int, int], None]
) -> tuple[list[float], float]:
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(n_threads)

    def worker(t: int) -> None:
        local: list[float] = []
        barrier.wait()
        for i in range(per_thread):
            started = time.perf_counter()
            op(t, i)
            local.append(time.perf_counter() - started)
        with lock:
            latencies.extend(local)
        connection.close()

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(n_threads)]
    started = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return latencies, time.perf_counter() - started


def main() -> None:
    from catalog.models import Category, Product
    from orders.services import order_place
    from shop.auth.local_issuer import get_local_issuer
    from tests.factories import UserFactory

    ensure_database()
    print(
        f"database: {connection.vendor} ({connection.settings_dict['NAME']}); rounds={ROUNDS} threads={THREADS}"
    )
    category = Category.objects.create(name="Bench", slug="bench")
    products = [
        Product.objects.create(name=f"Item {i}", points_cost=1, stock=1_000_000, category=category)
        for i in range(50)
    ]
    users = [UserFactory(points=1_000_000, cognito_sub=f"bench-{i}") for i in range(THREADS)]

    # 1. One employee ordering, one after another (service level: lock, checks, 5 writes).
    lat = []
    started = time.perf_counter()
    for i in range(ROUNDS):
        t0 = time.perf_counter()
        order_place(user=users[0], product_id=products[i % 50].pk)
        lat.append(time.perf_counter() - t0)
    report("order_place, 1 thread", lat, time.perf_counter() - started)

    per_thread = max(1, ROUNDS // THREADS)
    if connection.vendor != "sqlite":
        # 2. Different employees and products: no shared rows, so locks should not serialise.
        lat, wall = timed_threads(
            THREADS, per_thread, lambda t, i: order_place(user=users[t], product_id=products[t].pk)
        )
        report(f"order_place, {THREADS} threads, disjoint rows", lat, wall)
        # 3. Everyone buys the same product: its row lock serialises them (the hot-item case).
        lat, wall = timed_threads(
            THREADS, per_thread, lambda t, i: order_place(user=users[t], product_id=products[0].pk)
        )
        report(f"order_place, {THREADS} threads, one hot product", lat, wall)

    # 4. Full HTTP stack in-process (auth, validation, serialisation), with Idempotency-Key.
    issuer = get_local_issuer()
    token = issuer.issue(email=users[0].email, sub=users[0].cognito_sub)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    lat = []
    started = time.perf_counter()
    for i in range(ROUNDS):
        t0 = time.perf_counter()
        response = client.post(
            "/api/v1/orders/",
            {"product_id": str(products[i % 50].pk)},
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=f"bench-{i}",
        )
        lat.append(time.perf_counter() - t0)
        assert response.status_code == 201, response.content
    report("POST /api/v1/orders/ (in-process)", lat, time.perf_counter() - started)

    for path in ("/api/v1/products/?page_size=50", "/api/v1/orders/?page_size=100", "/api/v1/me/"):
        lat = []
        started = time.perf_counter()
        for _ in range(ROUNDS):
            t0 = time.perf_counter()
            assert client.get(path).status_code == 200
            lat.append(time.perf_counter() - t0)
        report(f"GET {path}", lat, time.perf_counter() - started)

    call_command("check_ledger", verbosity=0)
    print("check_ledger: ok")


if __name__ == "__main__":
    main()
