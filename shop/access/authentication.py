"""DRF authentication: a verified bearer token becomes an employee (linked on first sight).

A first-seen identity that is not on the roster is refused with 403 `not_registered`
(shop.identity.selectors.user_get_or_provision); nothing is written for it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from shop.auth.budget import network_budget
from shop.auth.cognito_profile import claims_complete_from_cognito
from shop.auth.factory import get_verifier
from shop.auth.verifier import Claims, InvalidToken, VerifierUnavailable
from shop.http.errors import ServiceUnavailable
from shop.identity.selectors import user_get_by_cognito_sub, user_get_or_provision
from shop.models import User


class BearerTokenAuthentication(BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[User, Claims] | None:
        header = get_authorization_header(request).split()
        if not header:
            return None
        if header[0].lower() != self.keyword:
            raise exceptions.AuthenticationFailed("Use an Authorization: Bearer <token> header.")
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("The Authorization header is malformed.")
        try:
            token = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("The token is malformed.") from None
        try:
            # JWKS and GetUser share one time budget: a stalled Cognito costs seconds, not workers.
            with network_budget(settings.AUTH_NETWORK_BUDGET_SECONDS):
                claims = get_verifier().verify(token)
                user = self._employee_for(claims=claims, token=token)
        except InvalidToken:
            raise exceptions.AuthenticationFailed("The token is invalid or expired.") from None
        except VerifierUnavailable:
            raise ServiceUnavailable(
                "Sign-in cannot be checked right now because the identity provider is "
                "unreachable; retry later."
            ) from None
        if user is None:
            raise exceptions.AuthenticationFailed(
                "This token does not identify an employee yet and carries no email address to "
                "match: sign in once with an ID token.",
                code="unregistered",  # the reason AuthFailure is counted under
            )
        return user, claims

    @staticmethod
    def _employee_for(*, claims: Claims, token: str) -> User | None:
        user = user_get_by_cognito_sub(sub=claims.sub)
        if user is not None:
            return user
        profile = claims
        if claims.token_use == "access" and settings.COGNITO_USER_POOL_ID:
            # Outside any transaction: a network call to Cognito for the missing attributes.
            profile = claims_complete_from_cognito(claims=claims, access_token=token)
        return user_get_or_provision(claims=profile)

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


def request_employee(request: Request) -> User:
    """The signed-in employee of an API request (the permission class guarantees one)."""
    user = request.user
    if not isinstance(user, User):
        raise exceptions.NotAuthenticated()
    return user


def get_claims(request: Any) -> Claims | None:
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, Claims) else None
