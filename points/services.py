"""The only code that changes balances: every change writes its ledger entry in the same
transaction, under a row lock on the account (see lock_objects for the lock order)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction

from points.expiry import ENTRY_FIELDS, expiry_months, lots_from_entries
from points.lock_objects import account_for_update, accounts_for_update, grant_request_for_update
from points.models import (
    GrantBatch,
    GrantRequest,
    GrantSubmission,
    PendingGrantImport,
    PointsAccount,
    PointsTransaction,
)
from points.repeats import earlier_bulk, earlier_single
from points.selectors import grant_left_out_reason
from points.signals import points_granted
from shop.admin_kit.repeats import check_repeat
from shop.db.transactions import (
    HR_OUTCOME_UNKNOWN,
    atomic_with_known_outcome,
    insert_new,
    retry_on_conflict,
    save_fields,
)
from shop.http.errors import ApplicationError, InvalidAmount, NegativeBalance, OwnAccountRefused
from shop.models import User
from shop.observability import metrics

MAX_GRANT = 1_000_000  # one grant larger than this is a typo, not a reward
Type = PointsTransaction.Type


def account_create(*, user: User) -> PointsAccount:
    return PointsAccount.objects.create(user=user)


def accounts_create(*, users: Sequence[User]) -> list[PointsAccount]:
    """Empty accounts for many new employees in one statement (the roster import)."""
    return PointsAccount.objects.bulk_create([PointsAccount(user=user) for user in users])


def ledger_apply(
    *,
    account: PointsAccount,
    type: str,
    amount: int,
    description: str = "",
    order_id: uuid.UUID | None = None,
    created_by: User | None = None,
    batch: GrantBatch | None = None,
) -> PointsTransaction:
    """Apply one signed amount to a locked account and write its ledger entry.

    The caller must hold the account's row lock inside a transaction. Totals move as the
    models module describes; the database's CHECK constraints back every rule here.
    """
    if account.balance + amount < 0:
        raise NegativeBalance()
    account.balance += amount
    update_fields = ["balance", "updated_at"]
    if type == Type.EARNED:
        account.total_earned += amount
        update_fields.append("total_earned")
    elif type in (Type.REDEEMED, Type.REFUNDED):
        account.total_redeemed -= amount
        update_fields.append("total_redeemed")
    elif type == Type.EXPIRED:
        account.total_expired -= amount
        update_fields.append("total_expired")
    else:
        account.total_adjusted += amount
        update_fields.append("total_adjusted")
    save_fields(account, update_fields)
    entry = PointsTransaction(
        account=account,
        type=type,
        amount=amount,
        balance_after=account.balance,
        order_id=order_id,
        description=description[:255],
        created_by=created_by,
        batch=batch,
    )
    insert_new(entry)
    ledger_metrics_on_commit(type=type, amounts=[amount])
    return entry


# Ledger entry type -> (points moved, entries written) metrics (docs/metrics.md).
_LEDGER_METRICS = {
    Type.EARNED: ("PointsGranted", "Grants"),
    Type.REDEEMED: ("PointsRedeemed", "Redemptions"),
    Type.REFUNDED: ("PointsRefunded", "Refunds"),
    Type.ADJUSTED: ("PointsAdjusted", "Adjustments"),
    Type.EXPIRED: ("PointsExpired", "Expiries"),
}


def ledger_metrics_on_commit(*, type: str, amounts: list[int]) -> None:
    """Count points moved once the transaction commits: a rolled-back write counts nothing."""
    if not amounts or not metrics.enabled():
        return
    points_metric, entries_metric = _LEDGER_METRICS[Type(type)]
    # Debits are stored negative; the metrics count points moved, so always positive.
    total = sum(abs(amount) for amount in amounts)

    def emit() -> None:
        metrics.count(points_metric, total)
        metrics.count(entries_metric, len(amounts))

    transaction.on_commit(emit)


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


@dataclass
class GrantRow:
    line: int
    email: str
    amount: int
    reason: str


@dataclass
class GrantPlan:
    """A checked bulk grant: what would be written, or why not (per-row errors with line numbers)."""

    rows: list[GrantRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    unknown_emails: list[str] = field(default_factory=list)
    content_hash: str = ""
    # The file's bytes hashed, as batches imported before content_hash hashed rows recorded it.
    bytes_hash: str = ""
    users: dict[str, User] = field(default_factory=dict)
    # Rows for accounts that receive no points from this person: (line, email, why).
    left_out: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def total_points(self) -> int:
        return sum(row.amount for row in self.rows)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)


def grant_plan_from_csv(content: bytes | str, *, acting: User | None = None) -> GrantPlan:
    """Parse and check `email,amount,reason` rows without writing anything.

    A header row is optional. Emails are matched case-insensitively against active accounts
    in one query. Every problem is reported with its line number; nothing is applied unless
    the whole file is clean (all rows or none). Rows for the acting HR user and for accounts
    off the roster are left out and listed with the reason, so the preview shows them.
    """
    raw = content.encode() if isinstance(content, str) else content
    bytes_hash = hashlib.sha256(raw).hexdigest()
    # Until the rows are parsed (a file that is not UTF-8 has none), the bytes are its identity.
    plan = GrantPlan(content_hash=bytes_hash, bytes_hash=bytes_hash)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        plan.errors.append("The file is not UTF-8 text.")
        return plan
    # Problems are found in two passes (the file, then the database); HR reads them by line.
    line_errors: list[tuple[int, str]] = []
    canonical: list[list[str]] = []
    # Universal newlines: a file saved with old Mac (CR) endings reads like any other.
    reader = csv.reader(io.StringIO(text, newline=None))
    for line_no, record in enumerate(reader, start=1):
        if not record or all(not cell.strip() for cell in record):
            continue
        if line_no == 1 and [c.strip().lower() for c in record[:3]] == ["email", "amount", "reason"]:
            continue
        canonical.append([cell.strip() for cell in record])
        if len(record) != 3:
            line_errors.append(
                (line_no, f"line {line_no}: expected 3 columns (email,amount,reason), got {len(record)}")
            )
            continue
        email, amount_text, reason = (cell.strip() for cell in record)
        try:
            amount = int(amount_text)
            _check_amount(amount)
        except (ValueError, InvalidAmount):
            line_errors.append(
                (
                    line_no,
                    f"line {line_no}: amount {amount_text!r} is not a whole number from 1 to {MAX_GRANT:,}",
                )
            )
            continue
        if not reason:
            line_errors.append((line_no, f"line {line_no}: the reason is empty"))
            continue
        if "@" not in email:
            line_errors.append((line_no, f"line {line_no}: {email!r} is not an email address"))
            continue
        plan.rows.append(GrantRow(line=line_no, email=email.lower(), amount=amount, reason=reason[:255]))
    plan.content_hash = grant_rows_hash(canonical)
    if not plan.rows and not line_errors:
        plan.errors.append("The file has no rows.")
    emails = {row.email for row in plan.rows}
    found = {u.email: u for u in User.objects.filter(email__in=emails, is_active=True)}
    plan.users = found
    kept: list[GrantRow] = []
    for row in plan.rows:
        user = found.get(row.email)
        if user is None:
            plan.unknown_emails.append(row.email)
            line_errors.append((row.line, f"line {row.line}: no active employee has the email {row.email}"))
        elif (why := grant_left_out_reason(user, acting=acting)) is not None:
            plan.left_out.append((row.line, row.email, why))
        else:
            kept.append(row)
    plan.rows = kept
    plan.errors.extend(message for _, message in sorted(line_errors, key=lambda error: error[0]))
    if not kept and plan.left_out and not plan.errors:
        plan.errors.append("Every row is left out (see below); there is nothing to grant.")
    return plan


def grant_rows_hash(rows: Sequence[Sequence[str]]) -> str:
    """The identity of a grants file for the duplicate check: its rows, not its bytes.

    The same rows saved by Excel (CRLF line endings, a BOM, trailing blanks) or with or without
    the header must count as the same file, or confirming the re-save would grant them twice.
    Cells are stripped and emails compared case-insensitively, as the import itself does.
    """
    digest = hashlib.sha256()
    for row in rows:
        cells = [row[0].lower(), *row[1:]] if row else []
        # Unit and record separators cannot occur in a cell the csv module hands back
        # unquoted, so distinct rows never hash alike by concatenation.
        digest.update(("\x1f".join(cells) + "\x1e").encode())
    return digest.hexdigest()


def _file_hashes(content_hash: str, bytes_hash: str) -> list[str]:
    return [h for h in {content_hash, bytes_hash} if h]


def grant_batch_previously_applied(content_hash: str, bytes_hash: str = "") -> GrantBatch | None:
    """An earlier import of the same rows (or, for batches recorded before rows were hashed, of
    the same bytes)."""
    hashes = _file_hashes(content_hash, bytes_hash)
    if not hashes:
        return None
    return GrantBatch.objects.filter(content_hash__in=hashes).first()


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
        PointsAccount.objects.filter(pk__in=touched).update(updated_at=_now())
        return batch


def _now() -> Any:
    from django.utils import timezone

    return timezone.now()


def grant_recipients_all(*, acting: User | None = None) -> list[User]:
    """Everyone a grant to all reaches: active employees on the roster, never the granter."""
    users = User.objects.filter(is_active=True, is_employee=True).order_by("pk")
    if acting is not None:
        users = users.exclude(pk=acting.pk)
    return list(users)


# --- CSV grants from the admin: preview, then confirm ------------------------------------

IMPORT_TOKEN_SALT = "points.grant-import"
IMPORT_TOKEN_MAX_AGE = 2 * 3600  # a preview left open longer than this must be uploaded again


class GrantImportRefused(ApplicationError):
    status_code = 409
    code = "grant_import_refused"
    default_detail = "This import cannot be applied; nothing was imported."


@dataclass
class StagedGrantImport:
    """A previewed upload: its plan, the token that confirms it, and any earlier import of it."""

    plan: GrantPlan
    token: str
    filename: str
    previous: GrantBatch | None


def grant_import_stage(*, content: bytes, filename: str, staged_by: User) -> StagedGrantImport:
    """Check an uploaded CSV and keep it for confirmation; writes no points.

    The token is signed and names both the stored upload and its content hash, so the confirm
    step needs no re-upload and cannot be pointed at another file (or an edited one).
    """
    plan = grant_plan_from_csv(content, acting=staged_by)
    # Uploads older than a day were abandoned; clearing them here needs no scheduler.
    PendingGrantImport.objects.filter(created_at__lt=_now() - _hours(24)).delete()
    token = ""
    if plan.ok:
        pending = PendingGrantImport.objects.create(
            filename=filename[:255],
            # Lossless for valid UTF-8 (the plan is ok, so it is): re-encoding gives the same
            # bytes, hence the same content hash, at confirm time.
            content=content.decode("utf-8"),
            content_hash=plan.content_hash,
            created_by=staged_by,
        )
        token = signing.dumps({"id": str(pending.pk), "hash": plan.content_hash}, salt=IMPORT_TOKEN_SALT)
    return StagedGrantImport(
        plan=plan,
        token=token,
        filename=filename,
        previous=grant_batch_previously_applied(plan.content_hash, plan.bytes_hash),
    )


def grant_import_staged(*, token: str, staged_by: User) -> StagedGrantImport | None:
    """The preview of an upload still waiting for confirmation (after a refused confirm), or None
    when the token or the upload is no longer valid. Reads only."""
    try:
        data = signing.loads(token, salt=IMPORT_TOKEN_SALT, max_age=IMPORT_TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None
    pending = PendingGrantImport.objects.filter(pk=data["id"], created_by=staged_by).first()
    if pending is None:
        return None
    plan = grant_plan_from_csv(pending.content.encode("utf-8"), acting=staged_by)
    return StagedGrantImport(
        plan=plan,
        token=token if plan.ok else "",
        filename=pending.filename,
        previous=grant_batch_previously_applied(plan.content_hash, plan.bytes_hash),
    )


def grant_import_confirm(
    *, token: str, confirmed_by: User, allow_duplicate: bool = False
) -> GrantBatch | GrantRequest:
    """Apply a previewed upload: re-validated now, all rows or none, duplicates refused unless
    allowed. A total above the approval threshold becomes a pending request instead."""
    try:
        data = signing.loads(token, salt=IMPORT_TOKEN_SALT, max_age=IMPORT_TOKEN_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise GrantImportRefused("This preview has expired; upload the file again.") from exc
    except signing.BadSignature as exc:
        raise GrantImportRefused("This preview is not valid; upload the file again.") from exc
    pending = PendingGrantImport.objects.filter(pk=data["id"], created_by=confirmed_by).first()
    if pending is None:
        raise GrantImportRefused("This preview was already used or has expired; upload the file again.")
    content = pending.content.encode("utf-8")
    plan = grant_plan_from_csv(content, acting=confirmed_by)
    if plan.content_hash != data["hash"]:
        raise GrantImportRefused("The stored file does not match its preview; upload the file again.")
    if not plan.ok:
        # Something changed since the preview (an employee was deactivated, say).
        raise GrantImportRefused(
            "The file no longer passes its checks; nothing was imported: " + "; ".join(plan.errors[:5])
        )
    result = grant_plan_apply(
        plan, requested_by=confirmed_by, filename=pending.filename, allow_duplicate=allow_duplicate
    )
    pending.delete()
    return result


def grant_plan_apply(
    plan: GrantPlan,
    *,
    requested_by: User | None,
    filename: str,
    allow_duplicate: bool = False,
    progress: Callable[[int], None] | None = None,
) -> GrantBatch | GrantRequest:
    """Grant a checked CSV plan (the admin's confirmed preview, `import_points`): a file already
    imported or waiting for approval is refused unless allowed; above the approval threshold
    the grants wait for a second HR user."""
    previous = grant_batch_previously_applied(plan.content_hash, plan.bytes_hash)
    if previous is not None and not allow_duplicate:
        raise GrantImportRefused(
            f"This file was already imported on {previous.created_at:%Y-%m-%d %H:%M} UTC; nothing was imported."
        )
    waiting = grant_request_pending_for_file(plan.content_hash, plan.bytes_hash)
    if waiting is not None and not allow_duplicate:
        raise GrantImportRefused(
            f"This file is already waiting for approval (requested by {waiting.requested_by.email} on "
            f"{waiting.requested_at:%Y-%m-%d %H:%M} UTC); nothing was imported."
        )
    return points_grant_bulk_or_request(
        grants=[(plan.users[row.email], row.amount, row.reason) for row in plan.rows],
        source=GrantBatch.Source.CSV,
        requested_by=requested_by,
        filename=filename,
        content_hash=plan.content_hash,
        progress=progress,
    )


def _hours(n: int) -> Any:
    from datetime import timedelta

    return timedelta(hours=n)


# --- four eyes: requests above the approval threshold ---------------------------------------


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


def grant_request_pending_for_file(content_hash: str, bytes_hash: str = "") -> GrantRequest | None:
    hashes = _file_hashes(content_hash, bytes_hash)
    if not hashes:
        return None
    return (
        GrantRequest.objects.filter(content_hash__in=hashes, status=GrantRequest.Status.PENDING)
        .select_related("requested_by")
        .first()
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
        request.decided_at = _now()
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
        request.decided_at = _now()
        request.note = note[:255]
        request.save(update_fields=["status", "decided_by", "decided_at", "note"])
        return request


@retry_on_conflict
def points_expire(*, user_id: Any, as_of: dt.date) -> PointsTransaction | None:
    """Expire the account's points whose date is on or before ``as_of`` (``points/expiry.py``).

    Locks the account like every other writer (the one lock order), so it is safe beside
    orders and grants, and writes at most one ``expired`` entry. Idempotent: the entry consumes
    the lots it expires, so a second run for the same date finds nothing due.
    """
    months = expiry_months()
    if months <= 0:
        return None
    with transaction.atomic():
        account = account_for_update(user_id)
        entries = account.entries.order_by("created_at", "id").values(*ENTRY_FIELDS)
        due = lots_from_entries(entries, months=months).due(as_of)
        if due <= 0:
            return None
        return ledger_apply(
            account=account,
            type=Type.EXPIRED,
            amount=-due,
            description=f"{due} points reached their expiry date (on or before {as_of.isoformat()})",
        )
