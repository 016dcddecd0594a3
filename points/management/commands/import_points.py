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
from points.models import GrantBatch, GrantRequest
from points.services import (
    grant_batch_previously_applied,
    grant_plan_from_csv,
    grant_request_pending_for_file,
    points_grant_bulk_or_request,
)
from shop.errors import ApplicationError


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
        previous = grant_batch_previously_applied(plan.content_hash, plan.bytes_hash)
        waiting = grant_request_pending_for_file(plan.content_hash, plan.bytes_hash)
        if (previous is not None or waiting is not None) and not options["allow_duplicate"]:
            when = previous.created_at if previous is not None else waiting.requested_at  # type: ignore[union-attr]
            state = "imported" if previous is not None else "submitted for approval"
            raise CommandError(
                f"This file was already {state} on {when:%Y-%m-%d %H:%M} UTC; "
                "nothing was imported. Use --allow-duplicate to import it again."
            )
        require_requester(plan.total_points, requester)
        # A progress bar only when a person is watching; logs and pipes stay clean.
        bar = tqdm(total=len(plan.rows), unit="row", disable=not sys.stderr.isatty(), file=sys.stderr)
        try:
            with bar:
                result = points_grant_bulk_or_request(
                    grants=[(plan.users[row.email], row.amount, row.reason) for row in plan.rows],
                    source=GrantBatch.Source.CSV,
                    requested_by=requester,
                    filename=path.name,
                    content_hash=plan.content_hash,
                    progress=lambda n: bar.update(n - bar.n),
                )
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
