"""A browser sign-in through one Cognito app client: mozilla-django-oidc's code flow with PKCE.

The library reads one global set of ``OIDC_*`` settings, but the project has two app clients:
HR's admin client and the employees' storefront (web) client, on the same user pool and hosted
UI. Each view and backend here names its client (``oidc_client``) and maps the library's
setting names to that client's own (``oidc_setting_names``), so the two coexist. They are kept
apart, not merely side by side:

- a sign-in's state is tagged in the session with the client that started it, and a callback
  refuses a state another client started (the library keeps every state in one dictionary);
- the callback marks the request with its client, and a backend exchanges a code only for its
  own client's callback: Django tries every backend in turn, so without the mark the admin's
  backend would spend a storefront code at the token endpoint (and fail), or the reverse.

The ID token is checked by the same verifier as the API's tokens (RS256 only, the pool's
issuer, ``aud`` = this client, ``token_use`` = id, expiry) plus the nonce, because the
library's own check skips issuer and audience.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from shop.auth.factory import jwks_key_provider
from shop.auth.verifier import Claims, InvalidToken, TokenVerifier
from shop.models import User

logger = logging.getLogger(__name__)

# The request attribute a callback view sets to the client whose callback it is.
REQUEST_CLIENT_ATTR = "awsomeshop_oidc_client"
# The key, in the library's per-state session entry, of the client that started the sign-in.
STATE_CLIENT_KEY = "client"


class SignInRefused(Exception):
    """The identity may not sign in; ``detail`` is shown to the person, ``reason`` is for code."""

    def __init__(self, detail: str, *, reason: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.reason = reason


# Reasons of a refusal that is about the token exchange, not about who the person is.
VERIFICATION_REASONS = frozenset({"no_id_token", "invalid_token", "nonce_mismatch"})


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


class OidcClientSettings:
    """The library's settings, read as one app client's.

    ``oidc_setting_names`` maps a library name (and the two names this module adds,
    ``OIDC_ENABLED`` and ``OIDC_ISSUER``) to the project setting that holds this client's
    value; names it does not list (PKCE, scopes, timeouts) are shared by every client.
    """

    oidc_client: ClassVar[str] = ""
    oidc_setting_names: ClassVar[Mapping[str, str]] = {}

    def get_settings(self, attr: str, *args: Any) -> Any:
        return import_from_settings(self.oidc_setting_names.get(attr, attr), *args)


class CognitoSignInBackend(OidcClientSettings, OIDCAuthenticationBackend):
    """The code exchange and the ID token check; subclasses say who the identity becomes."""

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> User | None:
        # Only this client's callback view passes a code verifier and marks the request: a
        # password form that happens to carry ?code= and ?state=, or the other client's
        # callback, must not start a token exchange here.
        if (
            not self.get_settings("OIDC_ENABLED")
            or request is None
            or not kwargs.get("code_verifier")
            or getattr(request, REQUEST_CLIENT_ATTR, None) != self.oidc_client
        ):
            return None
        user: User | None = super().authenticate(request, **kwargs)
        return user

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        if not isinstance(token, str) or not token:
            raise SignInRefused("Cognito returned no ID token.", reason="no_id_token")
        verifier = _id_token_verifier(
            self.OIDC_OP_JWKS_ENDPOINT,
            self.get_settings("OIDC_ISSUER"),
            self.OIDC_RP_CLIENT_ID,
            settings.JWT_LEEWAY_SECONDS,
        )
        try:
            claims = verifier.verify(token)
        except InvalidToken as exc:
            logger.warning("%s sign-in: ID token refused: %s", self.oidc_client, exc)
            raise SignInRefused("The sign-in could not be verified.", reason="invalid_token") from exc
        if claims.token_use != "id":
            raise SignInRefused("The sign-in could not be verified.", reason="invalid_token")
        if claims.raw.get("nonce") != kwargs.get("nonce"):
            logger.warning("%s sign-in: ID token nonce does not match the one sent", self.oidc_client)
            raise SignInRefused("The sign-in could not be verified.", reason="nonce_mismatch")
        self._claims = claims
        return claims.raw

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> User:
        # The claims come from the verified ID token itself, so no userinfo call is made.
        return self.user_for_claims(self._claims)

    def user_for_claims(self, claims: Claims) -> User:
        """The account this verified identity signs in as; raises SignInRefused otherwise."""
        raise NotImplementedError


class CognitoSignInStartView(OidcClientSettings, OIDCAuthenticationRequestView):
    """To the hosted UI; the sign-in's state remembers which client started it."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if not self.get_settings("OIDC_ENABLED"):
            raise Http404("Company sign-in is not configured.")
        response: HttpResponse = super().get(request)
        (state,) = parse_qs(urlsplit(response["Location"]).query)["state"]
        request.session["oidc_states"][state][STATE_CLIENT_KEY] = self.oidc_client
        request.session.modified = True
        return response


class CognitoSignInCallbackView(OidcClientSettings, OIDCAuthenticationCallbackView):
    """The library's callback, for this client's sign-ins only.

    Raises SuspiciousOperation (as the library does for an unknown state) when the state was
    started by another client; subclasses turn it into a page.
    """

    def get(self, request: HttpRequest) -> HttpResponse:
        setattr(request, REQUEST_CLIENT_ATTR, self.oidc_client)
        state = request.GET.get("state")
        states = request.session.get("oidc_states")
        entry = states.get(state) if "code" in request.GET and isinstance(states, dict) else None
        if entry is not None and entry.get(STATE_CLIENT_KEY) != self.oidc_client:
            raise SuspiciousOperation("OIDC callback state was started by another app client")
        response: HttpResponse = super().get(request)
        return response
