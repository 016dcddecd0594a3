"""Send the queued e-mails: once and exit (a scheduled run), or in a loop (the worker service).

Each message is sent at most once, and none is lost (``notifications/services.py``). With
``--loop`` it also reports how old the oldest unsent message is (metric ``OutboxOldestAge``,
seconds), which has an alarm in the deployment, and every ``--purge-every`` seconds deletes
expired browser sessions, idempotency keys and old sign-in records (orders.housekeeping): this
worker is the one process that always runs, so nothing else needs scheduling for it. Each purge
deletes at most PURGE_BATCHES batches per table, so mail waits well under a second (0.65 s for
full batches, bench/RESULTS.md "Housekeeping"); a larger backlog (the first run after an
upgrade) is worked off round by round, 10 s apart, instead of an hour.
"""

from __future__ import annotations

import logging
import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, close_old_connections

from notifications.selectors import outbox_oldest_pending_age
from notifications.services import notifications_send_due
from orders.housekeeping import purge_expired
from shop.db.purge import BATCH_SIZE
from shop.observability import metrics

logger = logging.getLogger(__name__)

PURGE_BATCHES = 20  # per table and purge: 20,000 rows at most


class Command(BaseCommand):
    help = "Send queued notification e-mails."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=50)
        parser.add_argument("--loop", action="store_true", help="keep sending until stopped (SIGTERM)")
        parser.add_argument("--interval", type=float, default=10.0, help="seconds between rounds with --loop")
        parser.add_argument(
            "--purge-every",
            type=float,
            default=3600.0,
            help="with --loop: seconds between purges of expired sessions, keys and sign-in records (0: never)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True  # finish the round in hand, then exit: ECS sends SIGTERM on deploys

        if options["purge_every"] < 0:
            raise CommandError("--purge-every must be 0 (never) or more seconds.")
        if options["loop"]:
            signal.signal(signal.SIGTERM, stop)
        purge_due = time.monotonic()  # the first round purges
        while True:
            if options["loop"] and options["purge_every"] and time.monotonic() >= purge_due:
                purge_due = self._purge(options["purge_every"], options["interval"])
            result = notifications_send_due(batch_size=options["batch_size"])
            age = outbox_oldest_pending_age()
            metrics.observe("OutboxOldestAge", age.total_seconds() if age else 0, unit="Seconds")
            if result.sent or result.retried or result.failed or result.unknown or result.suppressed:
                self.stdout.write(
                    f"sent {result.sent}, retry later {result.retried}, failed {result.failed}, "
                    f"outcome unknown {result.unknown}, suppressed {result.suppressed}"
                )
            if not options["loop"]:
                return
            # A long-lived worker: drop a connection the database closed or that is too old.
            close_old_connections()
            # A full batch means more are waiting: go again at once.
            if (
                result.sent + result.retried + result.failed + result.unknown + result.suppressed
                < options["batch_size"]
            ):
                for _ in range(int(options["interval"] * 10)):
                    if stopping:
                        break
                    time.sleep(0.1)
            if stopping:
                if metrics.enabled():
                    metrics.get_recorder().flush()
                return

    def _purge(self, every: float, interval: float) -> float:
        """Purge once; when the next purge is due (monotonic clock)."""
        try:
            purged = purge_expired(max_batches=PURGE_BATCHES)
        except DatabaseError:
            # The database is down or refused: mail would fail the same way; try next hour.
            logger.exception("purging expired sessions, idempotency keys and sign-in records failed")
            return time.monotonic() + every
        if purged.most:
            self.stdout.write(f"purged {purged}")
        backlog = purged.most >= PURGE_BATCHES * BATCH_SIZE
        return time.monotonic() + (min(interval, every) if backlog else every)
