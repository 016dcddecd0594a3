"""CSV grant files: parsed and checked without writing (GrantPlan), recognised when already
imported or waiting for approval, staged for the admin's preview and confirmed, then applied."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from django.core import signing
from django.utils import timezone

from points.models import GrantBatch, GrantRequest, PendingGrantImport
from points.selectors import grant_left_out_reason
from points.services.approvals import points_grant_bulk_or_request
from points.services.checks import MAX_GRANT, _check_amount
from shop.http.errors import ApplicationError, InvalidAmount
from shop.models import User


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


def grant_request_pending_for_file(content_hash: str, bytes_hash: str = "") -> GrantRequest | None:
    hashes = _file_hashes(content_hash, bytes_hash)
    if not hashes:
        return None
    return (
        GrantRequest.objects.filter(content_hash__in=hashes, status=GrantRequest.Status.PENDING)
        .select_related("requested_by")
        .first()
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
    plan = grant_plan_from_csv(content, acting=staged_by)
    # Uploads older than a day were abandoned; clearing them here needs no scheduler.
    PendingGrantImport.objects.filter(created_at__lt=timezone.now() - timedelta(hours=24)).delete()
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
