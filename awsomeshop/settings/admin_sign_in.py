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


def cognito_hosted_ui(environ: Mapping[str, str], *, region: str) -> dict[str, str]:
    """What every app client on the pool shares: the hosted UI's address, the issuer, its keys.

    The storefront's client (awsomeshop/settings/storefront_sign_in.py) reads the same ones.
    """
    domain = environ.get("COGNITO_DOMAIN", "").strip()
    pool_id = environ.get("COGNITO_USER_POOL_ID", "").strip()
    issuer = environ.get("COGNITO_ISSUER", "").strip() or (
        f"https://cognito-idp.{region}.amazonaws.com/{pool_id}" if pool_id else ""
    )
    jwks_url = environ.get("COGNITO_JWKS_URL", "").strip() or (
        f"{issuer}/.well-known/jwks.json" if issuer else ""
    )
    base = _base_url(domain) if domain else ""
    return {
        "base": base,
        "issuer": issuer,
        "jwks_url": jwks_url,
        "authorize": f"{base}/oauth2/authorize" if base else "",
        "token": f"{base}/oauth2/token" if base else "",
        "userinfo": f"{base}/oauth2/userInfo" if base else "",
        "logout": f"{base}/logout" if base else "",
    }


def admin_oidc_settings(environ: Mapping[str, str], *, region: str) -> dict[str, Any]:
    """The settings module's names for admin sign-in, from the environment."""
    client_id = environ.get("ADMIN_OIDC_CLIENT_ID", "").strip()
    client_secret = environ.get("ADMIN_OIDC_CLIENT_SECRET", "").strip()
    ui = cognito_hosted_ui(environ, region=region)
    enabled = bool(client_id and client_secret and ui["base"] and ui["issuer"])
    return {
        "ADMIN_OIDC_ENABLED": enabled,
        "ADMIN_OIDC_ISSUER": ui["issuer"],
        "COGNITO_DOMAIN_URL": ui["base"],
        # The names mozilla-django-oidc reads.
        "OIDC_RP_CLIENT_ID": client_id,
        "OIDC_RP_CLIENT_SECRET": client_secret,
        "OIDC_OP_AUTHORIZATION_ENDPOINT": ui["authorize"],
        "OIDC_OP_TOKEN_ENDPOINT": ui["token"],
        "OIDC_OP_USER_ENDPOINT": ui["userinfo"],
        "OIDC_OP_JWKS_ENDPOINT": ui["jwks_url"],
        "OIDC_OP_LOGOUT_ENDPOINT": ui["logout"],
    }
