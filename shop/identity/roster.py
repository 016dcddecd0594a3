"""The roster CSV import: register new employees, update known ones, optionally deactivate leavers.

Like the points grants import: the upload is checked and previewed without writing anything,
kept until HR confirms, then re-checked and applied in one transaction, all rows or none.
Columns: `email,name,employee_id,department` (a header row is optional; department may be
empty). With "deactivate leavers", every active employee on the roster who is not in the file
is deactivated; the preview lists them, and the confirmation deactivates exactly those or is
refused. Staff accounts (HR, superusers) are never changed by the import, nor treated as
leavers: superusers manage them.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import timedelta

from django.core import signing
from django.db import transaction
from django.utils import timezone

from shop.http.errors import ApplicationError
from shop.identity.departments import (
    department_clean_name,
    department_key,
    departments_by_key,
    departments_create,
)
from shop.identity.services import (
    DEPARTMENT_MAX,
    NAME_MAX,
    EmployeeData,
    EmployeeInvalid,
    employee_validate,
    employees_register,
    users_deactivate,
)
from shop.models import PendingRosterImport, User, normalize_email

COLUMNS = ["email", "name", "employee_id", "department"]
TOKEN_SALT = "shop.roster-import"
TOKEN_MAX_AGE = 2 * 3600  # a preview left open longer than this must be uploaded again


class RosterImportRefused(ApplicationError):
    status_code = 409
    code = "roster_import_refused"
    default_detail = "This roster import cannot be applied; nothing was changed."


@dataclass
class RosterRow:
    line: int
    email: str
    name: str
    employee_id: str
    department: str


@dataclass
class RosterUpdate:
    user: User
    row: RosterRow
    changes: dict[str, tuple[str, str]]  # field -> (old, new)


@dataclass
class RosterPlan:
    """What a roster file would do, or why it cannot (errors with line numbers)."""

    new: list[RosterRow] = field(default_factory=list)
    updates: list[RosterUpdate] = field(default_factory=list)
    unchanged: int = 0
    # Back-office accounts named in the file: left as they are (superusers manage them).
    skipped: list[str] = field(default_factory=list)
    leavers: list[User] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # Departments the file names that HR has not added: name -> line numbers. Applying the
    # file needs HR's explicit "create these departments" (a typo would otherwise split one).
    unknown_departments: dict[str, list[int]] = field(default_factory=dict)
    content_hash: str = ""
    deactivate_leavers: bool = False

    @property
    def rows(self) -> int:
        return len(self.new) + len(self.updates) + self.unchanged + len(self.skipped)

    @property
    def ok(self) -> bool:
        return not self.errors and self.rows > 0

    @property
    def leavers_hash(self) -> str:
        return hashlib.sha256(",".join(sorted(str(u.pk) for u in self.leavers)).encode()).hexdigest()


def roster_plan_from_csv(content: bytes | str, *, deactivate_leavers: bool = False) -> RosterPlan:
    """Parse and check a roster file against the database without writing anything."""
    raw = content.encode() if isinstance(content, str) else content
    plan = RosterPlan(content_hash=hashlib.sha256(raw).hexdigest(), deactivate_leavers=deactivate_leavers)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        plan.errors.append("The file is not UTF-8 text.")
        return plan
    rows: list[RosterRow] = []
    for line_no, record in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not record or all(not cell.strip() for cell in record):
            continue
        if line_no == 1 and [c.strip().lower() for c in record] in (COLUMNS, COLUMNS[:3]):
            continue
        if len(record) not in (3, 4):
            plan.errors.append(f"line {line_no}: expected 4 columns ({','.join(COLUMNS)}), got {len(record)}")
            continue
        email, name, employee_id, *rest = (cell.strip() for cell in record)
        rows.append(
            RosterRow(
                line=line_no,
                email=normalize_email(email),
                name=name,
                employee_id=employee_id,
                department=rest[0] if rest else "",
            )
        )
    if not rows and not plan.errors:
        plan.errors.append("The file has no rows.")
    _resolve_departments(rows, plan)
    duplicates_of = [row.email for row in rows]
    # A second line for the same person is an error, and only the first is planned (it would
    # otherwise be listed as registered too).
    rows = _check_duplicates(rows, plan)
    # One query each for the records the file names, by email and by employee id.
    by_email = {u.email: u for u in User.objects.filter(email__in={r.email for r in rows})}
    by_id = {u.employee_id: u for u in User.objects.filter(employee_id__in={r.employee_id for r in rows})}
    for row in rows:
        existing = by_email.get(row.email)
        if existing is None:
            _plan_new(row, by_id, plan)
        else:
            _plan_existing(row, existing, by_id, plan)
    if deactivate_leavers and rows:
        # Listed even when the file has problems, so the preview says who a corrected file
        # would deactivate (a file with problems is never applied).
        in_file = {row.email for row in rows} | set(duplicates_of)
        plan.leavers = [
            u
            for u in User.objects.filter(is_employee=True, is_active=True, is_staff=False).order_by("email")
            if u.email not in in_file
        ]
    plan.errors.sort(key=_line_of)
    return plan


def _line_of(problem: str) -> int:
    # "line 7: ..." problems in file order; problems of the whole file first.
    head = problem.split(":", 1)[0]
    return int(head[5:]) if head.startswith("line ") and head[5:].isdigit() else 0


def _resolve_departments(rows: list[RosterRow], plan: RosterPlan) -> None:
    """Each row's department in HR's spelling (case and spacing ignored); unknown ones listed."""
    known = departments_by_key()
    for row in rows:
        if not row.department:
            continue
        spelled = known.get(department_key(row.department))
        if spelled is None:
            plan.unknown_departments.setdefault(department_clean_name(row.department), []).append(row.line)
            row.department = department_clean_name(row.department)
        else:
            row.department = spelled


def _check_duplicates(rows: list[RosterRow], plan: RosterPlan) -> list[RosterRow]:
    first_email: dict[str, int] = {}
    first_id: dict[str, int] = {}
    kept: list[RosterRow] = []
    for row in rows:
        duplicate = False
        if row.email in first_email:
            plan.errors.append(f"line {row.line}: {row.email} is also on line {first_email[row.email]}")
            duplicate = True
        first_email.setdefault(row.email, row.line)
        if row.employee_id and row.employee_id in first_id:
            plan.errors.append(
                f"line {row.line}: employee id {row.employee_id} is also on line {first_id[row.employee_id]}"
            )
            duplicate = True
        first_id.setdefault(row.employee_id, row.line)
        if not duplicate:
            kept.append(row)
    return kept


def _plan_new(row: RosterRow, by_id: dict[str | None, User], plan: RosterPlan) -> None:
    # The email is known to be new (the caller looked it up); the id is checked against the
    # bulk lookup too, so a large file costs no query per row.
    problems = employee_validate(
        email=row.email,
        name=row.name,
        employee_id=row.employee_id,
        department=row.department,
        check_taken=False,
        check_department=False,
    )
    if row.employee_id and row.employee_id in by_id:
        problems.setdefault("employee_id", []).append(
            f"The employee id {row.employee_id} is already registered."
        )
    for messages in problems.values():
        plan.errors.extend(f"line {row.line}: {message}" for message in messages)
    if not problems:
        plan.new.append(row)


def _plan_existing(row: RosterRow, user: User, by_id: dict[str | None, User], plan: RosterPlan) -> None:
    where = f"line {row.line}: {row.email}"
    if not user.is_employee or user.is_staff:
        # An export of the whole company names HR staff too; their accounts are not the
        # roster import's to change, but naming them is not a mistake in the file.
        plan.skipped.append(f"line {row.line}: {row.email} (an HR or administrator account) is left as it is")
        return
    if not user.is_active:
        plan.errors.append(f"{where} is deactivated; reactivate it in the admin first")
        return
    if not row.name:
        plan.errors.append(f"{where}: the name is required")
        return
    if len(row.name) > NAME_MAX or len(row.department) > DEPARTMENT_MAX:
        plan.errors.append(f"{where}: the name or department is too long")
        return
    if not row.employee_id:
        plan.errors.append(f"{where}: the employee id is required")
        return
    if user.employee_id and user.employee_id != row.employee_id:
        # An employee id names one person for good; changing it is a correction for the admin.
        plan.errors.append(
            f"{where} is registered with employee id {user.employee_id}, not {row.employee_id}"
        )
        return
    holder = by_id.get(row.employee_id)
    if holder is not None and holder.pk != user.pk:
        plan.errors.append(f"{where}: employee id {row.employee_id} belongs to {holder.email}")
        return
    changes = {
        name: (old, new)
        for name, old, new in (
            ("name", user.name, row.name),
            ("employee_id", user.employee_id or "", row.employee_id),
            ("department", user.department, row.department),
        )
        if old != new
    }
    if changes:
        plan.updates.append(RosterUpdate(user=user, row=row, changes=changes))
    else:
        plan.unchanged += 1


@dataclass
class StagedRosterImport:
    plan: RosterPlan
    token: str
    filename: str


@dataclass
class RosterImportResult:
    registered: list[User]
    updated: list[User]
    deactivated: list[User]
    filename: str
    departments_created: list[str] = field(default_factory=list)


def roster_import_stage(
    *, content: bytes, filename: str, staged_by: User, deactivate_leavers: bool = False
) -> StagedRosterImport:
    """Check an uploaded roster and keep it for confirmation; changes no employee."""
    plan = roster_plan_from_csv(content, deactivate_leavers=deactivate_leavers)
    # Uploads older than a day were abandoned; clearing them here needs no scheduler.
    PendingRosterImport.objects.filter(created_at__lt=timezone.now() - timedelta(hours=24)).delete()
    token = ""
    if plan.ok:
        pending = PendingRosterImport.objects.create(
            filename=filename[:255],
            content=content.decode("utf-8"),
            content_hash=plan.content_hash,
            deactivate_leavers=deactivate_leavers,
            leavers_hash=plan.leavers_hash,
            created_by=staged_by,
        )
        token = signing.dumps({"id": str(pending.pk), "hash": plan.content_hash}, salt=TOKEN_SALT)
    return StagedRosterImport(plan=plan, token=token, filename=filename)


def roster_import_confirm(
    *, token: str, confirmed_by: User, create_departments: bool = False
) -> RosterImportResult:
    """Apply a previewed roster: re-checked now, all rows or none, leavers exactly as previewed.

    Departments the file names that HR has not added are refused, unless HR ticked "create these
    departments" on the preview (``create_departments``): then they are added first, as spelled
    in the file."""
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise RosterImportRefused("This preview has expired; upload the file again.") from exc
    except signing.BadSignature as exc:
        raise RosterImportRefused("This preview is not valid; upload the file again.") from exc
    with transaction.atomic():
        pending = (
            PendingRosterImport.objects.select_for_update()
            .filter(pk=data["id"], created_by=confirmed_by)
            .first()
        )
        if pending is None:
            raise RosterImportRefused("This preview was already used or has expired; upload the file again.")
        content = pending.content.encode("utf-8")
        plan = roster_plan_from_csv(content, deactivate_leavers=pending.deactivate_leavers)
        if plan.content_hash != data["hash"]:
            raise RosterImportRefused("The stored file does not match its preview; upload the file again.")
        if not plan.ok:
            raise RosterImportRefused(
                "The file no longer passes its checks; nothing was changed: " + "; ".join(plan.errors[:5])
            )
        if plan.unknown_departments and not create_departments:
            raise RosterImportRefused(
                "The file names departments that do not exist: "
                + ", ".join(sorted(plan.unknown_departments))
                + ". Nothing was changed. Tick 'Create these departments' on the preview, or correct the file."
            )
        if plan.leavers_hash != pending.leavers_hash:
            raise RosterImportRefused(
                "The employees to deactivate have changed since the preview; nothing was changed. "
                "Upload the file again to see the current list."
            )
        created = departments_create(names=plan.unknown_departments) if plan.unknown_departments else []
        try:
            registered = employees_register(
                employees=[
                    EmployeeData(
                        email=row.email, name=row.name, employee_id=row.employee_id, department=row.department
                    )
                    for row in plan.new
                ]
            )
        except EmployeeInvalid as exc:
            raise RosterImportRefused(
                f"A row can no longer be registered ({exc.detail}); nothing was changed."
            ) from exc
        updated = []
        for update in plan.updates:
            user = update.user
            for name, (_, new) in update.changes.items():
                setattr(user, name, new)
            user.save(update_fields=list(update.changes))
            updated.append(user)
        deactivated = users_deactivate(users=plan.leavers) if plan.leavers else []
        pending.delete()
    return RosterImportResult(
        registered=registered,
        updated=updated,
        deactivated=deactivated,
        filename=pending.filename,
        departments_created=[d.name for d in created],
    )
