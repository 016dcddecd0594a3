"""A system check for a half-configured company sign-in, which would silently keep passwords."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security)
def company_sign_in_configured(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    parts = {
        "ADMIN_OIDC_CLIENT_ID": settings.OIDC_RP_CLIENT_ID,
        "ADMIN_OIDC_CLIENT_SECRET": settings.OIDC_RP_CLIENT_SECRET,
        "COGNITO_DOMAIN": settings.COGNITO_DOMAIN_URL,
        "COGNITO_USER_POOL_ID (or COGNITO_ISSUER)": settings.ADMIN_OIDC_ISSUER,
    }
    # The pool alone configures the API, and the hosted-UI domain is shared with the storefront's
    # client: only the admin's own client counts as a start.
    admin_parts = ("ADMIN_OIDC_CLIENT_ID", "ADMIN_OIDC_CLIENT_SECRET")
    if settings.ADMIN_OIDC_ENABLED or not any(parts[name] for name in admin_parts):
        return []
    missing = ", ".join(name for name, value in parts.items() if not value)
    return [
        Warning(
            f"Company sign-in to the admin is half configured: {missing} not set. Until it is, "
            "the admin keeps password sign-in and shows no company sign-in button.",
            id="shop.W101",
        )
    ]
