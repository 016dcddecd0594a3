"""seed_volume: bulk-creates employees, products, orders and a year of ledger (see orders/volume.py)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from orders.volume import VolumeExists, volume_seed


class Command(BaseCommand):
    help = "Bulk-create a realistic data set: employees in departments, products, orders, ledger entries."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--employees", type=int, default=10_000)
        parser.add_argument("--entries", type=int, default=200_000, help="ledger entries in all")
        parser.add_argument("--products", type=int, default=40)
        parser.add_argument("--days", type=int, default=365, help="how far back the history goes")
        parser.add_argument("--prefix", default="volume", help="emails are PREFIX-N@example.com")
        parser.add_argument("--seed", type=int, default=14, help="random seed: the same data each time")

    def handle(self, *args: Any, **options: Any) -> None:
        if (
            options["employees"] < 1
            or options["entries"] < 0
            or options["products"] < 1
            or options["days"] < 1
        ):
            raise CommandError("--employees, --products and --days must be at least 1, --entries at least 0.")
        start = time.perf_counter()
        try:
            result = volume_seed(
                employees=options["employees"],
                entries=options["entries"],
                products=options["products"],
                days=options["days"],
                prefix=options["prefix"],
                seed=options["seed"],
            )
        except VolumeExists as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Created {result.employees} employees, {result.products} products, {result.orders} orders "
            f"and {result.entries} ledger entries in {time.perf_counter() - start:.1f} s."
        )
