"""Reads of employees, including finding (or provisioning) the employee behind a token."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from shop.auth.verifier import Claims
from shop.models import User


def user_get_by_cognito_sub(*, sub: str) -> User | None:
    return User.objects.filter(cognito_sub=sub).first()


def user_get_or_provision(*, claims: Claims) -> User | None:
    """The employee for a verified token, created or linked on first sight.

    Linking to an HR-registered record happens only when the token says the email is
    verified, and only to a record not yet linked to another identity. Claims fill in an
    empty profile but never overwrite balances or staff flags. Concurrent first requests
    race on the unique `cognito_sub`/`email` constraints; the loser re-reads the winner's row.
    """
    user = user_get_by_cognito_sub(sub=claims.sub)
    if user is not None:
        return user
    if not claims.email:
        return None
    for _ in range(3):
        try:
            return _provision(claims)
        except IntegrityError:
            user = User.objects.filter(cognito_sub=claims.sub).first()
            if user is not None:
                return user
    return User.objects.filter(cognito_sub=claims.sub).first()


def _provision(claims: Claims) -> User | None:
    from shop.services import user_create

    assert claims.email is not None
    with transaction.atomic():
        existing = User.objects.select_for_update().filter(email=claims.email, cognito_sub=None).first()
        if existing is not None:
            if not claims.email_verified:
                return None
            existing.cognito_sub = claims.sub
            update = ["cognito_sub"]
            if not existing.name and claims.name:
                existing.name = claims.name
                update.append("name")
            if not existing.employee_id and claims.employee_id:
                existing.employee_id = claims.employee_id
                update.append("employee_id")
            existing.save(update_fields=update)
            return existing
        if User.objects.filter(email=claims.email).exists():
            # The email belongs to another identity already: refuse rather than merge.
            return None
        employee_id = claims.employee_id
        if employee_id and User.objects.filter(employee_id=employee_id).exists():
            # Employee ids are unique; a clash is left for HR to resolve, not guessed at.
            employee_id = None
        return user_create(
            email=claims.email,
            name=claims.name or "",
            employee_id=employee_id,
            cognito_sub=claims.sub,
        )
