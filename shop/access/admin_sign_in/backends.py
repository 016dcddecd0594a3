"""Authentication backends for the admin: Cognito sign-in (OIDC) and the password policy."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from shop.access.admin_sign_in.services import hr_user_sign_in
from shop.auth.oidc_sign_in import CognitoSignInBackend, _id_token_verifier
from shop.auth.verifier import Claims
from shop.models import User

__all__ = ["CognitoAdminBackend", "PasswordLoginBackend", "_id_token_verifier"]

logger = logging.getLogger(__name__)

# The admin's client reads the library's own OIDC_* names; these two are the admin's.
ADMIN_SETTING_NAMES = {"OIDC_ENABLED": "ADMIN_OIDC_ENABLED", "OIDC_ISSUER": "ADMIN_OIDC_ISSUER"}


class CognitoAdminBackend(CognitoSignInBackend):
    """mozilla-django-oidc's code flow on the admin's app client, with the HR role mapping.

    The code exchange and the ID token check are shop.auth.oidc_sign_in's (the storefront's
    client shares them). The groups come from the ID token itself (``cognito:groups``).
    """

    oidc_client: ClassVar[str] = "admin"
    oidc_setting_names = ADMIN_SETTING_NAMES

    def user_for_claims(self, claims: Claims) -> User:
        return hr_user_sign_in(claims=claims, hr_group=settings.COGNITO_HR_GROUP)


class PasswordLoginBackend(ModelBackend):
    """Django's email-and-password check, switched off where company sign-in replaces it.

    With ``ADMIN_PASSWORD_LOGIN`` off (production with company sign-in configured), a correct
    password still signs in only a superuser listed in ``ADMIN_BREAK_GLASS_EMAILS``, and every
    such sign-in is logged at CRITICAL so it pages someone. Lockouts still apply: django-axes
    runs first and counts every refusal here as a failure.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None or settings.ADMIN_PASSWORD_LOGIN:
            return user
        if self._break_glass(user):
            logger.critical(
                "BREAK-GLASS: password sign-in to the admin by superuser %s; company sign-in is "
                "bypassed. Review this use and rotate the password afterwards.",
                user.email,
            )
            return user
        logger.warning("admin password sign-in refused for %s: company sign-in is required", user.email)
        return None

    def get_user(self, user_id: Any) -> User | None:
        # A session opened with a password before passwords were switched off ends now,
        # rather than outliving the policy by the session's two weeks.
        user = super().get_user(user_id)
        if user is None or settings.ADMIN_PASSWORD_LOGIN or self._break_glass(user):
            return user
        return None

    @staticmethod
    def _break_glass(user: User) -> bool:
        return user.is_superuser and user.email.lower() in settings.ADMIN_BREAK_GLASS_EMAILS
