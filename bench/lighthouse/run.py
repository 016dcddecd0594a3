"""Lighthouse on the storefront: home, catalog and a product page, signed in, mobile profile.

Lighthouse (pinned in bench/lighthouse/package-lock.json; installed here with `npm ci` when
missing or changed) drives Chromium against gunicorn started as the image starts it, with
production settings (`bench.lighthouse.settings`: collected, hashed and compressed static
files; security headers; product images served from local media instead of S3). The database
named by DATABASE_URL is created if missing, migrated, emptied and loaded with the demo catalog (13 products with
their images) and the demo employees; the pages are seen by alice@example.com, whose session
cookie Lighthouse sends on every request (`--extra-headers`). The mobile profile is Lighthouse's
default: a 412 px wide phone, simulated slow 4G and a 4x slower CPU.

Prints the performance, accessibility and best-practices scores of each page (the median of
--runs runs), and for any score under 100 the audits that cost points. Speed is measured here,
never asserted in the test suite.

Usage, from the repository root:

    DATABASE_URL=mysql://root@127.0.0.1:3306/awsomeshop_lighthouse .venv/bin/python bench/lighthouse/run.py

Options: --runs N (default 1), --port P (default a free port), --keep DIR (keep the JSON
reports there). CHROME_PATH names the browser (default /usr/bin/chromium).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)

WORK = Path(tempfile.mkdtemp(prefix="awsomeshop-lighthouse-"))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.lighthouse.settings"
os.environ.setdefault("DJANGO_SECRET_KEY", "lighthouse-benchmark-only")
os.environ["MEDIA_ROOT"] = str(WORK / "media")
os.environ["STATIC_ROOT"] = str(WORK / "static")
# Plain HTTP on the loopback address: no TLS load balancer in front, so no HTTPS redirect.
os.environ["SECURE_SSL_REDIRECT"] = "false"
os.environ["ALLOWED_HOSTS"] = "127.0.0.1"
if "DATABASE_URL" not in os.environ:
    sys.exit("Set DATABASE_URL to a MariaDB/MySQL or PostgreSQL database the benchmark may empty.")

from bench.production_auth import local_cognito  # noqa: E402

# Production refuses to start without a Cognito pool; the storefront pages measured here use
# the session cookie, so the JWKS endpoint itself is never asked.
local_cognito(kid="lighthouse-bench-key")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connections  # noqa: E402

from catalog.demo import seed_demo  # noqa: E402
from catalog.models import Product  # noqa: E402
from shop.models import User  # noqa: E402
from tests.support.gunicorn import free_port  # noqa: E402
from tests.support.storefront_session import storefront_session_for  # noqa: E402

CATEGORIES = ["performance", "accessibility", "best-practices"]
LIGHTHOUSE = HERE / "node_modules" / ".bin" / "lighthouse"


def install_lighthouse() -> None:
    """`npm ci` when node_modules is missing or older than the lock file."""
    lock = HERE / "package-lock.json"
    stamp = HERE / "node_modules" / ".package-lock.sha256"
    want = hashlib.sha256(lock.read_bytes()).hexdigest()
    if LIGHTHOUSE.exists() and stamp.exists() and stamp.read_text().strip() == want:
        return
    if shutil.which("npm") is None:
        sys.exit("npm is missing: install Node.js 20 and npm.")
    print("installing Lighthouse (npm ci in bench/lighthouse)", flush=True)
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE, check=True)
    stamp.write_text(want + "\n")


def ensure_database() -> None:
    connection = connections["default"]
    name = connection.settings_dict["NAME"]
    with connection._nodb_cursor() as cursor:
        if connection.vendor == "mysql":
            cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4")
        elif connection.vendor == "postgresql":
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{name}"')
        else:
            sys.exit("The Lighthouse benchmark runs on MariaDB/MySQL or PostgreSQL.")


def prepare_database() -> tuple[str, str]:
    """Migrate, empty, load the demo data; returns the session cookie header and a product id."""
    ensure_database()
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    seed_demo()
    session = storefront_session_for(User.objects.get(email="alice@example.com"))
    product = Product.objects.get(name="Mechanical Keyboard")
    connections.close_all()
    return session.header, str(product.pk)


def start_server(port: int) -> subprocess.Popen[bytes]:
    """The image's gunicorn (gunicorn.conf.py, two workers) on 127.0.0.1:port."""
    log = WORK / "server.log"
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "awsomeshop.wsgi:application",
        "--config",
        "gunicorn.conf.py",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
    ]
    proc = subprocess.Popen(command, stdout=log.open("wb"), stderr=subprocess.STDOUT, env=dict(os.environ))
    deadline = time.monotonic() + 60
    import urllib.request

    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"gunicorn exited; see {log}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=2):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    sys.exit("gunicorn did not answer within 60 s")


def lighthouse(url: str, cookie: str, out: Path) -> dict[str, object]:
    env = dict(os.environ, CHROME_PATH=os.environ.get("CHROME_PATH", "/usr/bin/chromium"))
    command = [
        str(LIGHTHOUSE),
        url,
        "--quiet",
        "--output=json",
        f"--output-path={out}",
        f"--only-categories={','.join(CATEGORIES)}",
        "--chrome-flags=--headless --no-sandbox --disable-gpu",
        f"--extra-headers={json.dumps({'Cookie': cookie})}",
    ]
    subprocess.run(command, env=env, check=True)
    report: dict[str, object] = json.loads(out.read_text())
    return report


def losses(report: dict[str, object], category: str) -> list[str]:
    """The audits that cost the category points, largest weight first."""
    cats = report["categories"]
    audits = report["audits"]
    assert isinstance(cats, dict) and isinstance(audits, dict)
    found = []
    for ref in sorted(cats[category]["auditRefs"], key=lambda r: -r["weight"]):
        audit = audits[ref["id"]]
        score = audit.get("score")
        if ref["weight"] > 0 and score is not None and score < 1:
            value = audit.get("displayValue") or ""
            found.append(
                f"{ref['id']} (weight {ref['weight']}, score {score:.2f}{', ' + value if value else ''})"
            )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--keep", default="")
    args = parser.parse_args()
    install_lighthouse()
    cookie, product_id = prepare_database()
    port = args.port or free_port()
    pages = {"home": "/", "catalog": "/products/", "product": f"/products/{product_id}/"}
    reports = Path(args.keep) if args.keep else WORK / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    proc = start_server(port)
    scores: dict[str, dict[str, float]] = {}
    notes: list[str] = []
    try:
        for name, path in pages.items():
            runs: dict[str, list[float]] = {c: [] for c in CATEGORIES}
            last: dict[str, object] = {}
            for n in range(args.runs):
                last = lighthouse(f"http://127.0.0.1:{port}{path}", cookie, reports / f"{name}-{n + 1}.json")
                final_url = str(last.get("finalDisplayedUrl", ""))
                if not final_url.endswith(path):
                    sys.exit(
                        f"{name}: Lighthouse ended on {final_url}, not {path}: is the session cookie sent?"
                    )
                cats = last["categories"]
                assert isinstance(cats, dict)
                for c in CATEGORIES:
                    runs[c].append(round(100 * cats[c]["score"]))
            scores[name] = {c: statistics.median(v) for c, v in runs.items()}
            for c in CATEGORIES:
                lost = losses(last, c)
                if lost:
                    notes.append(f"{name} {c} (last run): " + "; ".join(lost[:6]))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    load = os.getloadavg()
    version = subprocess.run([str(LIGHTHOUSE), "--version"], capture_output=True, text=True).stdout.strip()
    print()
    print(
        f"Lighthouse {version}, mobile profile, median of {args.runs} run(s), database {connections['default'].vendor}"
    )
    print(f"load average after the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs")
    print()
    print(f"| {'page':<8} | {'performance':>11} | {'accessibility':>13} | {'best practices':>14} |")
    print(f"| {'-' * 8} | {'-' * 10}:| {'-' * 12}:| {'-' * 13}:|")
    for name, s in scores.items():
        print(
            f"| {name:<8} | {s['performance']:>11.0f} | {s['accessibility']:>13.0f} | {s['best-practices']:>14.0f} |"
        )
    print()
    for note in notes:
        print(note)
    print(f"reports: {reports}")


if __name__ == "__main__":
    main()
