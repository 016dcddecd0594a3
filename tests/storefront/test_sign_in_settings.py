"""The storefront client's settings, its system checks, and what production refuses.

Production settings are read once per process, so they are checked in a child process, as an
operator (or the container's start) runs them, like tests/shop/test_production_fails_closed.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from awsomeshop.settings.storefront_sign_in import storefront_oidc_settings
from storefront.signin.checks import storefront_sign_in_configured

ROOT = Path(__file__).resolve().parents[2]
CONFIGURED = {
    "STOREFRONT_OIDC_CLIENT_ID": "web-client",
    "STOREFRONT_OIDC_CLIENT_SECRET": "web-secret",
    "COGNITO_DOMAIN": "awsomeshop-prod.auth.eu-west-1.amazoncognito.com",
    "COGNITO_USER_POOL_ID": "eu-west-1_Pool12345",
}
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "awsomeshop.settings.production",
    "DJANGO_SECRET_KEY": "k3H9vQ2mZx7pL0sT4wR8yB1nC6dF5gJ2hK9qW3eR7tY0uI4oP8aS2dF6gH1jK5lZ9xC3vB7",
    "DATABASE_URL": "sqlite:///:memory:",
    "COGNITO_USER_POOL_ID": "us-east-2_Prod1",
    "COGNITO_CLIENT_ID": "prod-app-client",
    "APP_DOMAIN": "shop.example.com",
    # Even asked for, production does not turn the local links on.
    "STOREFRONT_LOCAL_SIGN_IN": "true",
}


def run_production(*args: str, **overrides: str) -> subprocess.CompletedProcess[str]:
    prefixes = (
        "DJANGO_",
        "DATABASE_URL",
        "DB_",
        "COGNITO_",
        "APP_DOMAIN",
        "ALLOWED_HOSTS",
        "STOREFRONT_",
        "ADMIN_",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.update(PRODUCTION, **overrides)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_storefront_client_shares_the_hosted_ui_and_the_pool_with_the_admin():
    s = storefront_oidc_settings(CONFIGURED, region="eu-west-1")
    assert s["STOREFRONT_OIDC_ENABLED"] is True
    ui = "https://awsomeshop-prod.auth.eu-west-1.amazoncognito.com"
    assert s["STOREFRONT_OIDC_AUTHORIZATION_ENDPOINT"] == f"{ui}/oauth2/authorize"
    assert s["STOREFRONT_OIDC_TOKEN_ENDPOINT"] == f"{ui}/oauth2/token"
    assert s["STOREFRONT_OIDC_LOGOUT_ENDPOINT"] == f"{ui}/logout"
    issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool12345"
    assert s["STOREFRONT_OIDC_ISSUER"] == issuer
    assert s["STOREFRONT_OIDC_JWKS_ENDPOINT"] == f"{issuer}/.well-known/jwks.json"
    assert (s["STOREFRONT_OIDC_CLIENT_ID"], s["STOREFRONT_OIDC_CLIENT_SECRET"]) == (
        "web-client",
        "web-secret",
    )


def test_each_missing_part_leaves_storefront_sign_in_unconfigured():
    for missing in CONFIGURED:
        environ = {k: v for k, v in CONFIGURED.items() if k != missing}
        assert storefront_oidc_settings(environ, region="eu-west-1")["STOREFRONT_OIDC_ENABLED"] is False, (
            missing
        )


def test_a_half_configured_client_is_a_warning_locally(settings):
    settings.STOREFRONT_OIDC_ENABLED = False
    settings.STOREFRONT_OIDC_CLIENT_ID = "web-client"
    settings.STOREFRONT_OIDC_CLIENT_SECRET = ""
    settings.STOREFRONT_OIDC_AUTHORIZATION_ENDPOINT = "https://login.example.com/oauth2/authorize"
    settings.STOREFRONT_OIDC_ISSUER = ""
    (warning,) = storefront_sign_in_configured()
    assert warning.id == "storefront.W001"
    assert "STOREFRONT_OIDC_CLIENT_SECRET, COGNITO_USER_POOL_ID (or COGNITO_ISSUER) not set" in warning.msg
    settings.STOREFRONT_OIDC_CLIENT_ID = ""
    assert storefront_sign_in_configured() == []  # the domain alone is the admin's


def test_local_links_without_the_local_issuer_are_an_error(settings):
    settings.LOCAL_ISSUER_ENABLED = False
    settings.STOREFRONT_LOCAL_SIGN_IN = True
    (error,) = storefront_sign_in_configured()
    assert error.id == "storefront.E002" and error.is_serious()
    settings.STOREFRONT_LOCAL_SIGN_IN = False
    assert storefront_sign_in_configured() == []


def test_production_refuses_the_sign_in_link_command():
    result = run_production("manage.py", "storefront_login_url", "--email", "alice@example.com")
    assert result.returncode == 1
    assert "One-time sign-in links are switched off here" in result.stderr


def test_production_answers_a_sign_in_link_with_not_found_and_signs_nobody_in():
    # A token signed with production's own key: the link is refused before it is even read.
    code = """
import django; django.setup()
from django.core import signing
from django.test import Client
from storefront.signin.links import SALT
token = signing.dumps({"u": "00000000-0000-0000-0000-000000000001", "f": "x"}, salt=SALT)
response = Client().get(f"/signin/link/{token}/", HTTP_HOST="shop.example.com", secure=True)
from django.conf import settings
print("RESULT", response.status_code, "sessionid" in response.cookies, settings.STOREFRONT_LOCAL_SIGN_IN)
"""
    result = run_production("-c", code)
    assert result.returncode == 0, result.stderr
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    assert line == "RESULT 404 False False"


def test_production_session_cookie_is_secure_httponly_and_lax():
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE, "
        "s.STOREFRONT_SESSION_SECONDS)"
    )
    result = run_production("-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-4:] == ["True", "True", "Lax", "28800"]


def test_production_with_a_half_configured_storefront_client_refuses_to_start():
    half = {"COGNITO_DOMAIN": "auth.example.com", "STOREFRONT_OIDC_CLIENT_ID": "web-client"}
    result = run_production("manage.py", "check", **half)
    assert result.returncode == 1
    assert "(storefront.E001)" in result.stderr and "STOREFRONT_OIDC_CLIENT_SECRET" in result.stderr
    refused = run_production("-c", "import awsomeshop.wsgi", **half)
    assert refused.returncode != 0 and "storefront.E001" in refused.stderr


def test_production_with_the_storefront_client_configured_passes_check_deploy():
    full = {
        "COGNITO_DOMAIN": "auth.example.com",
        "STOREFRONT_OIDC_CLIENT_ID": "web-client",
        "STOREFRONT_OIDC_CLIENT_SECRET": "web-secret",
    }
    result = run_production("manage.py", "check", "--deploy", "--fail-level", "WARNING", **full)
    assert result.returncode == 0, result.stderr
    assert "no issues (0 silenced)" in result.stdout
