"""Admin passwords where company sign-in replaces them: only the break-glass superuser, locked out
like everyone else and logged loudly; local development keeps password sign-in."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from shop.identity.services import user_create
from shop.models import User

ROOT = Path(__file__).resolve().parents[2]
IP = "203.0.113.7"
HR_PASSWORD = "hr-Secret-Passw0rd"
ROOT_PASSWORD = "root-Secret-Passw0rd"


def _login(email: str, password: str) -> Any:
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": email, "password": password, "next": "/admin/"},
        REMOTE_ADDR=IP,
    )
    response.signed_in = "_auth_user_id" in client.session
    return response


@pytest.fixture
def accounts(db: None) -> dict[str, User]:
    return {
        "hr": user_create(email="hr@example.com", name="HR", password=HR_PASSWORD, is_staff=True),
        "root": User.objects.create_superuser("root@example.com", ROOT_PASSWORD, name="Root"),
        "ops": User.objects.create_superuser("ops@example.com", ROOT_PASSWORD, name="Ops"),
    }


@pytest.fixture
def company_sign_in_only(settings: Any) -> None:
    """What production settings give when company sign-in is configured."""
    settings.ADMIN_OIDC_ENABLED = True
    settings.ADMIN_PASSWORD_LOGIN = False
    settings.ADMIN_BREAK_GLASS_EMAILS = ["root@example.com", "hr@example.com"]


def test_local_development_keeps_password_sign_in(accounts, settings):
    assert settings.ADMIN_PASSWORD_LOGIN is True
    response = _login("hr@example.com", HR_PASSWORD)
    assert response.status_code == 302 and response.signed_in


def test_hr_password_is_refused_when_company_sign_in_replaces_it(accounts, company_sign_in_only, caplog):
    # hr@example.com is even listed as break glass: only superusers qualify.
    response = _login("hr@example.com", HR_PASSWORD)
    assert response.status_code == 200 and not response.signed_in
    assert b"Password sign-in is off" in response.content
    assert b"Sign in with company account" in response.content
    assert "company sign-in is required" in caplog.text


def test_a_superuser_not_named_for_break_glass_is_refused(accounts, company_sign_in_only):
    response = _login("ops@example.com", ROOT_PASSWORD)
    assert response.status_code == 200 and not response.signed_in


def test_the_break_glass_superuser_signs_in_and_it_is_logged_at_critical(
    accounts, company_sign_in_only, caplog
):
    response = _login("root@example.com", ROOT_PASSWORD)
    assert response.status_code == 302 and response.signed_in
    (record,) = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert "BREAK-GLASS" in record.getMessage() and "root@example.com" in record.getMessage()


def test_the_break_glass_account_is_still_locked_out_after_repeated_failures(
    accounts, company_sign_in_only, settings
):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        assert not _login("root@example.com", "wrong-password").signed_in
    response = _login("root@example.com", ROOT_PASSWORD)
    assert response.status_code == 429 and not response.signed_in


def _production_setting(name: str, **environ: str) -> str:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ADMIN_", "COGNITO_", "DJANGO_", "OIDC_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="awsomeshop.settings.production",
        DJANGO_SECRET_KEY="test-only-secret-key-for-a-settings-import",
        DATABASE_URL="sqlite:///:memory:",
        COGNITO_USER_POOL_ID="us-east-2_Pool12345",
        COGNITO_CLIENT_ID="api-client",
        **environ,
    )
    code = f"from django.conf import settings; print(repr(settings.{name}))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def test_production_turns_password_sign_in_off_only_when_company_sign_in_is_configured():
    configured = {
        "ADMIN_OIDC_CLIENT_ID": "admin-client",
        "ADMIN_OIDC_CLIENT_SECRET": "admin-secret",
        "COGNITO_DOMAIN": "awsomeshop-prod.auth.us-east-2.amazoncognito.com",
    }
    assert _production_setting("ADMIN_PASSWORD_LOGIN", **configured) == "False"
    # Without the client secret, sign-in is not configured and passwords stay (nobody is locked out).
    partial = {k: v for k, v in configured.items() if k != "ADMIN_OIDC_CLIENT_SECRET"}
    assert _production_setting("ADMIN_PASSWORD_LOGIN", **partial) == "True"


def test_a_password_session_opened_before_passwords_were_switched_off_ends(accounts, settings):
    client = Client()
    client.force_login(accounts["hr"], backend="shop.access.admin_sign_in.backends.PasswordLoginBackend")
    root = Client()
    root.force_login(accounts["root"], backend="shop.access.admin_sign_in.backends.PasswordLoginBackend")
    assert client.get("/admin/").status_code == 200

    settings.ADMIN_OIDC_ENABLED = True
    settings.ADMIN_PASSWORD_LOGIN = False
    settings.ADMIN_BREAK_GLASS_EMAILS = ["root@example.com"]

    assert client.get("/admin/").status_code == 302  # back to the login page
    assert root.get("/admin/").status_code == 200  # the break-glass superuser keeps theirs
