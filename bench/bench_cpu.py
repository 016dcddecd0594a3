"""CPU time per request, in process: the figure a busy machine disturbs least.

Usage (the database named in DATABASE_URL is created if missing, migrated and emptied):
    DATABASE_URL=mysql://root@127.0.0.1:3306/awsomeshop_bench .venv/bin/python bench/bench_cpu.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/awsomeshop_bench .venv/bin/python bench/bench_cpu.py

Runs each endpoint of the HTTP benchmark (bench/http: the same settings, data shape and
reference views) N times through Django's test client, one request at a time, and prints
the process CPU time (time.process_time) and wall time per request. Waiting for the database
is not CPU time, so on a shared machine the CPU column is the stable one; it leaves out the
HTTP server's own parsing and writing, which is the same for every endpoint.
"""

from __future__ import annotations

import json
import os
import sys
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

from tests.support.cognito import (  # noqa: E402
    CLIENT_ID,
    POOL_ID,
    JwksServer,
    SigningKey,
    cognito_claims,
    issuer_for,
    sign,
)

# Production accepts only Cognito tokens for one host behind a TLS-terminating load balancer:
# as in bench/http/run.py, a local JWKS publishes the key the benchmark signs tokens with, and
# every request carries the balancer's Host and X-Forwarded-Proto.
HOST = "shop.bench.test"
SIGNING_KEY = SigningKey(kid="cpu-bench-key")
JWKS = JwksServer()
JWKS.keys.append(SIGNING_KEY)
os.environ.update(
    {
        "COGNITO_USER_POOL_ID": POOL_ID,
        "COGNITO_CLIENT_ID": CLIENT_ID,
        "COGNITO_JWKS_URL": JWKS.url,
        "COGNITO_ISSUER": issuer_for(POOL_ID),
        "APP_DOMAIN": HOST,
    }
)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402

from catalog.models import Category, Product, StockMovement  # noqa: E402
from catalog.services import product_stock_adjust  # noqa: E402
from points.services import points_grant  # noqa: E402
from shop.services import user_create  # noqa: E402

N = int(os.environ.get("BENCH_N", "300"))


def prepare() -> tuple[Client, Client, list[str]]:
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
    user = user_create(email="cpu@example.com", name="CPU", cognito_sub=sub)
    # One grant big enough for every case; the four-eyes threshold guards HR's grants, not
    # this loader (as in bench/http/run.py).
    with override_settings(GRANT_APPROVAL_THRESHOLD=1_000_000):
        points_grant(user=user, amount=1_000_000, reason="benchmark")
    token = sign(cognito_claims(sub=sub, email="cpu@example.com", name="CPU"), SIGNING_KEY)
    balancer = {"HTTP_HOST": HOST, "HTTP_X_FORWARDED_PROTO": "https"}
    return (
        Client(HTTP_AUTHORIZATION=f"Bearer {token}", **balancer),
        Client(HTTP_X_BENCH_USER=str(user.pk), **balancer),
        ids,
    )


def main() -> None:
    JWKS.start()
    api, plain, ids = prepare()

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
    ]
    print(f"database: {connection.vendor}, {N} requests each, one at a time")
    print(f"| {'endpoint':<14} | {'CPU/request':>11} | {'wall/request':>12} |")
    print(f"| {'-' * 14} | {'-' * 10}: | {'-' * 11}: |")
    for name, op in cases:
        for i in range(20):
            response = op(i)
            assert response.status_code < 300, (name, response.status_code)  # type: ignore[attr-defined]
        cpu, wall = time.process_time(), time.perf_counter()
        for i in range(N):
            op(i)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        print(f"| {name:<14} | {cpu / N * 1000:8.2f} ms | {wall / N * 1000:9.2f} ms |")
    JWKS.stop()


if __name__ == "__main__":
    main()
