"""Send the queued e-mails: once and exit (a scheduled run), or in a loop (the worker service).

Each message is sent at most once, and none is lost (``notifications/services.py``). With
``--loop`` it also reports how old the oldest unsent message is (metric ``OutboxOldestAge``,
seconds), which has an alarm in the deployment.
"""

from __future__ import annotations

import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from notifications.selectors import outbox_oldest_pending_age
from notifications.services import notifications_send_due
from shop.observability import metrics


class Command(BaseCommand):
    help = "Send queued notification e-mails."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=50)
        parser.add_argument("--loop", action="store_true", help="keep sending until stopped (SIGTERM)")
        parser.add_argument("--interval", type=float, default=10.0, help="seconds between rounds with --loop")

    def handle(self, *args: Any, **options: Any) -> None:
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True  # finish the round in hand, then exit: ECS sends SIGTERM on deploys

        if options["loop"]:
            signal.signal(signal.SIGTERM, stop)
        while True:
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
