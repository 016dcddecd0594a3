"""Writes of a company sign-in: find the person behind a verified ID token and set their HR role.

The Cognito group named by ``COGNITO_HR_GROUP`` is the source of truth for the HR role. Each
sign-in re-reads it: members get ``is_staff`` and the HR group, and someone taken out of the
group loses both at their next sign-in (and is refused). An identity that matches no account
and lacks the group never gets a row. Superusers are operations accounts; they never come into
being, nor sign in, this way.
"""

from __future__ import annotations

import logging

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from shop.access.roles import HR_GROUP_NAME
from shop.auth.oidc_sign_in import SignInRefused
from shop.auth.verifier import Claims
from shop.models import User

logger = logging.getLogger(__name__)

__all__ = ["NOT_HR", "SignInRefused", "groups_of", "hr_user_sign_in"]


NOT_HR = (
    "Your company account is not in the HR group, so it cannot open the AWSomeShop back office. "
    "If you should have access, ask your identity administrator to add you to the HR group, "
    "then sign in again."
)


def groups_of(claims: Claims) -> list[str]:
    """The Cognito groups in an ID token; Cognito leaves the claim out when there are none."""
    groups = claims.raw.get("cognito:groups")
    if not isinstance(groups, list):
        return []
    return [g for g in groups if isinstance(g, str)]


def hr_user_sign_in(*, claims: Claims, hr_group: str) -> User:
    """The HR user for a verified ID token, with the role the token's groups give.

    Raises SignInRefused when the person may not open the admin; a role removed in Cognito is
    removed here first, so the refusal also takes the HR role away.
    """
    has_role = hr_group in groups_of(claims)
    for attempt in range(2):
        try:
            user = _apply_role(claims=claims, has_role=has_role)
            break
        except (IntegrityError, ValidationError) as exc:
            # Two first sign-ins of one person at once: the other created the row, and this one
            # hit the unique constraint (or, if the other committed first, the model's
            # uniqueness check). The second attempt finds that row by its sub.
            if attempt == 0:
                continue
            if isinstance(exc, ValidationError):
                raise SignInRefused(
                    "Your company account's details could not be used for a back-office account "
                    f"({'; '.join(exc.messages)}). Ask an administrator to check it.",
                    reason="invalid_profile",
                ) from exc
            raise
    if not has_role:
        raise SignInRefused(NOT_HR, reason="not_in_group")
    return user


def _apply_role(*, claims: Claims, has_role: bool) -> User:
    from shop.identity.services import user_create

    with transaction.atomic():
        user = User.objects.select_for_update().filter(cognito_sub=claims.sub).first()
        if user is None and claims.email and claims.email_verified:
            candidate = User.objects.select_for_update().filter(email=claims.email).first()
            if candidate is not None and candidate.cognito_sub == claims.sub:
                # A simultaneous first sign-in of this person committed it since the lookup above.
                user = candidate
            elif candidate is not None:
                if candidate.cognito_sub is not None:
                    # Another identity owns this email here: refuse rather than merge.
                    raise SignInRefused(
                        "This email address is linked to another company account. "
                        "Ask an administrator to check your account.",
                        reason="email_linked_elsewhere",
                    )
                candidate.cognito_sub = claims.sub
                candidate.save(update_fields=["cognito_sub"])
                user = candidate
        if user is None:
            if not has_role:
                logger.info("admin sign-in refused: unknown identity without the HR group")
                raise SignInRefused(NOT_HR, reason="not_in_group")
            if not claims.email or not claims.email_verified:
                raise SignInRefused(
                    "Your company account has no verified email address, which the back office "
                    "needs to identify you. Ask your identity administrator to verify it.",
                    reason="email_not_verified",
                )
            # An HR-only account: not on the employee roster, so it receives no points.
            user = user_create(
                email=claims.email,
                name=claims.name or "",
                cognito_sub=claims.sub,
                is_employee=False,
            )
            logger.info("admin sign-in created HR user %s", user.email)
        if user.is_superuser:
            raise SignInRefused(
                "Operations superuser accounts do not sign in with a company account.",
                reason="superuser",
            )
        if not user.is_active:
            raise SignInRefused("This account is deactivated.", reason="inactive")
        hr = Group.objects.get(name=HR_GROUP_NAME)
        if has_role:
            if not user.is_staff:
                user.is_staff = True
                user.save(update_fields=["is_staff"])
                logger.info("admin sign-in gave %s the HR role", user.email)
            user.groups.add(hr)
        else:
            if user.is_staff or user.groups.filter(pk=hr.pk).exists():
                logger.warning("admin sign-in removed the HR role from %s (not in the group)", user.email)
            user.is_staff = False
            user.save(update_fields=["is_staff"])
            user.groups.remove(hr)
        return user
