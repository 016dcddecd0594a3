"""Reads of employees, including finding (or provisioning) the employee behind a token."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from shop.auth.verifier import Claims
from shop.models import User


def user_get_by_cognito_sub(*, sub: str) -> User | None:
    # Every API request runs this; what the project names in API_USER_SELECT_RELATED (the
    # points account) comes in the same query, so /me needs no second one.
    return User.objects.filter(cognito_sub=sub).select_related(*settings.API_USER_SELECT_RELATED).first()


def user_get_or_provision(*, claims: Claims) -> User | None:
    """The employee for a verified token, created or linked on first sight.

    Linking to an HR-registered record happens only when the token says the email is
    verified, and only to a record not yet linked to another identity. Claims fill in an
    empty profile but never overwrite balances or staff flags. Concurrent first requests
    race on the unique `cognito_sub`/`email`/`employee_id` constraints; a loser sees either
    the database's IntegrityError or, if the winner committed before its own checks ran,
    the model's uniqueness ValidationError, and then re-reads the winner's row.
    """
    user = user_get_by_cognito_sub(sub=claims.sub)
    if user is not None:
        return user
    if not claims.email:
        return None
    for _ in range(3):
        try:
            return _provision(claims)
        except (IntegrityError, ValidationError):
            user = user_get_by_cognito_sub(sub=claims.sub)
            if user is not None:
                return user
    return user_get_by_cognito_sub(sub=claims.sub)


def _provision(claims: Claims) -> User | None:
    from shop.services import user_create

    assert claims.email is not None
    with transaction.atomic():
        # Looked up again: a concurrent first request may have provisioned since the caller did.
        user = User.objects.filter(cognito_sub=claims.sub).first()
        if user is not None:
            return user
        # Locked so that concurrent first requests link the HR record one at a time; the
        # waiters then see it linked to this sub (read committed re-reads the locked row).
        existing = User.objects.select_for_update().filter(email=claims.email).first()
        if existing is not None:
            if existing.cognito_sub == claims.sub:
                return existing
            if existing.cognito_sub is not None or not claims.email_verified:
                # The email belongs to another identity, or the token does not prove it owns
                # the address: refuse rather than merge.
                return None
            existing.cognito_sub = claims.sub
            update = ["cognito_sub"]
            if not existing.name and claims.name:
                existing.name = claims.name
                update.append("name")
            if (
                not existing.employee_id
                and claims.employee_id
                and not User.objects.filter(employee_id=claims.employee_id).exists()
            ):
                existing.employee_id = claims.employee_id
                update.append("employee_id")
            existing.save(update_fields=update)
            return existing
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
