"""CPU time per request, in process: the figure a busy machine disturbs least.

Usage (the database named in DATABASE_URL is created if missing, migrated and emptied):
    DATABASE_URL=mysql://root@127.0.0.1:3306/awsomeshop_bench .venv/bin/python bench/bench_cpu.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/awsomeshop_bench .venv/bin/python bench/bench_cpu.py

Runs each endpoint of the HTTP benchmark (bench/http: the same settings, data shape and
reference views) N times through Django's test client, one request at a time, and prints
the process CPU time (time.process_time) and wall time per request, and the CPU time per
request of the cheapest batch of BATCH requests. Waiting for the database is not CPU time, so
on a shared machine the CPU columns are the stable ones (the cheapest batch the steadiest:
other processes only ever add to it); they leave out the HTTP server's own parsing and
writing, which is the same for every endpoint.

Production is run as bench/http/run.py runs it: Cognito-shaped ID tokens verified against a
local JWKS endpoint (the local issuer is off in production), and the load balancer's Host and
`X-Forwarded-Proto: https` on every request, so host validation and the HTTPS redirect pass.

The storefront's pages (`storefront_*`) are asked for as a signed-in employee asks for them: a
session cookie, one of several employees' in turn, with the static files collected as the
image collects them (the pages name their CSS and script through the manifest).

Options through the environment: BENCH_N (requests per endpoint, 300), BENCH_CASES (a comma-
separated subset of the endpoints), BENCH_PROFILE=FILE (cProfile the measured loop of each
case into FILE.<case>.prof, for `python -m pstats`; the CPU figures then include the profiler),
BENCH_GC=1 (each case's garbage collections by generation, their longest pause and the objects
a full collection scans), BENCH_GC_FREEZE=1 (freeze what the process holds after each case's
warm-up, as the server's workers do; awsomeshop/gunicorn_worker.py).
"""

from __future__ import annotations

import cProfile
import gc
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.http.settings"
os.environ.setdefault("DJANGO_SECRET_KEY", "cpu-benchmark-only")
os.environ.setdefault("ORDER_RATE_LIMIT", "100000/min")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# The storefront's pages name their CSS and script through the collected files' manifest.
os.environ["STATIC_ROOT"] = tempfile.mkdtemp(prefix="awsomeshop-cpu-bench-static-")

from bench.production_auth import PROXIED, local_cognito  # noqa: E402
from tests.support.cognito import cognito_claims, sign  # noqa: E402

JWKS, SIGNING_KEY = local_cognito(kid="cpu-bench-key")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from catalog.models import Category, Product, StockMovement  # noqa: E402
from catalog.services import product_stock_adjust  # noqa: E402
from orders.services import order_place  # noqa: E402
from points.services.grants import points_grant  # noqa: E402
from shop.identity.services import user_create  # noqa: E402
from tests.support.storefront_session import storefront_session_for  # noqa: E402

N = int(os.environ.get("BENCH_N", "300"))
# CPU is also timed per batch of this many requests; the cheapest batch is the figure other
# processes on a busy machine disturb least (they only ever add to it).
BATCH = 50
EMPLOYEES = 20  # storefront sessions asked for in turn, as the HTTP benchmark rotates its 200


def prepare() -> tuple[Client, Client, list[str], list[Client]]:
    name = connection.settings_dict["NAME"]
    with connection._nodb_cursor() as cursor:
        if connection.vendor == "mysql":
            cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4")
        elif connection.vendor == "postgresql":
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{name}"')
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    categories = [Category.objects.create(name=f"Category {c}", slug=f"cat-{c}") for c in range(10)]
    text = "A product employees can redeem their points for; sturdy, useful and well reviewed. " * 2
    ids = []
    for p in range(100):
        product = Product.objects.create(
            name=f"Product {p:03d}",
            description=text,
            points_cost=10 + (p * 37) % 990,
            category=categories[p % 10],
        )
        product_stock_adjust(
            product_id=product.pk,
            delta=1_000_000,
            reason=StockMovement.Reason.RESTOCK,
            note="",
            changed_by=None,
        )
        ids.append(str(product.pk))
    sub = str(uuid.uuid4())
    email = "cpu@example.com"
    user = user_create(email=email, name="CPU", cognito_sub=sub)
    # The four-eyes threshold guards HR's grants, not this loader.
    with override_settings(GRANT_APPROVAL_THRESHOLD=1_000_000):
        points_grant(user=user, amount=1_000_000, reason="benchmark")
    token = sign(cognito_claims(sub=sub, email=email, name="CPU"), SIGNING_KEY)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}", **PROXIED)
    plain = Client(HTTP_X_BENCH_USER=str(user.pk), **PROXIED)
    employees = []
    for e in range(EMPLOYEES):
        employee = user_create(
            email=f"employee{e:03d}@example.com", name=f"Employee {e}", cognito_sub=str(uuid.uuid4())
        )
        with override_settings(GRANT_APPROVAL_THRESHOLD=1_000_000):
            points_grant(user=employee, amount=1_000_000, reason="benchmark")
        for o in range(3):  # a few orders and ledger entries for their orders and history pages
            order_place(user=employee, product_id=ids[(e + o) % len(ids)])
        client = Client(**PROXIED)
        session = storefront_session_for(employee)
        client.cookies[session.cookie_name] = session.key
        employees.append(client)
    return api, plain, ids, employees


def main() -> None:
    JWKS.start()
    api, plain, ids, employees = prepare()

    def body(i: int) -> str:
        return json.dumps({"product_id": ids[i % len(ids)], "quantity": 1})

    cases: list[tuple[str, Callable[[int], object]]] = [
        ("bare", lambda i: plain.get("/bench/bare")),
        ("hand_catalog", lambda i: plain.get("/bench/catalog")),
        ("catalog", lambda i: api.get("/api/v1/products/")),
        ("me", lambda i: api.get("/api/v1/me/")),
        ("hand_redeem", lambda i: plain.post("/bench/redeem", body(i), content_type="application/json")),
        (
            "orders",
            lambda i: api.post(
                "/api/v1/orders/",
                body(i),
                content_type="application/json",
                HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
            ),
        ),
        ("storefront_catalog", lambda i: employees[i % EMPLOYEES].get("/products/")),
        ("storefront_home", lambda i: employees[i % EMPLOYEES].get("/")),
        ("storefront_product", lambda i: employees[i % EMPLOYEES].get(f"/products/{ids[i % len(ids)]}/")),
        ("storefront_orders", lambda i: employees[i % EMPLOYEES].get("/orders/")),
        ("storefront_history", lambda i: employees[i % EMPLOYEES].get("/points/")),
    ]
    wanted = os.environ.get("BENCH_CASES", "")
    if wanted:
        cases = [case for case in cases if case[0] in wanted.split(",")]
    profile_to = os.environ.get("BENCH_PROFILE", "")
    pauses: list[tuple[int, float]] = []  # (generation, seconds) of each garbage collection
    started: list[float] = []

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[:] = [time.perf_counter()]
        elif started:
            pauses.append((info["generation"], time.perf_counter() - started[0]))

    gc.callbacks.append(on_gc)
    print(f"database: {connection.vendor}, {N} requests each, one at a time")
    print(f"| {'endpoint':<18} | {'CPU/request':>11} | {'best batch':>11} | {'wall/request':>12} |")
    print(f"| {'-' * 18} | {'-' * 10}: | {'-' * 10}: | {'-' * 11}: |")
    try:
        for name, op in cases:
            for i in range(20):
                response = op(i)
                assert response.status_code < 300, (name, response.status_code)  # type: ignore[attr-defined]
            if os.environ.get("BENCH_GC_FREEZE"):
                gc.freeze()  # after the warm-up, as the server's workers do (awsomeshop/gunicorn_worker.py)
            profiler = cProfile.Profile() if profile_to else None
            pauses.clear()
            cpu, wall = time.process_time(), time.perf_counter()
            if profiler is not None:
                profiler.enable()
            batches = []
            for start in range(0, N, BATCH):
                batch = time.process_time()
                for i in range(start, min(N, start + BATCH)):
                    op(i)
                batches.append((time.process_time() - batch) / (min(N, start + BATCH) - start))
            if profiler is not None:
                profiler.disable()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            print(
                f"| {name:<18} | {cpu / N * 1000:8.2f} ms | {min(batches) * 1000:8.2f} ms | "
                f"{wall / N * 1000:9.2f} ms |"
            )
            if os.environ.get("BENCH_GC"):
                print(
                    f"|   gc: {len(gc.get_objects(2))} objects in the oldest generation, {gc.get_freeze_count()} frozen"
                )
                for generation in range(3):
                    times = [t for g, t in pauses if g == generation]
                    print(
                        f"|   gc gen {generation}: {len(times)} collections, "
                        f"{sum(times) * 1000:.1f} ms in all, longest {max(times, default=0) * 1000:.1f} ms"
                    )
            if profiler is not None:
                profiler.dump_stats(f"{profile_to}.{name}.prof")
    finally:
        JWKS.stop()


if __name__ == "__main__":
    main()
