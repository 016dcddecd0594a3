"""Grants and adjustments applied now: to one employee (points_grant, points_adjust) or to
many in one batch (points_grant_bulk), each form submitted once (its one-time key)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.db import IntegrityError, transaction
from django.utils import timezone

from points.lock_objects import account_for_update, accounts_for_update
from points.models import GrantBatch, GrantRequest, GrantSubmission, PointsAccount, PointsTransaction
from points.repeats import earlier_bulk, earlier_single
from points.services.checks import (
    _check_amount,
    _check_approval,
    _check_reason,
    check_not_own_account,
    check_recipients,
)
from points.services.ledger import ledger_apply, ledger_metrics_on_commit
from points.signals import points_granted
from shop.admin_kit.repeats import check_repeat
from shop.db.transactions import HR_OUTCOME_UNKNOWN, atomic_with_known_outcome, retry_on_conflict
from shop.http.errors import ApplicationError
from shop.models import User

Type = PointsTransaction.Type


@retry_on_conflict
def points_grant(
    *,
    user: User,
    amount: int,
    reason: str,
    granted_by: User | None = None,
    approval: GrantRequest | None = None,
    batch: GrantBatch | None = None,
    submission_key: str = "",
    confirm_repeat_of: str | None = None,
) -> PointsTransaction:
    """Grant points to one employee. `submission_key` (the grant form's one-time key) makes a
    second submit of the same form refused with DuplicateSubmission; `confirm_repeat_of` ("" or
    the token HR confirmed) refuses the same grant made within the repeat window unless HR
    confirmed that one (shop.admin_kit.repeats); None skips that check."""
    _check_amount(amount)
    reason = _check_reason(reason)
    check_not_own_account(actor=granted_by, user_ids=[user.pk])
    check_recipients([user])
    _check_approval(approval, amount)
    with atomic_with_known_outcome(HR_OUTCOME_UNKNOWN):
        grant_submission_record(key=submission_key, submitted_by=granted_by)
        account = account_for_update(user.pk)
        if confirm_repeat_of is not None:
            earlier = earlier_single(user=user, type=Type.EARNED, amount=amount, reason=reason)
            check_repeat(earlier, confirm_repeat_of)
        entry = ledger_apply(
            account=account,
            type=Type.EARNED,
            amount=amount,
            description=reason,
            created_by=granted_by,
            batch=batch,
        )
        points_granted.send(sender=PointsTransaction, entries=[entry])
        return entry


@retry_on_conflict
def points_adjust(
    *,
    user: User,
    amount: int,
    reason: str,
    adjusted_by: User | None = None,
    approval: GrantRequest | None = None,
    batch: GrantBatch | None = None,
    submission_key: str = "",
    confirm_repeat_of: str | None = None,
) -> PointsTransaction:
    """An HR correction: usually a deduction (negative). Refused if the balance would go below 0.

    Deductions may be made from anyone's account (a leaver's, say) but never one's own; adding
    points is a grant, so only employees on the roster receive them. Its size counts towards
    the approval threshold either way. `submission_key` (the adjust form's one-time key) makes a
    second submit of the same form refused with DuplicateSubmission, and `confirm_repeat_of` the
    same adjustment within the repeat window (see points_grant).
    """
    _check_amount(amount, allow_negative=True)
    reason = _check_reason(reason)
    check_not_own_account(actor=adjusted_by, user_ids=[user.pk], verb="adjust the points of")
    if amount > 0:
        check_recipients([user])
    _check_approval(approval, abs(amount))
    with atomic_with_known_outcome(HR_OUTCOME_UNKNOWN):
        grant_submission_record(key=submission_key, submitted_by=adjusted_by)
        account = account_for_update(user.pk)
        if confirm_repeat_of is not None:
            earlier = earlier_single(user=user, type=Type.ADJUSTED, amount=amount, reason=reason)
            check_repeat(earlier, confirm_repeat_of)
        return ledger_apply(
            account=account,
            type=Type.ADJUSTED,
            amount=amount,
            description=reason,
            created_by=adjusted_by,
            batch=batch,
        )


class DuplicateSubmission(ApplicationError):
    status_code = 409
    code = "duplicate_submission"
    default_detail = (
        "This form was already submitted; no more points were moved. Check the grant batches "
        "(or the approval requests) before trying again."
    )


def grant_submission_record(*, key: str, submitted_by: User | None) -> None:
    """Spend a form's one-time key; call it inside the transaction that writes the grant.

    A second insert of the same key waits for the first transaction's row lock, then fails on
    the primary key once it commits: the caller's transaction rolls back and writes nothing.
    It is the first write of the transaction and locks no account, so the lock order holds.
    """
    if not key:
        return
    try:
        with transaction.atomic():
            GrantSubmission.objects.create(key=key[:64], created_by=submitted_by)
    except IntegrityError as exc:
        raise DuplicateSubmission() from exc


@retry_on_conflict
def points_grant_bulk(
    *,
    grants: Sequence[tuple[User, int, str]],
    source: str,
    granted_by: User | None = None,
    filename: str = "",
    content_hash: str = "",
    progress: Callable[[int], None] | None = None,
    approval: GrantRequest | None = None,
    submission_key: str = "",
    confirm_repeat_of: str | None = None,
    department: str = "",
) -> GrantBatch:
    """Grant to many employees in one transaction: all rows or none.

    Accounts are locked in pk order (the project's lock order), then each row is applied.
    Several rows for the same employee are applied one after another, each with its own entry.
    Every recipient must be an active employee other than the granter, and a total above the
    approval threshold needs an approved GrantRequest; callers leave such people out first
    (and tell HR), this refuses whatever slips through. `confirm_repeat_of`: see points_grant.
    """
    for _, amount, reason in grants:
        _check_amount(amount)
        _check_reason(reason)
    recipients = {u.pk: u for u, _, _ in grants}
    check_not_own_account(actor=granted_by, user_ids=recipients)
    check_recipients(recipients.values())
    _check_approval(approval, sum(amount for _, amount, _ in grants))
    with atomic_with_known_outcome(HR_OUTCOME_UNKNOWN):
        grant_submission_record(key=submission_key, submitted_by=granted_by)
        # The accounts are locked before the batch row is written (the repeat check reads
        # the batches of other grants to the same people, which hold these locks until they commit).
        accounts = {a.user_id: a for a in accounts_for_update(u.pk for u, _, _ in grants)}
        if confirm_repeat_of is not None:
            check_repeat(earlier_bulk(source=source, grants=grants), confirm_repeat_of)
        batch = GrantBatch.objects.create(
            source=source,
            filename=filename[:255],
            department=department[:100],
            content_hash=content_hash,
            rows=len(grants),
            total_points=sum(amount for _, amount, _ in grants),
            created_by=granted_by,
        )
        entries: list[PointsTransaction] = []
        for index, (user, amount, reason) in enumerate(grants, start=1):
            account = accounts[user.pk]
            account.balance += amount
            account.total_earned += amount
            entries.append(
                PointsTransaction(
                    account=account,
                    type=Type.EARNED,
                    amount=amount,
                    balance_after=account.balance,
                    description=reason,
                    created_by=granted_by,
                    batch=batch,
                )
            )
            if progress is not None:
                progress(index)
        # Bulk writes keep a 10,000-row import to a handful of statements.
        PointsTransaction.objects.bulk_create(entries, batch_size=1000)
        ledger_metrics_on_commit(type=Type.EARNED, amounts=[entry.amount for entry in entries])
        points_granted.send(sender=PointsTransaction, entries=entries)
        touched = {u.pk for u, _, _ in grants}
        PointsAccount.objects.bulk_update(
            [accounts[pk] for pk in touched], ["balance", "total_earned"], batch_size=1000
        )
        PointsAccount.objects.filter(pk__in=touched).update(updated_at=timezone.now())
        return batch


def grant_recipients_all(*, acting: User | None = None) -> list[User]:
    """Everyone a grant to all reaches: active employees on the roster, never the granter."""
    users = User.objects.filter(is_active=True, is_employee=True).order_by("pk")
    if acting is not None:
        users = users.exclude(pk=acting.pk)
    return list(users)
