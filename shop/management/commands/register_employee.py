"""Register one employee on the roster (and, with Cognito configured, invite them)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shop.identity.services import EmployeeInvalid, employee_register
from shop.models import IdentitySync


class Command(BaseCommand):
    help = (
        "Register an employee: they may then sign in and receive points. With a Cognito pool "
        "configured, Cognito emails them an invitation."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--employee-id", required=True)
        parser.add_argument("--department", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = employee_register(
                email=options["email"],
                name=options["name"],
                employee_id=options["employee_id"],
                department=options["department"],
            )
        except EmployeeInvalid as exc:
            problems = "; ".join(f"{field}: {msg}" for field, msgs in exc.fields.items() for msg in msgs)
            raise CommandError(f"Not registered, nothing changed: {problems}") from exc
        self.stdout.write(f"Registered {user.email} ({user.employee_id}).")
        # The invitation ran when the registration committed; say how it went.
        sync = user.identity_syncs.order_by("-id").first()
        if sync is None:
            return
        if sync.status == IdentitySync.Status.DONE:
            self.stdout.write(f"Cognito invitation sent to {user.email}.")
        else:
            self.stderr.write(
                f"The Cognito invitation failed ({sync.last_error}); the employee is registered. "
                "Retry with: manage.py retry_identity_sync"
            )
