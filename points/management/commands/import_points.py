"""Import a CSV of grants (email,amount,reason): all rows or none.

Rows for accounts off the roster (and for the --requested-by user) are left out and listed.
Above GRANT_APPROVAL_THRESHOLD in total, --requested-by EMAIL is required and the import
becomes a pending request for another HR user to approve in the admin.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from points.management.commands.grant_points import hr_requester, require_requester
from points.models import GrantRequest
from points.services.grant_files import GrantImportRefused, grant_plan_apply, grant_plan_from_csv
from shop.http.errors import ApplicationError


class Command(BaseCommand):
    help = "Grant points from a CSV file with columns email,amount,reason. All rows or none."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--allow-duplicate",
            action="store_true",
            help="Import even if the same file was imported before.",
        )
        parser.add_argument(
            "--requested-by",
            metavar="EMAIL",
            help="The HR user importing. Required above GRANT_APPROVAL_THRESHOLD in total: the import then "
            "waits for another HR user's approval.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        requester = hr_requester(options["requested_by"])
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from exc
        plan = grant_plan_from_csv(content, acting=requester)
        for line, email, why in plan.left_out:
            self.stderr.write(f"line {line}: {email} left out: {why}")
        if plan.errors:
            for error in plan.errors:
                self.stderr.write(error)
            raise CommandError(f"{len(plan.errors)} problem(s) in {path}; nothing was imported.")
        require_requester(plan.total_points, requester)
        # A progress bar only when a person is watching; logs and pipes stay clean.
        bar = tqdm(total=len(plan.rows), unit="row", disable=not sys.stderr.isatty(), file=sys.stderr)
        try:
            with bar:
                result = grant_plan_apply(
                    plan,
                    requested_by=requester,
                    filename=path.name,
                    allow_duplicate=options["allow_duplicate"],
                    progress=lambda n: bar.update(n - bar.n),
                )
        except GrantImportRefused as exc:
            raise CommandError(f"{exc.detail} Use --allow-duplicate to import it again.") from exc
        except ApplicationError as exc:
            raise CommandError(exc.detail) from exc
        if isinstance(result, GrantRequest):
            self.stdout.write(
                f"{result.rows} rows, {result.total_points} points, from {path.name} are above the approval "
                f"threshold: request {result.pk} now waits for another HR user's approval in the admin. "
                "Nothing was imported yet."
            )
            return
        self.stdout.write(f"Imported {result.rows} rows, {result.total_points} points, from {path.name}.")
