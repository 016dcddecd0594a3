"""Import a CSV of grants (email,amount,reason): all rows or none."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from points.services import grant_batch_previously_applied, grant_plan_from_csv, points_import_plan


class Command(BaseCommand):
    help = "Grant points from a CSV file with columns email,amount,reason. All rows or none."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--allow-duplicate",
            action="store_true",
            help="Import even if the same file was imported before.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from exc
        plan = grant_plan_from_csv(content)
        if plan.errors:
            for error in plan.errors:
                self.stderr.write(error)
            raise CommandError(f"{len(plan.errors)} problem(s) in {path}; nothing was imported.")
        previous = grant_batch_previously_applied(plan.content_hash)
        if previous is not None and not options["allow_duplicate"]:
            raise CommandError(
                f"This file was already imported on {previous.created_at:%Y-%m-%d %H:%M} UTC; "
                "nothing was imported. Use --allow-duplicate to import it again."
            )
        # A progress bar only when a person is watching; logs and pipes stay clean.
        bar = tqdm(total=len(plan.rows), unit="row", disable=not sys.stderr.isatty(), file=sys.stderr)
        with bar:
            batch = points_import_plan(
                plan=plan, filename=path.name, progress=lambda n: bar.update(n - bar.n)
            )
        self.stdout.write(f"Imported {batch.rows} rows, {batch.total_points} points, from {path.name}.")
