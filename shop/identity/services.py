"""Writes that concern employees: creating one always creates its points account too."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from shop.http.errors import ApplicationError
from shop.identity.cognito_sync import Action, identity_sync_schedule
from shop.identity.departments import department_resolve
from shop.models import User, normalize_email
from shop.signals import users_created


def user_create(
    *,
    email: str,
    password: str | None = None,
    name: str = "",
    employee_id: str | None = None,
    cognito_sub: str | None = None,
    **extra: Any,
) -> User:
    # The insert (and the points account it brings) is the manager's, so that Django's own
    # create_user and createsuperuser do the same.
    return User.objects.create_user(
        email, password, name=name, employee_id=employee_id, cognito_sub=cognito_sub, **extra
    )


@transaction.atomic
def users_deactivate(*, users: Iterable[User]) -> list[User]:
    """Deactivate employees: they can no longer sign in or order; their points and history stay.

    With Cognito configured, each one is also disabled there and signed out everywhere, after
    this transaction commits (shop.identity.cognito_sync).
    """
    changed = [user for user in users if user.is_active]
    User.objects.filter(pk__in=[user.pk for user in changed]).update(is_active=False)
    for user in changed:
        user.is_active = False
    identity_sync_schedule(users=changed, action=Action.DISABLE)
    return changed


@transaction.atomic
def user_reactivate(*, user: User) -> None:
    """Let a deactivated person in again (enabled again in Cognito after commit)."""
    if user.is_active:
        return
    user.is_active = True
    user.save(update_fields=["is_active"])
    identity_sync_schedule(users=[user], action=Action.ENABLE)


class EmployeeInvalid(ApplicationError):
    """Registration refused; `fields` names each problem. Nothing was changed."""

    status_code = 400
    code = "validation_error"
    default_detail = "The employee cannot be registered."

    def __init__(self, fields: dict[str, list[str]]):
        self.fields = fields
        first = next(iter(fields.items()))
        super().__init__(f"{first[0]}: {first[1][0]}", extra={"fields": fields})


NAME_MAX = User._meta.get_field("name").max_length or 200
EMPLOYEE_ID_MAX = User._meta.get_field("employee_id").max_length or 64
DEPARTMENT_MAX = User._meta.get_field("department").max_length or 100


def employee_validate(
    *,
    email: str,
    name: str,
    employee_id: str,
    department: str = "",
    check_taken: bool = True,
    check_department: bool = True,
) -> dict[str, list[str]]:
    """Problems with one registration, by field (empty when it can be registered). Reads only.

    `check_taken=False` skips the two uniqueness queries, and `check_department=False` the
    lookup of the department among HR's departments, for a caller that has already looked them
    up in bulk (the roster import).
    """
    errors: dict[str, list[str]] = {}
    email = normalize_email(email)
    name, employee_id, department = name.strip(), employee_id.strip(), department.strip()
    try:
        validate_email(email)
    except ValidationError:
        errors.setdefault("email", []).append(f"{email!r} is not a valid email address.")
    if not name:
        errors.setdefault("name", []).append("The name is required.")
    elif len(name) > NAME_MAX:
        errors.setdefault("name", []).append(f"The name is longer than {NAME_MAX} characters.")
    if not employee_id:
        errors.setdefault("employee_id", []).append("The employee id is required.")
    elif len(employee_id) > EMPLOYEE_ID_MAX:
        errors.setdefault("employee_id", []).append(
            f"The employee id is longer than {EMPLOYEE_ID_MAX} characters."
        )
    if len(department) > DEPARTMENT_MAX:
        errors.setdefault("department", []).append(
            f"The department is longer than {DEPARTMENT_MAX} characters."
        )
    elif check_department and department and department_resolve(department) is None:
        errors.setdefault("department", []).append(
            f"There is no department named {department!r}; HR adds departments on the Departments page."
        )
    if not check_taken:
        return errors
    if "email" not in errors and User.objects.filter(email=email).exists():
        errors.setdefault("email", []).append(f"{email} is already registered.")
    if "employee_id" not in errors and User.objects.filter(employee_id=employee_id).exists():
        errors.setdefault("employee_id", []).append(f"The employee id {employee_id} is already registered.")
    return errors


@transaction.atomic
def employee_register(*, email: str, name: str, employee_id: str, department: str = "") -> User:
    """Put a person on the roster, with their points account; with Cognito, invite them.

    The only way an employee joins in `roster` provisioning mode: the admin form and
    `manage.py register_employee` come here, the roster import to `employees_register`, which
    applies the same checks in bulk. Bad input raises EmployeeInvalid and writes nothing; the
    invitation is sent after commit (shop.identity.cognito_sync).
    """
    errors = employee_validate(email=email, name=name, employee_id=employee_id, department=department)
    if errors:
        raise EmployeeInvalid(errors)
    try:
        user = user_create(
            email=email,
            name=name.strip(),
            employee_id=employee_id.strip(),
            department=department_resolve(department) or "",
            is_employee=True,
        )
    except ValidationError as exc:
        # A concurrent registration of the same email or id committed in between.
        raise EmployeeInvalid({k: list(v) for k, v in exc.message_dict.items()}) from exc
    except IntegrityError as exc:
        raise EmployeeInvalid({"email": ["This email or employee id was registered a moment ago."]}) from exc
    identity_sync_schedule(users=[user], action=Action.INVITE)
    return user


@dataclass(frozen=True)
class EmployeeData:
    email: str
    name: str
    employee_id: str
    department: str = ""


@transaction.atomic
def employees_register(*, employees: Sequence[EmployeeData]) -> list[User]:
    """Register many employees at once (the roster import): all or none.

    The same checks and outcome as `employee_register` for each, with the uniqueness checks
    and the writes done in bulk, so a company-sized roster takes a few statements rather than
    a dozen per person. Raises EmployeeInvalid (fields keyed by email) and writes nothing.
    """
    clean = [
        EmployeeData(
            email=normalize_email(e.email),
            name=e.name.strip(),
            employee_id=e.employee_id.strip(),
            department=e.department.strip(),
        )
        for e in employees
    ]
    taken_emails = set(
        User.objects.filter(email__in={e.email for e in clean}).values_list("email", flat=True)
    )
    taken_ids = set(
        User.objects.filter(employee_id__in={e.employee_id for e in clean}).values_list(
            "employee_id", flat=True
        )
    )
    errors: dict[str, list[str]] = {}
    for e in clean:
        problems = employee_validate(
            email=e.email,
            name=e.name,
            employee_id=e.employee_id,
            department=e.department,
            check_taken=False,
            check_department=False,
        )
        messages = [m for ms in problems.values() for m in ms]
        if e.email in taken_emails:
            messages.append(f"{e.email} is already registered.")
        if e.employee_id in taken_ids:
            messages.append(f"The employee id {e.employee_id} is already registered.")
        taken_emails.add(e.email)  # a second row with the same email or id is refused too
        taken_ids.add(e.employee_id)
        if messages:
            errors.setdefault(e.email, []).extend(messages)
    if errors:
        raise EmployeeInvalid(errors)
    users = [
        User(
            email=e.email,
            name=e.name,
            employee_id=e.employee_id,
            department=e.department,
            is_employee=True,
            password=make_password(None),
        )
        for e in clean
    ]
    try:
        User.objects.bulk_create(users, batch_size=500)
    except IntegrityError as exc:
        # A concurrent registration of one of these committed in between.
        raise EmployeeInvalid({"email": ["An email or employee id was registered a moment ago."]}) from exc
    users_created.send(sender=User, users=users)
    identity_sync_schedule(users=users, action=Action.INVITE)
    return users
