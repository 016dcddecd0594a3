"""Writes that concern employees: creating one always creates its points account too."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

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


def users_deactivate(*, users: Iterable[User]) -> list[User]:
    """Deactivate employees: they can no longer sign in or order; their points and history stay."""
    changed = [user for user in users if user.is_active]
    for user in changed:
        user.is_active = False
        user.save(update_fields=["is_active"])
    return changed
