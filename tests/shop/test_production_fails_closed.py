"""Production fails closed: no Cognito pool or host name means no start, `check --deploy` is
clean, and only the health paths answer a request by IP address.

The settings module is read once per process, so the production settings are checked in a
child process, exactly as an operator (or the container's start) runs them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from shop.auth.checks import production_fails_closed
from shop.auth.factory import get_verifier
from shop.auth.local_issuer import get_local_issuer

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION: dict[str, str] = {
    "DJANGO_SETTINGS_MODULE": "awsomeshop.settings.production",
    # As long and random as check --deploy wants (security.W009).
    "DJANGO_SECRET_KEY": "k3H9vQ2mZx7pL0sT4wR8yB1nC6dF5gJ2hK9qW3eR7tY0uI4oP8aS2dF6gH1jK5lZ9xC3vB7",
    "DATABASE_URL": "sqlite:///:memory:",
    "COGNITO_USER_POOL_ID": "us-east-2_Prod1",
    "COGNITO_CLIENT_ID": "prod-app-client",
    "APP_DOMAIN": "shop.example.com",
}


def _run(*args: str, unset: tuple[str, ...] = (), **overrides: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_URL", "DB_", "COGNITO_", "APP_DOMAIN", "ALLOWED_HOSTS"))
    }
    env.update(PRODUCTION, **overrides)
    for name in unset:
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_with_everything_set_passes_check_deploy_with_nothing_silenced() -> None:
    result = _run("manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_without_cognito_fails_check_naming_what_is_missing() -> None:
    result = _run("manage.py", "check", unset=("COGNITO_USER_POOL_ID", "COGNITO_CLIENT_ID"))
    assert result.returncode == 1
    assert "(shop.E001) COGNITO_USER_POOL_ID and COGNITO_CLIENT_ID are not set." in result.stderr


def test_the_wsgi_application_refuses_to_start_without_cognito() -> None:
    # What gunicorn imports in every worker; it runs no system checks of its own. (That it does
    # start when configured is shown by test_production_runtime.py.)
    refused = _run("-c", "import awsomeshop.wsgi", unset=("COGNITO_CLIENT_ID",))
    assert refused.returncode != 0
    assert "Refusing to start: shop.E001: COGNITO_CLIENT_ID is not set." in refused.stderr


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"COGNITO_USER_POOL_ID": ""}, ["shop.E001"]),
        ({"COGNITO_CLIENT_ID": ""}, ["shop.E001"]),
        ({"ALLOWED_HOSTS": []}, ["shop.E002"]),
        ({"ALLOWED_HOSTS": ["shop.example.com", "*"]}, ["shop.E003"]),
        ({"ALLOWED_HOSTS": ["*"], "COGNITO_USER_POOL_ID": ""}, ["shop.E001", "shop.E003"]),
        ({}, []),
    ],
)
def test_the_fail_closed_check(settings: Any, changes: dict[str, Any], expected: list[str]) -> None:
    settings.LOCAL_ISSUER_ENABLED = False
    settings.COGNITO_USER_POOL_ID, settings.COGNITO_CLIENT_ID = "us-east-2_Prod1", "prod-app-client"
    settings.ALLOWED_HOSTS = ["shop.example.com"]
    for name, value in changes.items():
        setattr(settings, name, value)
    assert [e.id for e in production_fails_closed()] == expected


def test_the_fail_closed_check_leaves_development_alone(settings: Any) -> None:
    settings.COGNITO_USER_POOL_ID, settings.ALLOWED_HOSTS = "", ["*"]
    assert settings.LOCAL_ISSUER_ENABLED is True
    assert production_fails_closed() == []


def test_the_local_issuer_cannot_be_used_when_production_disables_it(settings: Any) -> None:
    settings.LOCAL_ISSUER_ENABLED = False
    settings.COGNITO_USER_POOL_ID = ""
    with pytest.raises(ImproperlyConfigured, match="local token issuer is disabled"):
        get_verifier()
    with pytest.raises(ImproperlyConfigured, match="local token issuer is disabled"):
        get_local_issuer()
    with pytest.raises((CommandError, ImproperlyConfigured)):
        call_command("issue_token", "--email", "alice@example.com")


@pytest.fixture
def production_hosts(settings: Any) -> None:
    """The request-handling settings production has, in this process."""
    settings.ALLOWED_HOSTS = ["shop.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 3600


@pytest.mark.django_db
def test_health_answers_by_ip_over_http_while_every_other_path_needs_a_configured_host(
    production_hosts: None,
) -> None:
    client = Client()
    # The ALB's target-group check: plain HTTP, the task's private IP as the host.
    health = client.get("/health", HTTP_HOST="10.0.11.27:8000")
    assert health.status_code == 200
    assert health.json()["checks"]["database"]["status"] == "ok"
    assert client.get("/health/live", HTTP_HOST="10.0.12.4:8000").json() == {"status": "ok"}

    for headers in ({}, {"HTTP_X_FORWARDED_PROTO": "https"}):
        by_ip = client.get("/api/v1/me/", HTTP_HOST="10.0.11.27:8000", **headers)  # type: ignore[arg-type]
        assert by_ip.status_code == 400
        assert by_ip["Content-Type"].startswith("application/json")
        assert set(by_ip.json()) == {"code", "detail"}

    plain = client.get("/api/v1/me/", HTTP_HOST="shop.example.com")
    assert (plain.status_code, plain["Location"]) == (301, "https://shop.example.com/api/v1/me/")
    secure = client.get("/api/v1/me/", HTTP_HOST="shop.example.com", HTTP_X_FORWARDED_PROTO="https")
    assert secure.status_code == 401
    assert secure["Strict-Transport-Security"] == "max-age=3600"


@pytest.mark.django_db
def test_a_path_added_to_the_health_paths_is_served_before_host_validation(
    production_hosts: None, settings: Any
) -> None:
    client = Client()
    assert client.get("/health/live/", HTTP_HOST="10.0.11.27:8000").status_code == 400
    settings.HEALTH_CHECK_PATHS = [*settings.HEALTH_CHECK_PATHS, "/api/schema/"]
    assert client.get("/api/schema/", HTTP_HOST="10.0.11.27:8000").status_code == 200
