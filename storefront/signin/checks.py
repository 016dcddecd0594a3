"""System checks for employee sign-in: a half-configured client, and local links where they must not be.

Both are security checks, so production's WSGI entry point refuses to start on an error
(shop.auth.checks.refuse_to_serve_if_misconfigured). Production is told apart as shop.auth.checks does:
it is the settings module without the local token issuer.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register


@register(Tags.security)
def storefront_sign_in_configured(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    parts = {
        "STOREFRONT_OIDC_CLIENT_ID": settings.STOREFRONT_OIDC_CLIENT_ID,
        "STOREFRONT_OIDC_CLIENT_SECRET": settings.STOREFRONT_OIDC_CLIENT_SECRET,
        "COGNITO_DOMAIN": settings.STOREFRONT_OIDC_AUTHORIZATION_ENDPOINT,
        "COGNITO_USER_POOL_ID (or COGNITO_ISSUER)": settings.STOREFRONT_OIDC_ISSUER,
    }
    messages: list[CheckMessage] = []
    # Only the storefront client's own variables count as a start: the domain and the pool
    # alone are the admin's and the API's configuration.
    own = ("STOREFRONT_OIDC_CLIENT_ID", "STOREFRONT_OIDC_CLIENT_SECRET")
    if not settings.STOREFRONT_OIDC_ENABLED and any(parts[name] for name in own):
        missing = ", ".join(name for name, value in parts.items() if not value)
        text = (
            f"Employee sign-in to the storefront is half configured: {missing} not set. Until it "
            "is, employees cannot sign in to the storefront."
        )
        if settings.LOCAL_ISSUER_ENABLED:
            messages.append(Warning(text, id="storefront.W001"))
        else:
            messages.append(
                Error(text, hint="Set every part of the storefront's app client.", id="storefront.E001")
            )
    if settings.STOREFRONT_LOCAL_SIGN_IN and not settings.LOCAL_ISSUER_ENABLED:
        messages.append(
            Error(
                "STOREFRONT_LOCAL_SIGN_IN is on without the local token issuer (production).",
                hint="One-time sign-in links sign anyone with shell access in as any employee; "
                "production signs employees in through Cognito only.",
                id="storefront.E002",
            )
        )
    return messages
