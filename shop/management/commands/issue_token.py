"""Print a token from the local issuer (development and tests only)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from shop.auth.local_issuer import get_local_issuer


class Command(BaseCommand):
    help = "Print a signed ID token for an employee from the local issuer, and nothing else."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", default="")
        parser.add_argument("--employee-id", default="")
        parser.add_argument("--lifetime", type=int, default=3600, help="Seconds (default 3600).")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.COGNITO_USER_POOL_ID:
            raise CommandError(
                "A Cognito pool is configured (COGNITO_USER_POOL_ID); the API would not accept "
                "local tokens. Get a token from Cognito instead."
            )
        email = options["email"].strip().lower()
        if "@" not in email:
            raise CommandError("--email must be an email address")
        token = get_local_issuer().issue(
            email=email,
            name=options["name"],
            employee_id=options["employee_id"],
            lifetime_seconds=options["lifetime"],
        )
        self.stdout.write(token)
