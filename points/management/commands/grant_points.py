"""Grant points to one employee, or to every active employee."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from points.services import points_grant, points_grant_all_active
from shop.errors import ApplicationError
from shop.models import User


class Command(BaseCommand):
    help = "Grant points: --email <email> or --all-active, with --amount and --reason."

    def add_arguments(self, parser: CommandParser) -> None:
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--email")
        target.add_argument("--all-active", action="store_true")
        parser.add_argument("--amount", type=int, required=True)
        parser.add_argument("--reason", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["all_active"]:
                batch = points_grant_all_active(amount=options["amount"], reason=options["reason"])
                self.stdout.write(
                    f"Granted {options['amount']} points to {batch.rows} active employees "
                    f"({batch.total_points} in all)."
                )
                return
            email = options["email"].strip().lower()
            user = User.objects.filter(email=email).first()
            if user is None:
                raise CommandError(f"No employee has the email {email}.")
            if not user.is_active:
                raise CommandError(f"{email} is deactivated.")
            entry = points_grant(user=user, amount=options["amount"], reason=options["reason"])
        except ApplicationError as exc:
            raise CommandError(exc.detail) from exc
        self.stdout.write(f"Granted {entry.amount} points to {email}; balance {entry.balance_after}.")
