"""Builds the one verifier the process uses, from settings: Cognito if configured, else local."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from shop.auth.keys import JWKSKeyProvider, StaticKeyProvider
from shop.auth.verifier import TokenVerifier


def cognito_issuer(region: str, pool_id: str) -> str:
    return f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"


@lru_cache(maxsize=4)
def jwks_key_provider(jwks_url: str) -> JWKSKeyProvider:
    """One key cache per key set in the process: the API's verifier and HR's sign-in check
    tokens of the same pool, so they share its keys and refetch them once after a rotation."""
    return JWKSKeyProvider(
        jwks_url,
        min_refetch_interval=settings.COGNITO_JWKS_MIN_REFETCH_SECONDS,
        timeout=settings.COGNITO_JWKS_TIMEOUT_SECONDS,
    )


@lru_cache(maxsize=1)
def get_verifier() -> TokenVerifier:
    if settings.COGNITO_USER_POOL_ID:
        issuer = settings.COGNITO_ISSUER or cognito_issuer(settings.AWS_REGION, settings.COGNITO_USER_POOL_ID)
        jwks_url = settings.COGNITO_JWKS_URL or f"{issuer}/.well-known/jwks.json"
        return TokenVerifier(
            key_provider=jwks_key_provider(jwks_url),
            issuer=issuer,
            client_id=settings.COGNITO_CLIENT_ID,
            leeway=settings.JWT_LEEWAY_SECONDS,
            cache_size=settings.JWT_VERIFIED_CACHE_SIZE,
        )
    from shop.auth.local_issuer import get_local_issuer

    local = get_local_issuer()  # refuses when disabled (production), never a silent fallback
    return TokenVerifier(
        key_provider=StaticKeyProvider({local.kid: local.public_key}),
        issuer=local.issuer,
        client_id=local.client_id,
        leeway=settings.JWT_LEEWAY_SECONDS,
        cache_size=settings.JWT_VERIFIED_CACHE_SIZE,
    )


_VERIFIER_SETTINGS = {
    "COGNITO_USER_POOL_ID",
    "COGNITO_CLIENT_ID",
    "COGNITO_JWKS_URL",
    "COGNITO_ISSUER",
    "COGNITO_JWKS_MIN_REFETCH_SECONDS",
    "COGNITO_JWKS_TIMEOUT_SECONDS",
    "AWS_REGION",
    "JWT_LEEWAY_SECONDS",
    "JWT_VERIFIED_CACHE_SIZE",
    "LOCAL_ISSUER_ENABLED",
}


@receiver(setting_changed)
def _rebuild_on_settings_change(*, setting: str, **kwargs: Any) -> None:
    # Tests switch between local and Cognito mode with override_settings; the next request
    # must see the new configuration, not the verifier built for the old one.
    if setting in _VERIFIER_SETTINGS:
        get_verifier.cache_clear()
        jwks_key_provider.cache_clear()
