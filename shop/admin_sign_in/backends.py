"""Authentication backends for the admin: Cognito sign-in (OIDC) and the password policy."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from shop.admin_sign_in.services import SignInRefused, hr_user_sign_in
from shop.auth.factory import jwks_key_provider
from shop.auth.verifier import Claims, InvalidToken, TokenVerifier
from shop.models import User

logger = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def _id_token_verifier(jwks_url: str, issuer: str, client_id: str, leeway: int) -> TokenVerifier:
    # One verifier per configuration, shared by every sign-in in the process; its keys are the
    # API verifier's (the same pool's key set).
    return TokenVerifier(
        key_provider=jwks_key_provider(jwks_url),
        issuer=issuer,
        client_id=client_id,
        leeway=leeway,
    )


class CognitoAdminBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's code flow, with Cognito's ID token rules and the HR role mapping.

    The library exchanges the code (with the PKCE verifier) at the token endpoint; the ID token
    is then checked by the same verifier as the API's tokens (RS256 only, the pool's issuer,
    ``aud`` = the admin client, ``token_use`` = id, expiry) plus the nonce, because the
    library's own check skips issuer and audience. The groups come from the ID token itself
    (``cognito:groups``), so no userinfo call is made.
    """

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> User | None:
        # Only the callback view passes a code verifier: a password form that happens to carry
        # ?code= and ?state= must not start a token exchange.
        if not settings.ADMIN_OIDC_ENABLED or request is None or not kwargs.get("code_verifier"):
            return None
        user: User | None = super().authenticate(request, **kwargs)
        return user

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        if not isinstance(token, str) or not token:
            raise SignInRefused("Cognito returned no ID token.", reason="no_id_token")
        verifier = _id_token_verifier(
            self.OIDC_OP_JWKS_ENDPOINT,
            settings.ADMIN_OIDC_ISSUER,
            self.OIDC_RP_CLIENT_ID,
            settings.JWT_LEEWAY_SECONDS,
        )
        try:
            claims = verifier.verify(token)
        except InvalidToken as exc:
            logger.warning("admin sign-in: ID token refused: %s", exc)
            raise SignInRefused("The sign-in could not be verified.", reason="invalid_token") from exc
        if claims.token_use != "id":
            raise SignInRefused("The sign-in could not be verified.", reason="invalid_token")
        if claims.raw.get("nonce") != kwargs.get("nonce"):
            logger.warning("admin sign-in: ID token nonce does not match the one sent")
            raise SignInRefused("The sign-in could not be verified.", reason="nonce_mismatch")
        self._claims = claims
        return claims.raw

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> User:
        claims: Claims = self._claims
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
