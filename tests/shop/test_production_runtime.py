"""The container's runtime, without a container engine: the Dockerfile's own build step and
command, run here with the production settings against the MariaDB server.

What this proves: static files collect with the production storage, gunicorn starts with the
image's CMD, the database is reached through the DB_* parts the deployment passes, the load
balancer's health check (which calls the task by IP address) gets 200, the container health check
command succeeds, the admin's stylesheets are served, and API errors are JSON.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from django.db import connection

from tests.support.mysql_accounts import account_name, temporary_account

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "mysql", reason="production runs on MySQL: the MariaDB run executes this test"
    ),
    pytest.mark.django_db(transaction=True),
]


def _instruction(name: str) -> str:
    """The Dockerfile instruction's argument, continuation lines joined."""
    joined = DOCKERFILE.replace("\\\n", " ")
    matches = re.findall(rf"^{name} (.+)$", joined, flags=re.MULTILINE)
    assert matches, f"Dockerfile has no {name}"
    return str(matches[-1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


RUNTIME_USER = account_name("awsomeshop_runtime")
APP_DOMAIN = "shop.example.com"
# What the ALB sends for a client's request: the public host name, over HTTPS.
PUBLIC = {"Host": APP_DOMAIN, "X-Forwarded-Proto": "https"}
# Generated RDS passwords may hold any of these; the DB_* parts must carry them intact.
RUNTIME_PASSWORD = "r:t@p/w%d?#"


@pytest.fixture
def runtime_user() -> Iterator[str]:
    """A password-protected account, as RDS has (this machine's root has no password)."""
    with temporary_account(RUNTIME_USER, RUNTIME_PASSWORD) as user:
        yield user


@pytest.fixture
def container_env(tmp_path: Path, runtime_user: str) -> dict[str, str]:
    db = connection.settings_dict
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DATABASE_URL", "DB_"))}
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        DJANGO_SETTINGS_MODULE="awsomeshop.settings.production",
        DJANGO_SECRET_KEY="only-for-this-test",
        # What the ECS task definition passes: the parts, the password from the RDS secret.
        DB_HOST=db["HOST"] or "127.0.0.1",
        DB_PORT=str(db["PORT"] or 3306),
        DB_NAME=db["NAME"],
        DB_USER=runtime_user,
        DB_PASSWORD=RUNTIME_PASSWORD,
        # Production refuses to start without its Cognito pool and host name (shop.auth.checks).
        COGNITO_USER_POOL_ID="us-east-2_Runtime1",
        COGNITO_CLIENT_ID="runtime-app-client",
        APP_DOMAIN=APP_DOMAIN,
        STATIC_ROOT=str(tmp_path / "static"),
        WEB_CONCURRENCY="1",
    )
    return env


@pytest.fixture
def server(container_env: dict[str, str]) -> Iterator[str]:
    build_step = [line for line in DOCKERFILE.replace("\\\n", " ").splitlines() if "collectstatic" in line]
    assert len(build_step) == 1, "the Dockerfile should collect static files in one RUN step"
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=container_env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert collect.returncode == 0, collect.stderr

    command = json.loads(_instruction("CMD"))
    port = _free_port()
    command[command.index("--bind") + 1] = f"127.0.0.1:{port}"
    process = subprocess.Popen(
        command, cwd=ROOT, env=container_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{base}/health/live", timeout=5)
                break
            except requests.RequestException:  # not listening yet
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("gunicorn did not start with the image's command")
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_image_command_serves_health_api_errors_and_admin(
    server: str, container_env: dict[str, str]
) -> None:
    # The ALB's target-group check (liveness, /healthz): by the task's private IP, not a host name.
    target_check = requests.get(f"{server}/healthz", headers={"Host": "10.0.11.27:8000"}, timeout=10)
    assert target_check.json() == {"status": "ok"}
    # The dependency report, also reached by IP.
    health = requests.get(f"{server}/health", headers={"Host": "10.0.11.27:8000"}, timeout=10)
    assert health.status_code == 200, health.text
    assert health.json()["checks"]["database"]["status"] == "ok"
    live = requests.get(f"{server}/health/live", headers={"Host": "10.0.12.4:8000"}, timeout=10)
    assert live.json() == {"status": "ok"}

    unauthenticated = requests.get(f"{server}/api/v1/me/", headers=PUBLIC, timeout=10)
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["Content-Type"].startswith("application/json")
    assert unauthenticated.json()["code"] == "not_authenticated"
    missing = requests.get(f"{server}/api/no/such/page", headers=PUBLIC, timeout=10)
    assert missing.status_code == 404
    assert missing.headers["Content-Type"].startswith("application/json")
    # Outside /api/ an unknown path is the storefront's page, rendered with production's
    # collected static files.
    page = requests.get(f"{server}/no/such/page", headers=PUBLIC, timeout=10)
    assert page.status_code == 404 and page.headers["Content-Type"].startswith("text/html")
    assert 'id="error-page"' in page.text
    # Any other path by IP address: refused as a bad host, in JSON (no ALLOWED_HOSTS = *).
    by_ip = requests.get(
        f"{server}/api/v1/me/", headers={"Host": "10.0.11.27:8000", "X-Forwarded-Proto": "https"}, timeout=10
    )
    assert by_ip.status_code == 400
    assert by_ip.headers["Content-Type"].startswith("application/json")
    assert set(by_ip.json()) == {"code", "detail"}

    # The admin behind the ALB: HTTPS as the proxy reports it, stylesheets from the manifest.
    login = requests.get(f"{server}/admin/login/", headers=PUBLIC, timeout=10)
    assert login.status_code == 200
    stylesheets = re.findall(r'href="(/static/[^"]+\.css)"', login.text)
    assert stylesheets, "the admin login page links no stylesheet"
    for href in stylesheets:
        assert re.search(r"\.[0-9a-f]{12}\.css$", href), f"{href} is not a hashed manifest name"
        assert requests.get(f"{server}{href}", headers=PUBLIC, timeout=10).status_code == 200

    # The container health check the image declares, pointed at this server's port.
    check = (
        _instruction("HEALTHCHECK")
        .split(" CMD ", 1)[1]
        .replace("127.0.0.1:8000", server.removeprefix("http://"))
    )
    result = subprocess.run(["sh", "-c", check], env=container_env, capture_output=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert shlex.split(check)[0] == "python"
