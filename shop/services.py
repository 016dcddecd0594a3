"""Writes that concern employees: creating one always creates its points account too."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from shop.errors import ApplicationError
from shop.models import User


def normalize_email(email: str) -> str:
    return email.strip().lower()


@transaction.atomic
def user_create(
    *,
    email: str,
    password: str | None = None,
    name: str = "",
    employee_id: str | None = None,
    cognito_sub: str | None = None,
    **extra: Any,
) -> User:
    from points.services import account_create

    user = User(
        email=normalize_email(email),
        name=name,
        employee_id=employee_id or None,
        cognito_sub=cognito_sub or None,
        **extra,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save(force_insert=True)
    account_create(user=user)
    return user


@transaction.atomic
def users_deactivate(*, users: Iterable[User]) -> list[User]:
    """Deactivate employees: they can no longer sign in or order; their points and history stay.

    With Cognito configured, each one is also disabled there and signed out everywhere, after
    this transaction commits (shop.identity_sync).
    """
    from shop.identity_sync import Action, identity_sync_schedule

    changed = [user for user in users if user.is_active]
    for user in changed:
        user.is_active = False
        user.save(update_fields=["is_active"])
    identity_sync_schedule(users=changed, action=Action.DISABLE)
    return changed


@transaction.atomic
def user_reactivate(*, user: User) -> None:
    """Let a deactivated person in again (enabled again in Cognito after commit)."""
    from shop.identity_sync import Action, identity_sync_schedule

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
    *, email: str, name: str, employee_id: str, department: str = "", check_taken: bool = True
) -> dict[str, list[str]]:
    """Problems with one registration, by field (empty when it can be registered). Reads only.

    `check_taken=False` skips the two uniqueness queries, for a caller that has already looked
    the emails and ids up in bulk (the roster import).
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

    The only way an employee joins in `roster` provisioning mode; the admin form, the roster
    import and `manage.py register_employee` all come here. Bad input raises EmployeeInvalid
    and writes nothing; the invitation is sent after commit (shop.identity_sync).
    """
    from shop.identity_sync import Action, identity_sync_schedule

    errors = employee_validate(email=email, name=name, employee_id=employee_id, department=department)
    if errors:
        raise EmployeeInvalid(errors)
    try:
        user = user_create(
            email=email,
            name=name.strip(),
            employee_id=employee_id.strip(),
            department=department.strip(),
            is_employee=True,
        )
    except ValidationError as exc:
        # A concurrent registration of the same email or id committed in between.
        raise EmployeeInvalid({k: list(v) for k, v in exc.message_dict.items()}) from exc
    except IntegrityError as exc:
        raise EmployeeInvalid({"email": ["This email or employee id was registered a moment ago."]}) from exc
    identity_sync_schedule(users=[user], action=Action.INVITE)
    return user
