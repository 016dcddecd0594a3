"""Audit every account against its ledger; exit non-zero and name each violation."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from orders.audit import ledger_violations
from points.models import PointsAccount


class Command(BaseCommand):
    help = "Check balance = sum of ledger, totals, no negatives, and a ledger entry per order."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = ledger_violations()
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(f"{len(problems)} ledger violation(s) found.")
        self.stdout.write(f"Ledger OK: {PointsAccount.objects.count()} accounts checked.")
