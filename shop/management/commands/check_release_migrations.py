"""`check_release_migrations --since COMMIT`: refuse a release whose migrations contract the
schema the serving release still uses (shop/db/migration_safety.py; scripts/release.sh runs it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from shop.db.migration_safety import added_migration_files, check_files


class Command(BaseCommand):
    help = (
        "Fail when a migration added since COMMIT (the release now serving) drops or renames a "
        "column or table, or adds or makes a column NOT NULL, unless it is marked contract = True."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", required=True, help="the commit of the release now serving")
        parser.add_argument("--repo", default=str(settings.BASE_DIR), help="the git work tree")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            files = added_migration_files(options["since"], Path(options["repo"]))
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        findings = check_files(files)
        for finding in findings:
            if finding.allowed:
                self.stdout.write(f"contract step (marked): {finding.migration} {finding.problem}")
        refused = [f for f in findings if not f.allowed]
        if refused:
            lines = "\n".join(f"  {f.migration} {f.problem}" for f in refused)
            raise CommandError(
                "migrations the serving release cannot run against (expand, release, contract; "
                f"docs/deploy.md):\n{lines}\nShip the code change first; drop or tighten in a later "
                "release, with contract = True on that Migration class."
            )
        self.stdout.write(f"{len(files)} migration(s) since {options['since']}: expand-only, safe to roll")
