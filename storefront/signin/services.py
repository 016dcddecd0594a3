"""Who may sign in to the storefront: the API's roster rule, then "an active employee" only.

The identity behind a verified ID token becomes an employee exactly as a bearer token does on
the API (shop.identity.selectors.user_get_or_provision: by verified email or ``custom:employee_id``,
linking ``cognito_sub``; in ``jit`` mode a new employee is created). Someone HR has not
registered is refused and nothing is written. Accounts that exist but are not employees (HR-only,
operations superusers) and deactivated employees are refused too.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from shop.auth.oidc_sign_in import SignInRefused
from shop.auth.verifier import Claims
from shop.http.errors import NotRegistered
from shop.identity.selectors import user_get_or_provision
from shop.models import User


def employee_sign_in_check(*, user: User) -> User:
    """The user, if they may use the storefront; raises SignInRefused (writes nothing) otherwise."""
    if user.is_superuser:
        raise SignInRefused(
            _("Operations accounts do not sign in to the shop. Sign in with your employee account."),
            reason="not_employee",
        )
    if not user.is_employee:
        raise SignInRefused(
            _(
                "This account is a back-office account, not an employee account, so it has no "
                "points to spend. If you are also an employee, ask HR to register you as one."
            ),
            reason="not_employee",
        )
    if not user.is_active:
        raise SignInRefused(
            _("Your account has been deactivated. If you think this is a mistake, contact HR."),
            reason="inactive",
        )
    return user


def employee_for_claims(*, claims: Claims) -> User:
    """The employee a verified ID token signs in as (linked on first sign-in, as on the API)."""
    try:
        user = user_get_or_provision(claims=claims)
    except NotRegistered as exc:
        raise SignInRefused(exc.detail, reason="not_registered") from exc
    if user is None:
        # An ID token always carries the email scope; this is a pool that sends neither claim.
        raise SignInRefused(NotRegistered.default_detail, reason="not_registered")
    return employee_sign_in_check(user=user)
