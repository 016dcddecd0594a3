"""Expire points past their date: one `expired` ledger entry per account with the total.

Run daily (the deployment schedules it). Idempotent: a second run for the same date changes
nothing. Each account is its own short transaction under the account lock, so orders and
grants go on meanwhile. With POINTS_EXPIRY_MONTHS=0 (the default) it does nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from points.expiry import expiry_months
from points.selectors import accounts_with_points
from points.services.expiry import points_expire
from points.signals import expiry_run_finished


class Command(BaseCommand):
    help = "Expire points whose expiry date is on or before --as-of (default: today)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", help="YYYY-MM-DD; default today (TIME_ZONE)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            as_of = dt.date.fromisoformat(options["as_of"]) if options["as_of"] else timezone.localdate()
        except ValueError:
            raise CommandError("--as-of must be a date as YYYY-MM-DD.") from None
        if expiry_months() <= 0:
            self.stdout.write("Points never expire (POINTS_EXPIRY_MONTHS is 0): nothing to do.")
            return
        accounts = expired_points = 0
        for user_id in accounts_with_points().values_list("pk", flat=True).iterator():
            entry = points_expire(user_id=user_id, as_of=as_of)
            if entry is not None:
                accounts += 1
                expired_points += -entry.amount
        # Receivers (notifications) warn the employees whose points expire soon.
        expiry_run_finished.send(sender=self.__class__, as_of=as_of)
        self.stdout.write(
            f"Expired {expired_points} points in {accounts} accounts as of {as_of.isoformat()}."
        )
