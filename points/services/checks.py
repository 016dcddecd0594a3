"""The checks every points write makes before it writes: the amount and the reason, nobody
on their own account, points to employees on the roster only, and the approval threshold
above which a second HR user must approve (four eyes)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings

from points.models import GrantRequest
from shop.http.errors import ApplicationError, InvalidAmount, OwnAccountRefused
from shop.models import User

MAX_GRANT = 1_000_000  # one grant larger than this is a typo, not a reward


def _check_amount(amount: int, *, allow_negative: bool = False) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidAmount("The amount must be a whole number of points.")
    if amount == 0 or (amount < 0 and not allow_negative):
        raise InvalidAmount("The amount must be a positive whole number of points.")
    if abs(amount) > MAX_GRANT:
        raise InvalidAmount(f"The amount must be at most {MAX_GRANT:,} points.")


def _check_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidAmount("A reason is required.")
    return reason


# --- separation of duties -----------------------------------------------------------------


class NotOnRoster(ApplicationError):
    status_code = 409
    code = "not_on_roster"
    default_detail = "Points go to active employees only; nothing was changed."


class ApprovalRequired(ApplicationError):
    status_code = 409
    code = "approval_required"
    default_detail = "This change is above the approval threshold and needs a second HR user's approval."


def approval_threshold() -> int:
    return int(settings.GRANT_APPROVAL_THRESHOLD)


def needs_approval(total_points: int) -> bool:
    """Four eyes: more than the threshold (a bulk grant counted in total) waits for approval."""
    return total_points > approval_threshold()


def check_not_own_account(
    *, actor: User | None, user_ids: Iterable[Any], verb: str = "grant points to"
) -> None:
    """Nobody moves points on their own account, whatever the path (admin, command, approval)."""
    if actor is not None and actor.pk in set(user_ids):
        raise OwnAccountRefused(
            f"{actor.email} cannot {verb} their own account; another HR user must do it. Nothing was changed."
        )


def is_grant_recipient(user: User) -> bool:
    """Who may receive points: an active employee on the roster (not an HR-only or operations account)."""
    return bool(user.is_active and user.is_employee)


def check_recipients(users: Iterable[User]) -> None:
    refused = [u.email for u in users if not is_grant_recipient(u)]
    if refused:
        shown = ", ".join(refused[:5]) + (f" and {len(refused) - 5} more" if len(refused) > 5 else "")
        raise NotOnRoster(
            f"Points go to active employees on the roster only; not to {shown}. Nothing was changed."
        )


def _check_approval(approval: GrantRequest | None, total_points: int) -> None:
    if approval is None:
        if needs_approval(total_points):
            raise ApprovalRequired(
                f"{total_points:,} points is above the approval threshold of {approval_threshold():,}; "
                "it needs a second HR user's approval. Nothing was changed."
            )
        return
    # Only grant_request_approve passes an approval, after recording a different decider.
    if approval.status != GrantRequest.Status.APPROVED or approval.decided_by_id in (
        None,
        approval.requested_by_id,
    ):
        raise ApprovalRequired("This request has not been approved by a second HR user.")
