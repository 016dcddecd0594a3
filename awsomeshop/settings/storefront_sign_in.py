"""Employee sign-in to the storefront through the Cognito hosted UI: its app client's settings.

The storefront has its own app client (the design's web client, with a secret):
``STOREFRONT_OIDC_CLIENT_ID`` and ``STOREFRONT_OIDC_CLIENT_SECRET``. The hosted UI and the pool
(``COGNITO_DOMAIN``, ``AWS_REGION`` + ``COGNITO_USER_POOL_ID`` or ``COGNITO_ISSUER``,
``COGNITO_JWKS_URL``) are the admin's. Sign-in counts as configured only when all of them are
set; see docs/storefront.md, "Sign-in".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .admin_sign_in import cognito_hosted_ui


def storefront_oidc_settings(environ: Mapping[str, str], *, region: str) -> dict[str, Any]:
    """The settings module's names for storefront sign-in, from the environment."""
    client_id = environ.get("STOREFRONT_OIDC_CLIENT_ID", "").strip()
    client_secret = environ.get("STOREFRONT_OIDC_CLIENT_SECRET", "").strip()
    ui = cognito_hosted_ui(environ, region=region)
    return {
        "STOREFRONT_OIDC_ENABLED": bool(client_id and client_secret and ui["base"] and ui["issuer"]),
        "STOREFRONT_OIDC_CLIENT_ID": client_id,
        "STOREFRONT_OIDC_CLIENT_SECRET": client_secret,
        "STOREFRONT_OIDC_ISSUER": ui["issuer"],
        "STOREFRONT_OIDC_AUTHORIZATION_ENDPOINT": ui["authorize"],
        "STOREFRONT_OIDC_TOKEN_ENDPOINT": ui["token"],
        "STOREFRONT_OIDC_USER_ENDPOINT": ui["userinfo"],
        "STOREFRONT_OIDC_JWKS_ENDPOINT": ui["jwks_url"],
        "STOREFRONT_OIDC_LOGOUT_ENDPOINT": ui["logout"],
    }
