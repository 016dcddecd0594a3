"""HR sign-in to the admin through the Cognito hosted UI: the OpenID Connect settings.

Everything is derived from a few variables: the admin's app client (``ADMIN_OIDC_CLIENT_ID``,
``ADMIN_OIDC_CLIENT_SECRET``), the hosted-UI domain (``COGNITO_DOMAIN``: a host such as
``awsomeshop-prod.auth.us-east-2.amazoncognito.com`` or a custom domain; a full URL with a
scheme is taken as it is, for a local provider) and the pool (``AWS_REGION`` +
``COGNITO_USER_POOL_ID``, which name the token issuer and its keys). Sign-in counts as
configured only when all of them are set; see docs/authentication.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _base_url(domain: str) -> str:
    domain = domain.strip().rstrip("/")
    if "://" in domain:
        return domain
    return f"https://{domain}"


def admin_oidc_settings(environ: Mapping[str, str], *, region: str) -> dict[str, Any]:
    """The settings module's names for admin sign-in, from the environment."""
    client_id = environ.get("ADMIN_OIDC_CLIENT_ID", "").strip()
    client_secret = environ.get("ADMIN_OIDC_CLIENT_SECRET", "").strip()
    domain = environ.get("COGNITO_DOMAIN", "").strip()
    pool_id = environ.get("COGNITO_USER_POOL_ID", "").strip()
    issuer = environ.get("COGNITO_ISSUER", "").strip() or (
        f"https://cognito-idp.{region}.amazonaws.com/{pool_id}" if pool_id else ""
    )
    jwks_url = environ.get("COGNITO_JWKS_URL", "").strip() or (
        f"{issuer}/.well-known/jwks.json" if issuer else ""
    )
    base = _base_url(domain) if domain else ""
    enabled = bool(client_id and client_secret and base and issuer)
    return {
        "ADMIN_OIDC_ENABLED": enabled,
        "ADMIN_OIDC_ISSUER": issuer,
        "COGNITO_DOMAIN_URL": base,
        # The names mozilla-django-oidc reads.
        "OIDC_RP_CLIENT_ID": client_id,
        "OIDC_RP_CLIENT_SECRET": client_secret,
        "OIDC_OP_AUTHORIZATION_ENDPOINT": f"{base}/oauth2/authorize" if base else "",
        "OIDC_OP_TOKEN_ENDPOINT": f"{base}/oauth2/token" if base else "",
        "OIDC_OP_USER_ENDPOINT": f"{base}/oauth2/userInfo" if base else "",
        "OIDC_OP_JWKS_ENDPOINT": jwks_url,
        "OIDC_OP_LOGOUT_ENDPOINT": f"{base}/logout" if base else "",
    }
