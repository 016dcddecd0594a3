"""Times a 10,000-row CSV grant import through the admin, as HR does it: upload and preview,
then confirm. Runs against a throwaway test database on the server DATABASE_URL names.

    DATABASE_URL=sqlite:///:memory: .venv/bin/python bench/bench_csv_import.py
    DATABASE_URL=mysql://root@127.0.0.1:3306/NAME .venv/bin/python bench/bench_csv_import.py

Prints rows, seconds and rows/s for the preview and the confirm steps.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "awsomeshop.settings.test")
# This times the import itself, applied at confirm; above the threshold it would wait for an
# approval instead (the approval's queries are pinned in tests/points/test_grant_requests.py).
os.environ.setdefault("GRANT_APPROVAL_THRESHOLD", str(10**12))

import django

django.setup()

from django.contrib.auth.models import Group  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Sum  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from bench.support import throwaway_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--employees", type=int, default=2_000)
    args = parser.parse_args()

    with throwaway_database():
        run(rows=args.rows, employees=args.employees)


def run(*, rows: int, employees: int) -> None:
    from points.models import PointsAccount, PointsTransaction
    from shop.access.roles import HR_GROUP_NAME
    from shop.identity.services import user_create
    from shop.models import User

    # Employees with empty accounts are fixture data, written in bulk; points move only below.
    users = User.objects.bulk_create(
        [User(email=f"bench{i}@example.com", name=f"Bench {i}", password="!") for i in range(employees)]
    )
    PointsAccount.objects.bulk_create([PointsAccount(user=u) for u in users])
    hr = user_create(email="bench-hr@example.com", name="Bench HR", is_staff=True)
    hr.groups.add(Group.objects.get(name=HR_GROUP_NAME))
    client = Client()
    client.force_login(hr)

    lines = ["email,amount,reason"] + [
        f"bench{i % employees}@example.com,{1 + i % 50},Benchmark award {i}" for i in range(rows)
    ]
    content = ("\n".join(lines) + "\n").encode()
    url = reverse("admin:points_pointstransaction_import")

    start = time.perf_counter()
    preview = client.post(url, {"file": SimpleUploadedFile("bench.csv", content, content_type="text/csv")})
    previewed = time.perf_counter()
    match = re.search(r'name="token" value="([^"]+)"', preview.content.decode())
    if preview.status_code != 200 or not match:
        raise SystemExit(f"preview failed: HTTP {preview.status_code}")
    confirm = client.post(url, {"token": match.group(1), "confirm": "1"})
    done = time.perf_counter()
    if confirm.status_code != 302:
        raise SystemExit(f"confirm failed: HTTP {confirm.status_code}")

    written = PointsTransaction.objects.count()
    total = PointsAccount.objects.aggregate(total=Sum("balance"))["total"]
    expected = sum(1 + i % 50 for i in range(rows))
    if written != rows or total != expected:
        raise SystemExit(f"wrong result: {written} entries, {total} points (expected {rows}, {expected})")

    vendor = connection.vendor
    print(f"database: {vendor}; rows: {rows}; employees: {employees}; file: {len(content) / 1024:.0f} KiB")
    print(
        f"preview (upload, parse, check, store): {previewed - start:.2f} s ({rows / (previewed - start):,.0f} rows/s)"
    )
    print(
        f"confirm (re-validate, apply):          {done - previewed:.2f} s ({rows / (done - previewed):,.0f} rows/s)"
    )
    print(
        f"total:                                 {done - start:.2f} s ({rows / (done - start):,.0f} rows/s)"
    )


if __name__ == "__main__":
    main()
