"""Builds the one verifier the process uses, from settings: Cognito if configured, else local."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings

from shop.auth.keys import JWKSKeyProvider, StaticKeyProvider
from shop.auth.verifier import TokenVerifier


def cognito_issuer(region: str, pool_id: str) -> str:
    return f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"


@lru_cache(maxsize=1)
def get_verifier() -> TokenVerifier:
    if settings.COGNITO_USER_POOL_ID:
        issuer = settings.COGNITO_ISSUER or cognito_issuer(settings.AWS_REGION, settings.COGNITO_USER_POOL_ID)
        jwks_url = settings.COGNITO_JWKS_URL or f"{issuer}/.well-known/jwks.json"
        return TokenVerifier(
            key_provider=JWKSKeyProvider(jwks_url),
            issuer=issuer,
            client_id=settings.COGNITO_CLIENT_ID,
            leeway=settings.JWT_LEEWAY_SECONDS,
        )
    from shop.auth.local_issuer import get_local_issuer

    local = get_local_issuer()
    return TokenVerifier(
        key_provider=StaticKeyProvider({local.kid: local.public_key}),
        issuer=local.issuer,
        client_id=local.client_id,
        leeway=settings.JWT_LEEWAY_SECONDS,
    )
