"""Delete expired browser sessions, idempotency keys and old sign-in records now
(orders.housekeeping).

The notification worker does this every hour in the deployment; this is the same, by hand: after
a long outage of the worker, or to see what it would delete.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from orders.housekeeping import purge_expired
from shop.db.purge import BATCH_SIZE


class Command(BaseCommand):
    help = "Delete expired browser sessions, idempotency keys and sign-in records past their retention."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="rows per DELETE statement")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        purged = purge_expired(batch_size=options["batch_size"])
        self.stdout.write(f"Deleted {purged}.")
