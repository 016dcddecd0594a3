"""Four eyes: a change above the approval threshold waits as a GrantRequest until a second
HR user approves it (then it is applied in that transaction) or rejects it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from points.lock_objects import accounts_for_update, grant_request_for_update
from points.models import GrantBatch, GrantRequest, PointsTransaction
from points.repeats import earlier_bulk, earlier_single
from points.services.checks import (
    _check_amount,
    _check_reason,
    check_not_own_account,
    check_recipients,
    is_grant_recipient,
    needs_approval,
)
from points.services.grants import grant_submission_record, points_adjust, points_grant, points_grant_bulk
from shop.admin_kit.repeats import check_repeat
from shop.db.transactions import HR_OUTCOME_UNKNOWN, atomic_with_known_outcome, retry_on_conflict
from shop.http.errors import ApplicationError, InvalidAmount, OwnAccountRefused
from shop.models import User

Type = PointsTransaction.Type


class GrantRequestRefused(ApplicationError):
    status_code = 409
    code = "grant_request_refused"
    default_detail = "This request cannot be decided; nothing was changed."


def _payload(grants: Sequence[tuple[User, int, str]]) -> list[dict[str, Any]]:
    return [
        {"user": str(u.pk), "email": u.email, "amount": amount, "reason": reason}
        for u, amount, reason in grants
    ]


def grant_request_create(
    *,
    kind: str,
    grants: Sequence[tuple[User, int, str]],
    reason: str,
    requested_by: User,
    source: str = "",
    filename: str = "",
    content_hash: str = "",
    submission_key: str = "",
    confirm_repeat_of: str | None = None,
    department: str = "",
) -> GrantRequest:
    """Record a change that waits for a second HR user; moves no points.

    Everything that would refuse the change now is checked now (amounts, reasons, one's own
    account, the roster), so a request that cannot be applied is never queued.
    """
    if not grants:
        raise InvalidAmount("There is nobody to grant points to.")
    if not _may_grant(requested_by):
        raise GrantRequestRefused(f"{requested_by.email} may not request grants; nothing was changed.")
    for user, amount, row_reason in grants:
        _check_amount(amount, allow_negative=kind == GrantRequest.Kind.ADJUST)
        _check_reason(row_reason)
        if amount > 0:
            check_recipients([user])
    check_not_own_account(actor=requested_by, user_ids=[u.pk for u, _, _ in grants])
    with transaction.atomic():
        grant_submission_record(key=submission_key, submitted_by=requested_by)
        if confirm_repeat_of is not None:
            # The same locks as applying it would take, so two tabs at once are seen in turn.
            list(accounts_for_update(u.pk for u, _, _ in grants))
            if kind == GrantRequest.Kind.BULK:
                earlier = earlier_bulk(source=source, grants=grants)
            else:
                user, amount, row_reason = grants[0]
                entry_type = Type.EARNED if kind == GrantRequest.Kind.GRANT else Type.ADJUSTED
                earlier = earlier_single(user=user, type=entry_type, amount=amount, reason=row_reason)
            check_repeat(earlier, confirm_repeat_of)
        return GrantRequest.objects.create(
            kind=kind,
            source=source,
            reason=_check_reason(reason)[:255],
            payload=_payload(grants),
            rows=len(grants),
            total_points=sum(abs(amount) for _, amount, _ in grants),
            filename=filename[:255],
            department=department[:100],
            content_hash=content_hash,
            requested_by=requested_by,
        )


def points_grant_or_request(
    *,
    user: User,
    amount: int,
    reason: str,
    requested_by: User | None,
    submission_key: str = "",
    confirm_repeat_of: str | None = None,
) -> PointsTransaction | GrantRequest:
    """What HR's grant form and `grant_points` call: applied now, or queued above the threshold.
    `submission_key` (the form's one-time key) refuses a second submit with DuplicateSubmission."""
    return _one_or_request(
        GrantRequest.Kind.GRANT,
        user=user,
        amount=amount,
        reason=reason,
        requested_by=requested_by,
        submission_key=submission_key,
        confirm_repeat_of=confirm_repeat_of,
        apply=lambda: points_grant(
            user=user,
            amount=amount,
            reason=reason,
            granted_by=requested_by,
            submission_key=submission_key,
            confirm_repeat_of=confirm_repeat_of,
        ),
    )


def points_adjust_or_request(
    *,
    user: User,
    amount: int,
    reason: str,
    requested_by: User | None,
    submission_key: str = "",
    confirm_repeat_of: str | None = None,
) -> PointsTransaction | GrantRequest:
    """What HR's adjust form calls: applied now, or queued above the threshold, once per
    `submission_key` (the form's one-time key)."""
    return _one_or_request(
        GrantRequest.Kind.ADJUST,
        user=user,
        amount=amount,
        reason=reason,
        requested_by=requested_by,
        submission_key=submission_key,
        confirm_repeat_of=confirm_repeat_of,
        apply=lambda: points_adjust(
            user=user,
            amount=amount,
            reason=reason,
            adjusted_by=requested_by,
            submission_key=submission_key,
            confirm_repeat_of=confirm_repeat_of,
        ),
    )


def _one_or_request(
    kind: str,
    *,
    user: User,
    amount: int,
    reason: str,
    requested_by: User | None,
    submission_key: str,
    apply: Callable[[], PointsTransaction],
    confirm_repeat_of: str | None = None,
) -> PointsTransaction | GrantRequest:
    """One employee's change: queued for a second HR user when its size (a deduction's too) is
    above the threshold and a person asked for it, else applied now by ``apply``."""
    if needs_approval(abs(amount)) and requested_by is not None:
        return grant_request_create(
            kind=kind,
            grants=[(user, amount, reason)],
            reason=reason,
            requested_by=requested_by,
            submission_key=submission_key,
            confirm_repeat_of=confirm_repeat_of,
        )
    return apply()


def points_grant_bulk_or_request(
    *,
    grants: Sequence[tuple[User, int, str]],
    source: str,
    requested_by: User | None,
    filename: str = "",
    content_hash: str = "",
    progress: Callable[[int], None] | None = None,
    submission_key: str = "",
    confirm_repeat_of: str | None = None,
    department: str = "",
) -> GrantBatch | GrantRequest:
    """A bulk grant applied now, or queued above the threshold. `submission_key` (the form's
    one-time key) makes a second submit of the same form refused with DuplicateSubmission."""
    total = sum(amount for _, amount, _ in grants)
    if needs_approval(total) and requested_by is not None:
        return grant_request_create(
            kind=GrantRequest.Kind.BULK,
            grants=grants,
            reason=grants[0][2] if grants else "",
            requested_by=requested_by,
            source=source,
            filename=filename,
            content_hash=content_hash,
            submission_key=submission_key,
            confirm_repeat_of=confirm_repeat_of,
            department=department,
        )
    return points_grant_bulk(
        grants=grants,
        source=source,
        granted_by=requested_by,
        filename=filename,
        content_hash=content_hash,
        progress=progress,
        submission_key=submission_key,
        confirm_repeat_of=confirm_repeat_of,
        department=department,
    )


def _refuse_if_decided(request: GrantRequest) -> None:
    if request.status != GrantRequest.Status.PENDING:
        who = request.decided_by.email if request.decided_by else "someone"
        raise GrantRequestRefused(
            f"This request was already {request.status} by {who} on {request.decided_at:%Y-%m-%d %H:%M} UTC; "
            "nothing was changed."
        )


def _may_grant(user: User) -> bool:
    return bool(user.is_active and user.has_perm("points.grant_points"))


def _check_decider(decider: User) -> None:
    if not _may_grant(decider):
        raise GrantRequestRefused(f"{decider.email} may not decide grant requests; nothing was changed.")


@retry_on_conflict
def grant_request_approve(*, request_id: Any, approved_by: User, note: str = "") -> GrantRequest:
    """Apply a pending request, in the transaction that marks it approved.

    The request row is locked first (the project's lock order), so of two approvers at the
    same moment the second waits, then finds it decided. Refused, with nothing changed: the
    requester approving, an approver among the recipients, a recipient who has left the roster
    since, a request already decided, a deduction the balance no longer covers.
    """
    _check_decider(approved_by)
    # Approving moves points: a connection lost at COMMIT is reported as unknown, not as done.
    with atomic_with_known_outcome(HR_OUTCOME_UNKNOWN):
        request = grant_request_for_update(request_id)
        _refuse_if_decided(request)
        if request.requested_by_id == approved_by.pk:
            raise GrantRequestRefused(
                "You requested this change, so another HR user must approve it (four eyes); nothing was changed."
            )
        items = request.payload
        by_pk = {str(pk): user for pk, user in User.objects.in_bulk([item["user"] for item in items]).items()}
        missing = [item["email"] for item in items if item["user"] not in by_pk]
        if missing:
            raise GrantRequestRefused(
                f"These accounts no longer exist: {', '.join(missing[:5])}; nothing was changed."
            )
        grants = [(by_pk[item["user"]], int(item["amount"]), str(item["reason"])) for item in items]
        try:
            check_not_own_account(actor=approved_by, user_ids=[u.pk for u, _, _ in grants])
        except OwnAccountRefused as exc:
            raise GrantRequestRefused(
                "You are among the recipients of this request, so another HR user must approve it; "
                "nothing was changed."
            ) from exc
        left = [u.email for u, amount, _ in grants if amount > 0 and not is_grant_recipient(u)]
        if left:
            shown = ", ".join(left[:5]) + (f" and {len(left) - 5} more" if len(left) > 5 else "")
            raise GrantRequestRefused(
                f"Some recipients have left the roster since the request: {shown}. Nothing was changed; "
                "reject this request and make a new one."
            )
        request.status = GrantRequest.Status.APPROVED
        request.decided_by = approved_by
        request.decided_at = timezone.now()
        request.note = note.strip()[:255]
        requester = request.requested_by
        if request.kind == GrantRequest.Kind.BULK:
            batch = points_grant_bulk(
                grants=grants,
                source=request.source or "selection",
                granted_by=requester,
                filename=request.filename,
                content_hash=request.content_hash,
                approval=request,
                department=request.department,
            )
        else:
            user, amount, reason = grants[0]
            batch = GrantBatch.objects.create(
                source=f"approved_{request.kind}", rows=1, total_points=amount, created_by=requester
            )
            if request.kind == GrantRequest.Kind.GRANT:
                points_grant(
                    user=user,
                    amount=amount,
                    reason=reason,
                    granted_by=requester,
                    approval=request,
                    batch=batch,
                )
            else:
                points_adjust(
                    user=user,
                    amount=amount,
                    reason=reason,
                    adjusted_by=requester,
                    approval=request,
                    batch=batch,
                )
        request.batch = batch
        request.save(update_fields=["status", "decided_by", "decided_at", "note", "batch"])
        return request


@retry_on_conflict
def grant_request_reject(*, request_id: Any, rejected_by: User, note: str) -> GrantRequest:
    """Record a rejection with its note; nothing moves. The requester may withdraw their own."""
    note = (note or "").strip()
    if not note:
        raise InvalidAmount("Say why the request is rejected; the note is kept with it.")
    _check_decider(rejected_by)
    with transaction.atomic():
        request = grant_request_for_update(request_id)
        _refuse_if_decided(request)
        request.status = GrantRequest.Status.REJECTED
        request.decided_by = rejected_by
        request.decided_at = timezone.now()
        request.note = note[:255]
        request.save(update_fields=["status", "decided_by", "decided_at", "note"])
        return request
