"""The only code that changes balances: every change writes its ledger entry in the same
transaction, under a row lock on the account (see lock_objects for the lock order)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core import signing
from django.db import transaction

from points.expiry import ENTRY_FIELDS, expiry_months, lots_from_entries
from points.lock_objects import account_for_update, accounts_for_update
from points.models import GrantBatch, PendingGrantImport, PointsAccount, PointsTransaction
from points.signals import points_granted
from shop import metrics
from shop.db import retry_on_conflict
from shop.errors import ApplicationError, InvalidAmount, NegativeBalance
from shop.models import User

if TYPE_CHECKING:
    from orders.models import Order

MAX_GRANT = 1_000_000  # one grant larger than this is a typo, not a reward
Type = PointsTransaction.Type


def account_create(*, user: User) -> PointsAccount:
    return PointsAccount.objects.create(user=user)


def ledger_apply(
    *,
    account: PointsAccount,
    type: str,
    amount: int,
    description: str = "",
    order: Order | None = None,
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
    account.save(update_fields=update_fields)
    entry = PointsTransaction.objects.create(
        account=account,
        type=type,
        amount=amount,
        balance_after=account.balance,
        order=order,
        description=description[:255],
        created_by=created_by,
        batch=batch,
    )
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


@retry_on_conflict
def points_grant(
    *, user: User, amount: int, reason: str, granted_by: User | None = None
) -> PointsTransaction:
    _check_amount(amount)
    reason = _check_reason(reason)
    with transaction.atomic():
        account = account_for_update(user.pk)
        entry = ledger_apply(
            account=account, type=Type.EARNED, amount=amount, description=reason, created_by=granted_by
        )
        points_granted.send(sender=PointsTransaction, entries=[entry])
        return entry


@retry_on_conflict
def points_adjust(
    *, user: User, amount: int, reason: str, adjusted_by: User | None = None
) -> PointsTransaction:
    """An HR correction: usually a deduction (negative). Refused if the balance would go below 0."""
    _check_amount(amount, allow_negative=True)
    reason = _check_reason(reason)
    with transaction.atomic():
        account = account_for_update(user.pk)
        return ledger_apply(
            account=account, type=Type.ADJUSTED, amount=amount, description=reason, created_by=adjusted_by
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
    users: dict[str, User] = field(default_factory=dict)

    @property
    def total_points(self) -> int:
        return sum(row.amount for row in self.rows)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)


def grant_plan_from_csv(content: bytes | str) -> GrantPlan:
    """Parse and check `email,amount,reason` rows without writing anything.

    A header row is optional. Emails are matched case-insensitively against active employees
    in one query. Every problem is reported with its line number; nothing is applied unless
    the whole file is clean (all rows or none).
    """
    raw = content.encode() if isinstance(content, str) else content
    plan = GrantPlan(content_hash=hashlib.sha256(raw).hexdigest())
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        plan.errors.append("The file is not UTF-8 text.")
        return plan
    reader = csv.reader(io.StringIO(text))
    for line_no, record in enumerate(reader, start=1):
        if not record or all(not cell.strip() for cell in record):
            continue
        if line_no == 1 and [c.strip().lower() for c in record[:3]] == ["email", "amount", "reason"]:
            continue
        if len(record) != 3:
            plan.errors.append(f"line {line_no}: expected 3 columns (email,amount,reason), got {len(record)}")
            continue
        email, amount_text, reason = (cell.strip() for cell in record)
        try:
            amount = int(amount_text)
            _check_amount(amount)
        except (ValueError, InvalidAmount):
            plan.errors.append(
                f"line {line_no}: amount {amount_text!r} is not a whole number from 1 to {MAX_GRANT:,}"
            )
            continue
        if not reason:
            plan.errors.append(f"line {line_no}: the reason is empty")
            continue
        if "@" not in email:
            plan.errors.append(f"line {line_no}: {email!r} is not an email address")
            continue
        plan.rows.append(GrantRow(line=line_no, email=email.lower(), amount=amount, reason=reason[:255]))
    if not plan.rows and not plan.errors:
        plan.errors.append("The file has no rows.")
    emails = {row.email for row in plan.rows}
    found = {u.email: u for u in User.objects.filter(email__in=emails, is_active=True)}
    plan.users = found
    for row in plan.rows:
        if row.email not in found:
            plan.unknown_emails.append(row.email)
            plan.errors.append(f"line {row.line}: no active employee has the email {row.email}")
    return plan


def grant_batch_previously_applied(content_hash: str) -> GrantBatch | None:
    return GrantBatch.objects.filter(content_hash=content_hash).first()


@retry_on_conflict
def points_grant_bulk(
    *,
    grants: Sequence[tuple[User, int, str]],
    source: str,
    granted_by: User | None = None,
    filename: str = "",
    content_hash: str = "",
    progress: Callable[[int], None] | None = None,
) -> GrantBatch:
    """Grant to many employees in one transaction: all rows or none.

    Accounts are locked in pk order (the project's lock order), then each row is applied.
    Several rows for the same employee are applied one after another, each with its own entry.
    """
    for _, amount, reason in grants:
        _check_amount(amount)
        _check_reason(reason)
    with transaction.atomic():
        batch = GrantBatch.objects.create(
            source=source,
            filename=filename[:255],
            content_hash=content_hash,
            rows=len(grants),
            total_points=sum(amount for _, amount, _ in grants),
            created_by=granted_by,
        )
        accounts = {a.user_id: a for a in accounts_for_update(u.pk for u, _, _ in grants)}
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


def points_grant_all_active(*, amount: int, reason: str, granted_by: User | None = None) -> GrantBatch:
    users = list(User.objects.filter(is_active=True).order_by("pk"))
    return points_grant_bulk(
        grants=[(u, amount, reason) for u in users], source="all_active", granted_by=granted_by
    )


def points_grant_selected(
    *, users: Iterable[User], amount: int, reason: str, granted_by: User | None = None
) -> GrantBatch:
    return points_grant_bulk(
        grants=[(u, amount, reason) for u in users], source="selection", granted_by=granted_by
    )


def points_import_plan(
    *,
    plan: GrantPlan,
    granted_by: User | None = None,
    filename: str = "",
    progress: Callable[[int], None] | None = None,
) -> GrantBatch:
    if not plan.ok:
        raise InvalidAmount("The file has errors; nothing was imported.")
    return points_grant_bulk(
        grants=[(plan.users[row.email], row.amount, row.reason) for row in plan.rows],
        source="csv",
        granted_by=granted_by,
        filename=filename,
        content_hash=plan.content_hash,
        progress=progress,
    )


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
    plan = grant_plan_from_csv(content)
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
        previous=grant_batch_previously_applied(plan.content_hash),
    )


def grant_import_confirm(*, token: str, confirmed_by: User, allow_duplicate: bool = False) -> GrantBatch:
    """Apply a previewed upload: re-validated now, all rows or none, duplicates refused unless allowed."""
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
    plan = grant_plan_from_csv(content)
    if plan.content_hash != data["hash"]:
        raise GrantImportRefused("The stored file does not match its preview; upload the file again.")
    if not plan.ok:
        # Something changed since the preview (an employee was deactivated, say).
        raise GrantImportRefused(
            "The file no longer passes its checks; nothing was imported: " + "; ".join(plan.errors[:5])
        )
    previous = grant_batch_previously_applied(plan.content_hash)
    if previous is not None and not allow_duplicate:
        raise GrantImportRefused(
            f"This file was already imported on {previous.created_at:%Y-%m-%d %H:%M} UTC; nothing was imported."
        )
    batch = points_import_plan(plan=plan, granted_by=confirmed_by, filename=pending.filename)
    pending.delete()
    return batch


def _hours(n: int) -> Any:
    from datetime import timedelta

    return timedelta(hours=n)


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
