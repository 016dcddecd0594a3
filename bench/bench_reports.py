"""Times the HR reports and the dashboard on a company-sized data set.

Seeds --employees employees and --entries ledger entries with `seed_volume`'s code (one
year of history, twelve departments), checks the ledger, then requests through the admin, as
HR would: the reports page, each report's CSV, and the dashboard, for every department and
for one, with points expiry off and on. Runs against a throwaway test database (`test_` + the
name in DATABASE_URL, dropped at the end): give it a name of its own.

    DATABASE_URL=sqlite:///:memory: .venv/bin/python bench/bench_reports.py
    DATABASE_URL=mysql://root@127.0.0.1:3306/awsomeshop_bench_reports .venv/bin/python bench/bench_reports.py
    DB_READ_TIMEOUT=0 DB_WRITE_TIMEOUT=0 DB_STATEMENT_TIMEOUT=0 \
        DATABASE_URL=postgres://postgres@127.0.0.1:5432/awsomeshop_bench_reports .venv/bin/python bench/bench_reports.py

Seeding is one long transaction: like any one-off task with long statements it runs with the
database timeouts off (README, `DB_READ_TIMEOUT`); PostgreSQL's commit of it can take longer
than the default 5 s.

Prints the seeding time and, per request, the first run, the median and worst of the later
--rounds runs, and the query counts (first/later when they differ). With expiry on, the cache
of replayed lots (``ExpiryLots``) is emptied before each request's first run: "first" is the
cold figure (every account replayed), the median the warm one (lots read from the cache).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "awsomeshop.settings.test")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from bench.support import throwaway_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    with throwaway_database():
        run(employees=args.employees, entries=args.entries, rounds=args.rounds)


def run(*, employees: int, entries: int, rounds: int) -> None:
    from orders.audit import ledger_violations
    from orders.volume import volume_seed
    from points.models import ExpiryLots
    from shop.access.roles import HR_GROUP_NAME
    from shop.identity.services import user_create

    start = time.perf_counter()
    result = volume_seed(employees=employees, entries=entries)
    seeded = time.perf_counter() - start
    start = time.perf_counter()
    problems = ledger_violations()
    checked = time.perf_counter() - start
    if problems:
        raise SystemExit(f"check_ledger found {len(problems)} problems, e.g. {problems[0]}")
    print(
        f"database: {connection.vendor}; {result.employees} employees, {result.entries} ledger entries, "
        f"{result.orders} orders, {result.products} products"
    )
    print(f"seed_volume: {seeded:.1f} s; check_ledger: {checked:.1f} s (no problems)")

    hr = user_create(email="bench-hr@example.com", name="Bench HR", is_staff=True, is_employee=False)
    hr.groups.add(Group.objects.get(name=HR_GROUP_NAME))
    client = Client()
    client.force_login(hr)
    # No dates: the reports' default period (the last 365 days) and the dashboard's (12 weeks).
    requests = [("reports page, by month", reverse("hr_reports"), {})]
    requests.append(("reports page, by week", reverse("hr_reports"), {"group": "week"}))
    requests.append(("reports page, one department", reverse("hr_reports"), {"department": "Sales"}))
    for name in ("liability", "flows", "departments", "products", "expiring"):
        requests.append((f"{name}.csv", reverse("hr_report_csv", args=[name]), {}))
    requests.append(("dashboard (admin index), 12 weeks", reverse("admin:index"), {}))
    requests.append(("dashboard, one department", reverse("admin:index"), {"department": "Sales"}))

    # With expiry on, the first request after the cache of replayed lots is emptied is the cold
    # one (every account replayed); the later rounds read the cached lots.
    print(f"{'request':40} {'expiry':>7} {'first':>9} {'median':>9} {'worst':>9} {'queries':>8}")
    for months in (0, 12):
        settings.POINTS_EXPIRY_MONTHS = months
        for label, url, params in requests:
            if months and "expiring" not in label and "page" not in label and "dashboard" not in label:
                continue  # only these read expiry
            if months:
                ExpiryLots.objects.all().delete()
            times, queries = [], []
            for _ in range(rounds):
                reset_queries()
                with CaptureQueriesContext(connection) as captured:
                    began = time.perf_counter()
                    response = client.get(url, params)
                    if hasattr(response, "streaming_content"):
                        b"".join(response.streaming_content)
                    times.append(time.perf_counter() - began)
                if response.status_code != 200:
                    raise SystemExit(f"{label}: HTTP {response.status_code}")
                queries.append(len(captured))
            later = times[1:] or times
            expiry = f"{months} mo" if months else "off"
            counts = "/".join(str(n) for n in dict.fromkeys(queries))  # first, then any other count
            print(
                f"{label:40} {expiry:>7} {times[0] * 1000:6.0f} ms {statistics.median(later) * 1000:6.0f} ms "
                f"{max(later) * 1000:6.0f} ms {counts:>8}"
            )


if __name__ == "__main__":
    main()
