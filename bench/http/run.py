"""HTTP benchmark: the real server under a real load generator, next to hand-written views.

Starts gunicorn exactly as the Dockerfile runs it (its CMD, with the address changed to
127.0.0.1 and, when asked, another worker class, count or thread count), with production
settings plus the benchmark's own URL configuration (`bench.http.settings`), on the database
named by DATABASE_URL. Production only accepts Cognito tokens, serves one host name and sits
behind a TLS-terminating load balancer, so the benchmark runs it as the fault drills do: a
local JWKS endpoint (`tests.support.cognito.JwksServer`) publishes a key the benchmark signs
Cognito-shaped ID tokens with, and every request, the reference views' included, carries the
Host and `X-Forwarded-Proto: https` the load balancer sends. The product's endpoints thus pay
production's real authentication path (JWKS-verified RS256 tokens; the local issuer stays
off). Loads the data set (100 products in 10 categories, 200 employees with such tokens and a
storefront session each: the storefront's pages are signed in by a session cookie), then
runs each scenario with wrk: a warm-up, then a measured run. Prints req/s, p50, p99, status
counts and the server's own CPU time per request (master and workers; steadier than req/s on a
shared machine) per scenario, the ratios against the reference views, and checks the ledger after the writes. Nothing here asserts a speed.

Usage, from the repository root after `bash bench/http/setup.sh`:

    DATABASE_URL=mysql://root@127.0.0.1:3306/awsomeshop_http .venv/bin/python bench/http/run.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/awsomeshop_http .venv/bin/python bench/http/run.py

Options: --worker-class sync|gthread|uvicorn, --workers N (WEB_CONCURRENCY), --threads N
(gthread), --duration SECONDS, --connections N, --scenarios a,b (see SCENARIOS), --cpus 0
(pin the server to these CPUs with taskset), --rate-limit 30/min (ORDER_RATE_LIMIT; "" is off),
--redis redis://... (REDIS_URL for the server), --env NAME=VALUE (more server settings),
--json FILE (write the figures), --port P (the server's port; a free one by default). The database is created if missing, migrated and emptied.

The scenarios peer_catalog and peer_orders (never run by default) send the same requests to the
design documents' FastAPI architecture, built as a peer in bench/peers (see bench/http/peer.py;
`bash bench/peers/setup.sh` first), and print the product's ratios to it.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)

WORK = Path(tempfile.mkdtemp(prefix="awsomeshop-http-bench-"))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.http.settings"
os.environ.setdefault("DJANGO_SECRET_KEY", "http-benchmark-only")
os.environ["MEDIA_ROOT"] = str(WORK / "media")
# The storefront's pages name their CSS and script through the static files' manifest, which
# the image builds with collectstatic; the benchmark collects them here as the image does.
os.environ["STATIC_ROOT"] = str(WORK / "static")
if "DATABASE_URL" not in os.environ:
    sys.exit("Set DATABASE_URL to a MariaDB/MySQL or PostgreSQL database the benchmark may empty.")

from bench.http.peer import peer_ratios, start_peer  # noqa: E402
from bench.http.servers import free_port, launch, server_cpu_seconds, stop_server  # noqa: E402
from bench.production_auth import HOST, local_cognito  # noqa: E402
from tests.support.cognito import cognito_claims, sign  # noqa: E402

# The JWKS server runs in this process for the whole run; the settings local_cognito sets are
# inherited by gunicorn and `check_ledger`.
JWKS, SIGNING_KEY = local_cognito(kid="http-bench-key")
TOKEN_LIFETIME = 6 * 3600

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from catalog.models import Category, Product, StockMovement  # noqa: E402
from catalog.services import product_stock_adjust  # noqa: E402
from orders.models import Order  # noqa: E402
from points.services.grants import points_grant  # noqa: E402
from shop.identity.services import user_create  # noqa: E402
from tests.support.storefront_session import storefront_session_for  # noqa: E402

PRODUCTS = 100
CATEGORIES = 10
EMPLOYEES = 200
FLASH_STOCK = 50


@dataclass(frozen=True)
class Scenario:
    name: str
    mode: str  # see load.lua
    path: str
    label: str
    writes: bool = False
    flash: bool = False


SCENARIOS = [
    Scenario("bare", "plain", "/bench/bare", "a bare Django JSON view (no database)"),
    Scenario("hand_catalog", "plain", "/bench/catalog", "hand-written catalog page (one raw SELECT)"),
    Scenario("catalog", "get", "/api/v1/products/", "GET /api/v1/products/"),
    Scenario("storefront_catalog", "session", "/products/", "storefront catalog page /products/ (signed in)"),
    Scenario("me", "get", "/api/v1/me/", "GET /api/v1/me/"),
    Scenario("hand_redeem", "redeem", "/bench/redeem", "hand-written redemption (raw SQL)", writes=True),
    Scenario("orders", "order", "/api/v1/orders/", "POST /api/v1/orders/ (Idempotency-Key)", writes=True),
    Scenario(
        "flash",
        "order",
        "/api/v1/orders/",
        f"flash drop: 64 clients, one product, stock {FLASH_STOCK}",
        writes=True,
        flash=True,
    ),
]
# The FastAPI peer's scenarios (bench/http/peer.py): the same requests, sent to the peer, which
# runs only when one of them is asked for (never by default: it needs its own virtualenv).
PEER_SCENARIOS = [
    Scenario("peer_catalog", "get", "/api/v1/products/", "FastAPI peer: GET /api/v1/products/"),
    Scenario("peer_orders", "order", "/api/v1/orders/", "FastAPI peer: POST /api/v1/orders/", writes=True),
]
RATIOS = [
    ("catalog", "hand_catalog"),
    ("orders", "hand_redeem"),
    ("me", "bare"),
    ("storefront_catalog", "catalog"),
]


def ensure_database() -> None:
    name = connection.settings_dict["NAME"]
    with connection._nodb_cursor() as cursor:
        if connection.vendor == "mysql":
            cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4")
        elif connection.vendor == "postgresql":
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{name}"')
        else:
            sys.exit("The HTTP benchmark runs on MariaDB/MySQL or PostgreSQL.")
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)


def load_data() -> tuple[Path, Path, Path, Path, str]:
    """The data set; returns the tokens, products, storefront sessions and flash files, the flash id."""
    categories = [Category.objects.create(name=f"Category {c}", slug=f"cat-{c}") for c in range(CATEGORIES)]
    text = "A product employees can redeem their points for; sturdy, useful and well reviewed. " * 2
    products = []
    for p in range(PRODUCTS):
        product = Product.objects.create(
            name=f"Product {p:03d}",
            description=text,
            points_cost=10 + (p * 37) % 990,
            category=categories[p % CATEGORIES],
        )
        product_stock_adjust(
            product_id=product.pk,
            delta=1_000_000,
            reason=StockMovement.Reason.RESTOCK,
            note="",
            changed_by=None,
        )
        products.append(product)
    flash = Product.objects.create(name="Flash drop", description="Limited.", points_cost=10)
    product_stock_adjust(
        product_id=flash.pk, delta=FLASH_STOCK, reason=StockMovement.Reason.RESTOCK, note="", changed_by=None
    )
    lines = []
    sessions = []
    for e in range(EMPLOYEES):
        sub = str(uuid.uuid4())
        email = f"employee{e:03d}@example.com"
        user = user_create(email=email, name=f"Employee {e}", cognito_sub=sub)
        # One grant big enough for every scenario; the four-eyes threshold guards HR's grants,
        # not this loader (the server under test makes no grants).
        with override_settings(GRANT_APPROVAL_THRESHOLD=1_000_000):
            points_grant(user=user, amount=1_000_000, reason="benchmark")
        claims = cognito_claims(
            sub=sub, email=email, name=f"Employee {e}", exp=int(time.time()) + TOKEN_LIFETIME
        )
        lines.append(f"{sign(claims, SIGNING_KEY)} {user.pk}")
        # The storefront's pages are signed in by a session cookie, one per employee.
        sessions.append(storefront_session_for(user).browser_header)
    tokens = WORK / "tokens.txt"
    tokens.write_text("\n".join(lines) + "\n")
    products_file = WORK / "products.txt"
    products_file.write_text("\n".join(str(p.pk) for p in products) + "\n")
    sessions_file = WORK / "sessions.txt"
    sessions_file.write_text("\n".join(sessions) + "\n")
    flash_file = WORK / "flash.txt"
    flash_file.write_text(f"{flash.pk}\n")
    return tokens, products_file, sessions_file, flash_file, str(flash.pk)


def dockerfile_command() -> list[str]:
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("CMD "):
            return list(json.loads(line[4:]))
    raise SystemExit("The Dockerfile has no CMD line.")


def _without(command: list[str], option: str) -> list[str]:
    if option not in command:
        return command
    at = command.index(option)
    return command[:at] + command[at + 2 :]


def server_command(args: argparse.Namespace, port: int) -> list[str]:
    """The image's command; --worker-class other than `image` replaces its worker class and threads."""
    command = dockerfile_command()
    command[command.index("--bind") + 1] = f"127.0.0.1:{port}"
    command[0] = str(ROOT / ".venv" / "bin" / "gunicorn")
    if args.worker_class != "image":
        command = _without(_without(command, "--worker-class"), "--threads")
    if args.worker_class == "gthread":
        command += ["--worker-class", "gthread", "--threads", str(args.threads)]
    elif args.worker_class == "uvicorn":
        command[command.index("awsomeshop.wsgi:application")] = "awsomeshop.asgi:application"
        command += ["--worker-class", "uvicorn.workers.UvicornWorker"]
    if args.cpus:
        command = ["taskset", "-c", args.cpus, *command]
    return command


def configured_worker_class() -> str:
    """gunicorn.conf.py's worker_class (gunicorn's default, sync, when it sets none)."""
    for node in ast.parse((ROOT / "gunicorn.conf.py").read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "worker_class" for t in node.targets):
            return str(ast.literal_eval(node.value))
    return "sync"


def describe(command: list[str]) -> str:
    worker_class = (
        command[command.index("--worker-class") + 1]
        if "--worker-class" in command
        else configured_worker_class()
    )
    threads = f" x {command[command.index('--threads') + 1]} threads" if "--threads" in command else ""
    return f"{worker_class.rsplit('.', 1)[-1]}{threads}"


def start_server(args: argparse.Namespace) -> tuple[subprocess.Popen[bytes], int, Path]:
    port = args.port or free_port()
    env = dict(os.environ, WEB_CONCURRENCY=str(args.workers), ORDER_RATE_LIMIT=args.rate_limit)
    if args.worker_class == "uvicorn":
        # Django's advice for ASGI: no persistent connections (each request's sync code may run
        # on another thread, so kept connections pile up until the server refuses more).
        env["DB_CONN_MAX_AGE"] = "0"
    if args.redis:
        env["REDIS_URL"] = args.redis
    for item in args.env:
        name, _, value = item.partition("=")
        env[name] = value
    log = WORK / "server.log"
    return launch(server_command(args, port), env=env, log=log, port=port, host=HOST), port, log


def wrk(
    port: int, scenario: Scenario, *, duration: float, connections_: int, files: dict[str, Path], run_id: str
) -> dict[str, float]:
    env = dict(
        os.environ,
        BENCH_MODE=scenario.mode,
        BENCH_PATH=scenario.path,
        BENCH_TOKENS=str(files["tokens"]),
        BENCH_PRODUCTS=str(files["flash" if scenario.flash else "products"]),
        BENCH_SESSIONS=str(files["sessions"]),
        BENCH_RUN=run_id,
        BENCH_HOST=HOST,
    )
    command = [
        "wrk",
        "-t1",
        f"-c{connections_}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "-s",
        str(Path(__file__).with_name("load.lua")),
        f"http://127.0.0.1:{port}{scenario.path}",
    ]
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    for line in out.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            data: dict[str, float] = json.loads(line[len("BENCH_JSON ") :])
            data["rps"] = data["requests"] / (data["duration_us"] / 1e6)
            return data
    raise SystemExit(f"wrk printed no figures:\n{out.stdout}\n{out.stderr}")


def check_ledger() -> str:
    out = subprocess.run(
        [sys.executable, "manage.py", "check_ledger"], capture_output=True, text=True, env=dict(os.environ)
    )
    text = (out.stdout + out.stderr).strip()
    if out.returncode != 0:
        raise SystemExit(f"LEDGER CHECK FAILED:\n{text}")
    return text


def flash_outcome(flash_id: str) -> dict[str, int]:
    connections.close_all()
    product = Product.objects.get(pk=flash_id)
    return {"stock_left": product.stock, "orders": Order.objects.filter(product_id=flash_id).count()}


def all_answered(data: dict[str, float]) -> str:
    wrong = data["requests"] - data["s2xx"]
    return (
        f"all {int(data['requests'])} answers 2xx: OK"
        if not wrong
        else f"{int(wrong)} answers not 2xx: WRONG"
    )


def measure(
    proc: subprocess.Popen[bytes],
    port: int,
    scenarios: list[Scenario],
    *,
    args: argparse.Namespace,
    files: dict[str, Path],
    flash_id: str,
    results: dict[str, dict[str, float]],
    notes: list[str],
) -> None:
    """Run each scenario against the server on `port`; figures into `results`, checks into `notes`."""
    for scenario in scenarios:
        run_id = uuid.uuid4().hex[:12]
        if scenario.flash:
            data = wrk(port, scenario, duration=5, connections_=64, files=files, run_id=run_id)
            outcome = flash_outcome(flash_id)
            data.update(outcome)
            sold_right = outcome["orders"] == FLASH_STOCK and outcome["stock_left"] == 0
            notes.append(
                f"flash drop: {outcome['orders']} orders for a stock of {FLASH_STOCK}, "
                f"{outcome['stock_left']} left, {int(data['s2xx'])} 201s, {int(data['s409'])} 409s, "
                f"{int(data['s5xx'])} 5xx: {'OK' if sold_right and not data['s5xx'] else 'WRONG'}"
            )
        else:
            if args.warmup > 0:
                wrk(
                    port,
                    scenario,
                    duration=args.warmup,
                    connections_=args.connections,
                    files=files,
                    run_id=run_id + "w",
                )
            cpu_before = server_cpu_seconds(proc)
            data = wrk(
                port,
                scenario,
                duration=args.duration,
                connections_=args.connections,
                files=files,
                run_id=run_id,
            )
            data["server_cpu_us"] = (server_cpu_seconds(proc) - cpu_before) / data["requests"] * 1e6
        results[scenario.name] = data
        if scenario.writes:
            notes.append(f"after {scenario.name}: {check_ledger()}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--worker-class", choices=["image", "sync", "gthread", "uvicorn"], default="image")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--scenarios", default=",".join(s.name for s in SCENARIOS))
    parser.add_argument("--cpus", default="")
    parser.add_argument("--rate-limit", default="30/min")
    parser.add_argument("--redis", default="")
    parser.add_argument("--env", action="append", default=[])
    parser.add_argument("--json", default="")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: run bash bench/http/setup.sh")
    wanted = args.scenarios.split(",")
    unknown = set(wanted) - {s.name for s in SCENARIOS + PEER_SCENARIOS}
    if unknown:
        raise SystemExit(f"unknown scenarios: {sorted(unknown)}")

    ensure_database()
    JWKS.start()
    tokens, products, sessions, flash_file, flash_id = load_data()
    connections.close_all()
    files = {"tokens": tokens, "products": products, "sessions": sessions, "flash": flash_file}
    results: dict[str, dict[str, float]] = {}
    notes: list[str] = []
    logs: list[Path] = []
    try:
        if ours := [s for s in SCENARIOS if s.name in wanted]:
            proc, port, log = start_server(args)
            logs.append(log)
            try:
                measure(
                    proc, port, ours, args=args, files=files, flash_id=flash_id, results=results, notes=notes
                )
            finally:
                stop_server(proc)
        if peers := [s for s in PEER_SCENARIOS if s.name in wanted]:
            logs.append(WORK / "peer.log")
            proc, port = start_peer(
                workers=args.workers, cpus=args.cpus, port=args.port, log=logs[-1], host=HOST
            )
            try:
                measure(
                    proc, port, peers, args=args, files=files, flash_id=flash_id, results=results, notes=notes
                )
            finally:
                stop_server(proc)
            notes += [f"{s.name}: {all_answered(results[s.name])}" for s in peers]
    finally:
        JWKS.stop()
    load = os.getloadavg()
    print()
    print(
        f"database: {connection.vendor}, workers: {args.workers} {describe(server_command(args, 0))}"
        + (f", CPUs {args.cpus}" if args.cpus else "")
        + f", wrk -t1 -c{args.connections} -d{args.duration:g}s"
    )
    print(f"load average after the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    # The deployment counts the order rate limit in ElastiCache (REDIS_URL); without --redis it
    # counts in the database table, one more transaction per order.
    counter = f"Redis ({args.redis})" if args.redis else "the database cache table (no --redis)"
    print(f"order rate limit: {args.rate_limit or 'off'}, counted in {counter}")
    print()
    print(
        f"| {'scenario':<52} | {'req/s':>8} | {'p50':>8} | {'p99':>8} | {'non-2xx':>7} | {'server CPU':>10} |"
    )
    print(f"| {'-' * 52} | {'-' * 8}:| {'-' * 8}:| {'-' * 8}:| {'-' * 7}:| {'-' * 10}:|")
    for scenario in SCENARIOS + PEER_SCENARIOS:
        if scenario.name not in results:
            continue
        r = results[scenario.name]
        non2xx = r["requests"] - r["s2xx"]
        cpu = f"{r['server_cpu_us'] / 1000:>7.2f} ms" if "server_cpu_us" in r else f"{'-':>10}"
        print(
            f"| {scenario.label:<52} | {r['rps']:>8,.0f} | {r['p50_us'] / 1000:>5.1f} ms | "
            f"{r['p99_us'] / 1000:>5.1f} ms | {int(non2xx):>7} | {cpu} |"
        )
    print()
    for a, b in RATIOS:
        if a in results and b in results:
            print(f"{a} / {b}: {100 * results[a]['rps'] / results[b]['rps']:.0f} %")
    for line in peer_ratios(results):
        print(line)
    for note in notes:
        print(note)
    print(f"server logs: {', '.join(map(str, logs))}")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "args": vars(args),
                    "server": server_command(args, 0),
                    "vendor": connection.vendor,
                    "load": load,
                    "results": results,
                    "notes": notes,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
