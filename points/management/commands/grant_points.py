"""Grant points to one employee, or to every active employee on the roster.

Above GRANT_APPROVAL_THRESHOLD (a grant to everyone counted in total) nothing is applied from
a script alone: `--requested-by EMAIL` names the HR user making the request, and a pending
request is created for another HR user to approve in the admin.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from points.models import GrantBatch, GrantRequest
from points.services.approvals import points_grant_bulk_or_request, points_grant_or_request
from points.services.checks import approval_threshold, needs_approval
from points.services.grants import grant_recipients_all
from shop.http.errors import ApplicationError
from shop.models import User


def hr_requester(email: str | None) -> User | None:
    """The HR user a command acts for (--requested-by), checked like an admin sign-in would be."""
    if not email:
        return None
    user = User.objects.filter(email=email.strip().lower()).first()
    if user is None or not user.is_active or not user.is_staff or not user.has_perm("points.grant_points"):
        raise CommandError(f"--requested-by {email}: no active HR user with the permission to grant points.")
    return user


def require_requester(total: int, requester: User | None) -> None:
    if requester is None and needs_approval(total):
        raise CommandError(
            f"{total:,} points is above the approval threshold of {approval_threshold():,}: pass "
            "--requested-by EMAIL of an HR user; a pending request is then created for another HR user "
            "to approve in the admin. Nothing was changed."
        )


class Command(BaseCommand):
    help = "Grant points: --email <email> or --all-active, with --amount and --reason."

    def add_arguments(self, parser: CommandParser) -> None:
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--email")
        target.add_argument("--all-active", action="store_true")
        parser.add_argument("--amount", type=int, required=True)
        parser.add_argument("--reason", required=True)
        parser.add_argument(
            "--requested-by",
            metavar="EMAIL",
            help="The HR user granting. Required above GRANT_APPROVAL_THRESHOLD: the grant then waits "
            "for another HR user's approval. Nobody can grant to their own account.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        requester = hr_requester(options["requested_by"])
        amount, reason = options["amount"], options["reason"]
        try:
            if options["all_active"]:
                users = grant_recipients_all(acting=requester)
                if not users:
                    raise CommandError("No active employee is on the roster; nothing was granted.")
                require_requester(amount * len(users), requester)
                result = points_grant_bulk_or_request(
                    grants=[(u, amount, reason) for u in users],
                    source=GrantBatch.Source.ALL_ACTIVE,
                    requested_by=requester,
                )
                if isinstance(result, GrantRequest):
                    self.stdout.write(self._pending(result))
                    return
                self.stdout.write(
                    f"Granted {amount} points to {result.rows} active employees ({result.total_points} in all)."
                )
                return
            email = options["email"].strip().lower()
            user = User.objects.filter(email=email).first()
            if user is None:
                raise CommandError(f"No employee has the email {email}.")
            if not user.is_active:
                raise CommandError(f"{email} is deactivated.")
            require_requester(amount, requester)
            entry = points_grant_or_request(user=user, amount=amount, reason=reason, requested_by=requester)
        except ApplicationError as exc:
            raise CommandError(exc.detail) from exc
        if isinstance(entry, GrantRequest):
            self.stdout.write(self._pending(entry))
            return
        self.stdout.write(f"Granted {entry.amount} points to {email}; balance {entry.balance_after}.")

    @staticmethod
    def _pending(request: GrantRequest) -> str:
        return (
            f"{request.total_points} points to {request.rows} employee(s) is above the approval threshold: "
            f"request {request.pk} now waits for another HR user's approval in the admin. Nothing was granted yet."
        )
