"""Times the hourly purge of expired sessions, idempotency keys and old sign-in records
(orders.housekeeping), as the notification worker runs it: at most PURGE_BATCHES batches of 1,000 rows per table, while
the live rows stay. How long mail waits behind a purge, and how fast a backlog drains.

    DATABASE_URL=mysql://root@127.0.0.1:3306/NAME .venv/bin/python bench/bench_purge.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/NAME .venv/bin/python bench/bench_purge.py

--expired rows of each kind (default 30,000) are written in bulk beside --live ones (10,000),
then purged round by round as the worker does; prints each round's rows and seconds.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "awsomeshop.settings.test")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.support import throwaway_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--expired", type=int, default=30_000)
    parser.add_argument("--live", type=int, default=10_000)
    args = parser.parse_args()
    with throwaway_database():
        run(expired=args.expired, live=args.live)


def run(*, expired: int, live: int) -> None:
    from axes.models import AccessLog
    from django.contrib.sessions.backends.base import SessionBase

    from notifications.management.commands.send_notifications import PURGE_BATCHES
    from orders.housekeeping import purge_expired
    from orders.models import IdempotencyRecord
    from shop.models import BrowserSession, User

    users = User.objects.bulk_create(
        [User(email=f"purge{i}@example.com", name=f"P {i}", password="!") for i in range(100)]
    )
    now = timezone.now()
    past, future = now - timedelta(hours=1), now + timedelta(hours=8)
    old = now - timedelta(seconds=settings.IDEMPOTENCY_TTL_SECONDS + 3600)
    data = SessionBase().encode({"n": 1})
    start = time.perf_counter()
    for first in range(0, expired + live, 5_000):
        numbers = range(first, min(first + 5_000, expired + live))
        BrowserSession.objects.bulk_create(
            [
                BrowserSession(
                    session_key=f"bench{n:032d}",
                    session_data=data,
                    expire_date=past if n < expired else future,
                    user=users[n % len(users)],
                )
                for n in numbers
            ]
        )
        IdempotencyRecord.objects.bulk_create(
            [
                IdempotencyRecord(
                    user=users[n % len(users)],
                    key=f"key-{n}",
                    request_hash="h",
                    claim_token="t",
                    state=IdempotencyRecord.State.COMPLETED,
                    response_status=201,
                    response_body={"id": str(n), "quantity": 1, "status": "delivered"},
                    created_at=old if n < expired else now,
                )
                for n in numbers
            ]
        )
        AccessLog.objects.bulk_create(
            [
                AccessLog(
                    username=f"purge{n}@example.com", ip_address="10.0.0.1", user_agent="bench", path_info="/"
                )
                for n in numbers
            ]
        )
    # attempt_time is stamped on insert: the first `expired` records are aged past the retention.
    first_live = AccessLog.objects.order_by("pk").values_list("pk", flat=True)[expired]
    retention = timedelta(days=settings.SIGN_IN_RECORDS_RETENTION_DAYS + 1)
    AccessLog.objects.filter(pk__lt=first_live).update(attempt_time=now - retention)
    print(
        f"{connection.vendor}: {expired:,} expired and {live:,} live rows of each kind written "
        f"in {time.perf_counter() - start:.1f} s"
    )
    print("| round | sessions | idempotency keys | sign-in records | seconds |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    round_ = 0
    while True:
        round_ += 1
        start = time.perf_counter()
        purged = purge_expired(max_batches=PURGE_BATCHES)
        seconds = time.perf_counter() - start
        print(
            f"| {round_} | {purged.sessions:,} | {purged.idempotency_keys:,} | {purged.sign_in_records:,} "
            f"| {seconds:.2f} |"
        )
        if not purged.most:
            break
    left = (BrowserSession.objects.count(), IdempotencyRecord.objects.count(), AccessLog.objects.count())
    assert left == (live, live, live), left
    print(f"left: {live:,} live sessions, keys and sign-in records each, as written")


if __name__ == "__main__":
    main()
