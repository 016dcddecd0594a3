"""Times a roster CSV import through the admin, as HR does it: upload and preview, then confirm.

A file of --rows employees (half of them already registered, so half are registrations and
half updates) with "deactivate leavers" on, against --existing registered employees. Runs
against a throwaway test database on the server DATABASE_URL names; no Cognito pool is
configured, so the figures are the database work alone (each invitation adds one Cognito
round trip after the commit).

    DATABASE_URL=sqlite:///:memory: .venv/bin/python bench/bench_roster_import.py
    DATABASE_URL=mysql://root@127.0.0.1:3306/NAME .venv/bin/python bench/bench_roster_import.py

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

import django

django.setup()

from django.contrib.auth.models import Group  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from bench.support import throwaway_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000)
    parser.add_argument("--existing", type=int, default=1_100)
    args = parser.parse_args()

    with throwaway_database():
        run(rows=args.rows, existing=args.existing)


def run(*, rows: int, existing: int) -> None:
    from points.models import PointsAccount
    from shop.access.roles import HR_GROUP_NAME
    from shop.identity.services import user_create
    from shop.models import Department, User

    # Registered employees are fixture data, written in bulk: 0 .. existing-1.
    users = User.objects.bulk_create(
        [
            User(email=f"bench{i}@example.com", name=f"Bench {i}", employee_id=f"B{i}", password="!")
            for i in range(existing)
        ]
    )
    PointsAccount.objects.bulk_create([PointsAccount(user=u) for u in users])
    # The file's departments are HR's departments (an unknown one would hold the import back).
    Department.objects.bulk_create([Department(name=f"Dept {i}") for i in range(7)])
    hr = user_create(email="bench-hr@example.com", name="Bench HR", is_staff=True)
    hr.groups.add(Group.objects.get(name=HR_GROUP_NAME))
    client = Client()
    client.force_login(hr)

    # The file names employees from existing - rows/2 on: the first ones are leavers, the
    # known ones in the file are renamed, the rest are new.
    first = existing - rows // 2
    lines = ["email,name,employee_id,department"] + [
        f"bench{i}@example.com,Renamed {i},B{i},Dept {i % 7}" for i in range(first, first + rows)
    ]
    content = ("\n".join(lines) + "\n").encode()
    url = reverse("admin:shop_user_roster_import")

    start = time.perf_counter()
    upload = SimpleUploadedFile("roster.csv", content, content_type="text/csv")
    preview = client.post(url, {"file": upload, "deactivate_leavers": "on"})
    previewed = time.perf_counter()
    match = re.search(r'name="token" value="([^"]+)"', preview.content.decode())
    if preview.status_code != 200 or not match:
        raise SystemExit(f"preview failed: HTTP {preview.status_code}")
    confirm = client.post(url, {"token": match.group(1), "confirm": "1"})
    done = time.perf_counter()
    if confirm.status_code != 302:
        raise SystemExit(f"confirm failed: HTTP {confirm.status_code}")

    new = first + rows - existing
    active = User.objects.filter(is_employee=True, is_active=True, is_staff=False).count()
    left = User.objects.filter(is_active=False).count()
    renamed = User.objects.filter(name__startswith="Renamed").count()
    if (active, left, renamed, PointsAccount.objects.count()) != (rows, first, rows, existing + new + 1):
        raise SystemExit(f"wrong result: {active} active, {left} deactivated, {renamed} renamed")

    print(
        f"database: {connection.vendor}; rows: {rows} ({new} new, {rows - new} updated); "
        f"leavers: {first}; file: {len(content) / 1024:.0f} KiB"
    )
    print(
        f"preview (upload, parse, check, store): {previewed - start:.2f} s ({rows / (previewed - start):,.0f} rows/s)"
    )
    print(
        f"confirm (re-check, apply):             {done - previewed:.2f} s ({rows / (done - previewed):,.0f} rows/s)"
    )
    print(
        f"total:                                 {done - start:.2f} s ({rows / (done - start):,.0f} rows/s)"
    )


if __name__ == "__main__":
    main()
