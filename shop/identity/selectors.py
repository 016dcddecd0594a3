"""Reads of employees, including finding (or provisioning) the employee behind a token."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet

from shop.auth.verifier import Claims
from shop.db.prepared import PreparedLookup
from shop.http.errors import NotRegistered
from shop.identity.departments import department_names
from shop.identity.provisioning import JIT, email_domain_allowed, provisioning_mode
from shop.models import User


def user_get_by_cognito_sub(*, sub: str) -> User | None:
    # Every API request runs this; what the project names in API_USER_SELECT_RELATED (the
    # points account) comes in the same query, so /me needs no second one. The statement is
    # compiled once per database (shop.db.prepared): building it was most of its CPU cost.
    return _USER_BY_SUB.first(connection, sub)


def _user_by_sub_query(value: object) -> QuerySet[User]:
    # cognito_sub is unique, so no ordering is needed to pick "the" row.
    return User.objects.filter(cognito_sub=value).select_related(*settings.API_USER_SELECT_RELATED).order_by()


_USER_BY_SUB = PreparedLookup(_user_by_sub_query, key=lambda: tuple(settings.API_USER_SELECT_RELATED))


def user_get_or_provision(*, claims: Claims) -> User | None:
    """The employee for a verified token, linked (or, in `jit` mode, created) on first sight.

    A new identity is linked only to an active employee on the roster whose record is not yet
    linked to another identity, found by the token's verified email or its
    `custom:employee_id`; if the two name different records, nobody is linked. In `roster` mode
    that is the only way in: anyone else raises `NotRegistered` and nothing is written. In
    `jit` mode a verified identity with no record (within EMPLOYEE_EMAIL_DOMAINS when set)
    becomes a new employee. Returns None when the token carries no profile to match on (an
    access token whose attributes could not be read).

    Claims fill in an empty profile but never overwrite balances or staff flags. Concurrent
    first requests race on the unique `cognito_sub`/`email`/`employee_id` constraints; a loser
    sees either the database's IntegrityError or, if the winner committed before its own checks
    ran, the model's uniqueness ValidationError, and then re-reads the winner's row.
    """
    user = user_get_by_cognito_sub(sub=claims.sub)
    if user is not None:
        return user
    if not claims.email and not _employee_id(claims):
        return None
    for _ in range(3):
        try:
            return _link_or_create(claims)
        except (IntegrityError, ValidationError):
            user = user_get_by_cognito_sub(sub=claims.sub)
            if user is not None:
                return user
    return user_get_by_cognito_sub(sub=claims.sub)


def _employee_id(claims: Claims) -> str | None:
    return (claims.employee_id or "").strip() or None


def _link_or_create(claims: Claims) -> User:
    from shop.identity.services import user_create

    employee_id = _employee_id(claims)
    email = claims.email if claims.email and claims.email_verified else None
    with transaction.atomic():
        # Looked up again: a concurrent first request may have linked it since the caller did.
        user = User.objects.filter(cognito_sub=claims.sub).first()
        if user is not None:
            return user
        match = Q(pk__in=[])
        if email:
            match |= Q(email=email)
        if employee_id:
            match |= Q(employee_id=employee_id)
        # Locked in primary-key order so that concurrent first requests link one at a time;
        # the waiters then see the record linked to this sub (read committed re-reads it).
        candidates = list(User.objects.select_for_update().filter(match).order_by("pk"))
        if candidates:
            return _link(claims, candidates, email=email, employee_id=employee_id)
        if provisioning_mode() != JIT:
            raise NotRegistered(_not_registered_detail(claims))
        if not email:
            raise NotRegistered(
                "Your sign-in does not show a verified email address, so no employee account "
                "can be opened for it. Verify your email address and sign in again."
            )
        if not email_domain_allowed(email):
            raise NotRegistered(
                f"Employee accounts are opened only for company email addresses; {email} is not one."
            )
        if employee_id and User.objects.filter(employee_id=employee_id).exists():
            # Employee ids are unique; a clash is left for HR to resolve, not guessed at.
            employee_id = None
        return user_create(
            email=email, name=claims.name or "", employee_id=employee_id, cognito_sub=claims.sub
        )


def _link(claims: Claims, candidates: list[User], *, email: str | None, employee_id: str | None) -> User:
    if len(candidates) > 1:
        raise NotRegistered(
            "Your email address and employee id belong to two different employee records; "
            "ask HR to correct the roster."
        )
    (existing,) = candidates
    if existing.cognito_sub == claims.sub:
        return existing
    if existing.cognito_sub is not None:
        raise NotRegistered(
            "The employee record for your email address is already linked to another sign-in; "
            "ask HR to check the account."
        )
    if not existing.is_active or not existing.is_employee:
        raise NotRegistered(
            "Your account is not an active employee of the shop; ask HR if this is a mistake."
        )
    existing.cognito_sub = claims.sub
    update = ["cognito_sub"]
    if not existing.name and claims.name:
        existing.name = claims.name
        update.append("name")
    if not existing.employee_id and employee_id:
        existing.employee_id = employee_id
        update.append("employee_id")
    existing.save(update_fields=update)
    return existing


def _not_registered_detail(claims: Claims) -> str:
    if claims.email and not claims.email_verified:
        return (
            "Your sign-in does not show a verified email address, so it cannot be matched to "
            "an employee registered by HR. Verify your email address and sign in again."
        )
    who = claims.email or f"employee id {claims.employee_id}"
    return (
        f"You signed in as {who}, but HR has not registered you as an employee of the shop. "
        "Ask HR to register you with the email address you sign in with."
    )


def departments_list(*, active_only: bool = True) -> list[str]:
    """HR's departments by name, sorted (one query): the active ones to choose for employees and
    grants, or all of them (reports, which keep a department after it is closed)."""
    return department_names(active_only=active_only)


def department_members(*, department: str) -> list[User]:
    """Everyone recorded in ``department`` (active or not), in lock order; none for a blank name."""
    if not department:
        return []
    return list(User.objects.filter(department=department).order_by("pk"))
