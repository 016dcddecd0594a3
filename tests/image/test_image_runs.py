"""The production image, run as the ECS tasks run it (docs/image.md).

`scripts/test-image.sh` builds the image with podman and runs this file once; it names the
image (IMAGE_TEST_IMAGE), the podman command with its throwaway store (IMAGE_TEST_PODMAN) and
the MariaDB database to use (IMAGE_TEST_DATABASE_URL, created and dropped here). Without them
the tests fail: a missing image is a failure, never a skip. The engine passes of scripts/test.sh
do not collect this directory (pyproject's norecursedirs).

As deployed (infra_cdktf/compute.py): read-only root filesystem, /tmp a writable scratch mount
(a tmpfs here; the task's ephemeral storage on Fargate), the image's own non-root user,
production settings, the database reached through the DB_* parts as a password-protected
account. The one-off migrate task's command (compute.MIGRATE_COMMAND) runs as the database
owner, then the web container runs the image's CMD as the least-privileged user that command
created. The container shares the host's network (MariaDB and a JWKS endpoint for the Cognito
pool listen on 127.0.0.1); the CMD's address is changed from 0.0.0.0:8000 to a free port on
127.0.0.1 and is otherwise the image's own.
"""

from __future__ import annotations

import ast
import json
import os
import re
import secrets
import shlex
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import MySQLdb
import pytest
import requests

from tests.support.cognito import CLIENT_ID, POOL_ID, JwksServer, SigningKey, cognito_claims, issuer_for, sign

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
APP_DOMAIN = "shop.image-test.example"
# What the ALB sends for a client's request: the public host name, over HTTPS.
PUBLIC = {"Host": APP_DOMAIN, "X-Forwarded-Proto": "https"}
# The ALB's target-group check reaches a task by its private IP address.
BY_IP = {"Host": "10.0.11.27:8000"}
# Low limits, so a process or descriptor leak shows here rather than in production.
ULIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=512:512"]


def _required_env(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        pytest.fail(
            f"{name} is not set: run scripts/test-image.sh, which builds the image and runs this file"
        )
    return value


def _assignment(path: Path, name: str) -> Any:
    """A module-level constant of an infrastructure module, read without importing CDKTF."""
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{path.name} has no {name}")


def _stop_timeout_seconds() -> int:
    """The web container's ECS stopTimeout: the config default, or the smallest an environment sets."""
    config = ROOT / "infra_cdktf" / "config.py"
    (default,) = re.findall(r"^\s+stop_timeout_seconds: int = (\d+)$", config.read_text(), flags=re.MULTILINE)
    values = [int(default)]
    for env_file in (ROOT / "infra_cdktf" / "environments").glob("*.json"):
        value = json.loads(env_file.read_text()).get("stop_timeout_seconds")
        if value is not None:
            values.append(int(value))
    return min(values)


MIGRATE_COMMAND: list[str] = _assignment(ROOT / "infra_cdktf" / "compute.py", "MIGRATE_COMMAND")
STOP_TIMEOUT = _stop_timeout_seconds()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Podman:
    command: list[str]
    image: str

    def run(self, *args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [*self.command, *args], capture_output=True, text=True, timeout=timeout, check=False
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"podman {' '.join(args[:3])} ... exited {result.returncode}\n{result.stdout}\n{result.stderr}"
            )
        return result

    def inspect(self, fmt: str) -> Any:
        return json.loads(self.run("image", "inspect", "--format", f"{{{{json {fmt}}}}}", self.image).stdout)

    def as_deployed(self, env: dict[str, str]) -> list[str]:
        """`podman run` options for the task definition's container settings."""
        env_args = [arg for key, value in sorted(env.items()) for arg in ("--env", f"{key}={value}")]
        return [
            "--network", "host",
            "--read-only", "--read-only-tmpfs=false",
            "--tmpfs", "/tmp:rw,nosuid,nodev,size=256m",
            *ULIMITS,
            *env_args,
        ]  # fmt: skip


@pytest.fixture(scope="module")
def podman() -> Podman:
    return Podman(shlex.split(_required_env("IMAGE_TEST_PODMAN")), _required_env("IMAGE_TEST_IMAGE"))


@dataclass
class Database:
    host: str
    port: int
    name: str
    owner: str
    owner_password: str
    app_user: str
    app_password: str


def _admin_connection(url: str) -> Any:
    parts = urlsplit(url)
    return MySQLdb.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=unquote(parts.username or "root"),
        password=unquote(parts.password or ""),
        connect_timeout=10,
    )


@pytest.fixture(scope="module")
def database() -> Iterator[Database]:
    """A fresh database and a password-protected owner account, as RDS hands them over.

    The owner plays RDS's master user: it migrates and creates the app's own account. Accounts
    belong to the server, so their names carry a random suffix (parallel runs never collide).
    """
    url = _required_env("IMAGE_TEST_DATABASE_URL")
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    assert re.fullmatch(r"\w+", name), f"unexpected database name {name!r}"
    suffix = secrets.token_hex(4)
    db = Database(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        name=name,
        owner=f"awsomeshop_img_owner_{suffix}",
        # Generated RDS passwords may hold any of these; the DB_* parts must carry them intact.
        owner_password="o:w@n/e%r?#" + secrets.token_hex(4),
        app_user=f"awsomeshop_img_app_{suffix}",
        app_password="a:p@p/%?#" + secrets.token_hex(4),
    )
    admin = _admin_connection(url)
    cursor = admin.cursor()

    def drop() -> None:
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        for user in (db.owner, db.app_user):
            cursor.execute(f"DROP USER IF EXISTS '{user}'@'%'")

    drop()
    cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    cursor.execute(f"CREATE USER '{db.owner}'@'%%' IDENTIFIED BY %s", [db.owner_password])
    # RDS's master user: everything on the application's database, creating and granting to
    # users, and reading the grant tables (db_grant_app_user compares what is granted).
    cursor.execute(f"GRANT ALL ON `{name}`.* TO '{db.owner}'@'%' WITH GRANT OPTION")
    cursor.execute(f"GRANT CREATE USER ON *.* TO '{db.owner}'@'%'")
    cursor.execute(f"GRANT SELECT ON mysql.* TO '{db.owner}'@'%'")
    try:
        yield db
    finally:
        drop()
        admin.close()


@pytest.fixture(scope="module")
def jwks() -> Iterator[tuple[JwksServer, SigningKey]]:
    """The Cognito pool's JWKS on 127.0.0.1: the container verifies tokens against it."""
    key = SigningKey(kid="image-test-key")
    server = JwksServer()
    server.keys.append(key)
    server.start()
    yield server, key
    server.stop()


def _app_environment(db: Database, server: JwksServer) -> dict[str, str]:
    """The task definition's environment (infra_cdktf/stack.py), for this machine."""
    return {
        "AWS_REGION": "us-east-2",
        "LOG_LEVEL": "INFO",
        "METRICS_ENVIRONMENT": "image-test",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DB_ENGINE": "mysql",
        "DB_HOST": db.host,
        "DB_PORT": str(db.port),
        "DB_NAME": db.name,
        # No DB_SSL_MODE: this machine's MariaDB has no TLS (RDS Proxy's is REQUIRED).
        "TRUSTED_PROXY_COUNT": "1",
        "APP_DOMAIN": APP_DOMAIN,
        # Production accepts only the pool's tokens; its keys come from the local JWKS.
        "COGNITO_USER_POOL_ID": POOL_ID,
        "COGNITO_CLIENT_ID": CLIENT_ID,
        "COGNITO_ISSUER": issuer_for(POOL_ID),
        "COGNITO_JWKS_URL": server.url,
    }


@dataclass
class Deployment:
    podman: Podman
    db: Database
    key: SigningKey
    web_env: dict[str, str]
    migrate_output: str


@pytest.fixture(scope="module")
def deployment(podman: Podman, database: Database, jwks: tuple[JwksServer, SigningKey]) -> Deployment:
    """The release's migrate task, run once: migrate as the owner, then create the app's user."""
    server, key = jwks
    base = _app_environment(database, server)
    migrate_env = {
        **base,
        "DB_USER": database.owner,
        "DB_PASSWORD": database.owner_password,
        "DB_APP_USER": database.app_user,
        # The deployment names a Secrets Manager secret (DB_APP_SECRET_ARN); here the password
        # is passed directly, which the command accepts when no secret is named.
        "DB_APP_PASSWORD": database.app_password,
    }
    migrate = podman.run(
        "run", "--rm", *podman.as_deployed(migrate_env), podman.image, *MIGRATE_COMMAND, timeout=900
    )
    web_env = {**base, "DB_USER": database.app_user, "DB_PASSWORD": database.app_password}
    return Deployment(podman, database, key, web_env, migrate.stdout + migrate.stderr)


@dataclass
class Container:
    name: str
    base: str


def _start_web(deployment: Deployment, name: str) -> Container:
    podman = deployment.podman
    command = podman.inspect(".Config.Cmd")
    assert command == json.loads(re.findall(r"^CMD (\[.+\])$", DOCKERFILE, flags=re.MULTILINE)[0])
    port = _free_port()
    bind = command.index("--bind") + 1
    assert command[bind] == "0.0.0.0:8000"
    command[bind] = f"127.0.0.1:{port}"
    podman.run(
        "run", "--detach", "--name", name, *podman.as_deployed(deployment.web_env), podman.image, *command
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            requests.get(f"{base}/healthz", timeout=5)
            return Container(name, base)
        except requests.RequestException:  # not listening yet
            state = podman.run("inspect", "--format", "{{.State.Running}}", name, check=False).stdout.strip()
            if time.monotonic() > deadline or state != "true":
                logs = podman.run("logs", name, check=False)
                pytest.fail(f"gunicorn did not start from the image's CMD:\n{logs.stdout}\n{logs.stderr}")
            time.sleep(0.3)


@pytest.fixture(scope="module")
def web(deployment: Deployment) -> Iterator[Container]:
    name = f"awsomeshop-image-web-{secrets.token_hex(4)}"
    container = _start_web(deployment, name)
    yield container
    deployment.podman.run("rm", "--force", "--time", "0", name, check=False)


def _shell(deployment: Deployment, code: str) -> str:
    """Python in a one-off container of the image, as the app's own database user."""
    result = deployment.podman.run(
        "run", "--rm", *deployment.podman.as_deployed(deployment.web_env), deployment.podman.image,
        "python", "manage.py", "shell", "--no-imports", "-c", code,
        timeout=300,
    )  # fmt: skip
    return result.stdout


def test_the_migrate_task_migrates_and_creates_the_app_user(deployment: Deployment) -> None:
    assert MIGRATE_COMMAND[:2] == ["sh", "-c"] and "migrate --noinput" in MIGRATE_COMMAND[2]
    assert f"Created database user {deployment.db.app_user}" in deployment.migrate_output, (
        deployment.migrate_output
    )


def test_the_container_runs_as_deployed(deployment: Deployment, web: Container) -> None:
    podman = deployment.podman
    # The image's own user, not root.
    assert podman.inspect(".Config.User") == "app"
    ids = podman.run("exec", web.name, "id", "-u").stdout.strip()
    assert ids != "0" and ids == podman.run("exec", web.name, "id", "-u", "app").stdout.strip()
    # The root filesystem refuses writes; /tmp takes them (uploads spool there).
    refused = podman.run("exec", web.name, "sh", "-c", "touch /app/written", check=False)
    assert refused.returncode != 0 and "Read-only file system" in refused.stderr
    podman.run("exec", web.name, "sh", "-c", "touch /tmp/written && rm /tmp/written")
    # The image's own HEALTHCHECK (kept: the image is built in Docker's format, as docker build
    # does), pointed at this container's port.
    (kind, check) = podman.inspect(".Config.Healthcheck.Test")
    assert kind == "CMD-SHELL" and "/healthz" in check
    podman.run(
        "exec", web.name, "sh", "-c", check.replace("127.0.0.1:8000", web.base.removeprefix("http://"))
    )


def test_health_endpoints(web: Container) -> None:
    target_check = requests.get(f"{web.base}/healthz", headers=BY_IP, timeout=10)
    assert (target_check.status_code, target_check.json()) == (200, {"status": "ok"})
    health = requests.get(f"{web.base}/health", headers=BY_IP, timeout=10)
    assert health.status_code == 200, health.text
    assert health.json()["checks"]["database"]["status"] == "ok"


def test_static_files_are_hashed_and_served_by_whitenoise(web: Container) -> None:
    login = requests.get(f"{web.base}/admin/login/", headers=PUBLIC, timeout=10)
    assert login.status_code == 200
    stylesheets = re.findall(r'href="(/static/[^"]+\.css)"', login.text)
    assert stylesheets, "the admin login page links no stylesheet"
    for href in stylesheets:
        assert re.search(r"\.[0-9a-f]{12}\.css$", href), f"{href} is not a hashed manifest name"
        sheet = requests.get(f"{web.base}{href}", headers=PUBLIC, timeout=10)
        assert sheet.status_code == 200 and sheet.headers["Content-Type"].startswith("text/css")
        # WhiteNoise marks hashed names as cacheable for ever; Django would not serve them at all.
        assert "immutable" in sheet.headers["Cache-Control"], sheet.headers


def test_a_signed_in_employee_places_an_order(deployment: Deployment, web: Container) -> None:
    sub, email = str(uuid.uuid4()), f"image-{secrets.token_hex(3)}@example.com"
    seeded = _shell(
        deployment,
        "import json\n"
        "from catalog.models import Product, StockMovement\n"
        "from catalog.services import product_stock_adjust\n"
        "from points.services.grants import points_grant\n"
        "from shop.identity.services import user_create\n"
        f"user = user_create(email={email!r}, name='Image Test', cognito_sub={sub!r})\n"
        "points_grant(user=user, amount=500, reason='image test')\n"
        "product = Product.objects.create(name='Image mug', description='A mug.', points_cost=120)\n"
        "product_stock_adjust(product_id=product.pk, delta=3, reason=StockMovement.Reason.RESTOCK,"
        " note='', changed_by=None)\n"
        "print('seeded', json.dumps({'product': str(product.pk)}))\n",
    )
    # The app's own JSON log lines share stdout; the answer is the line marked "seeded".
    (line,) = [line for line in seeded.splitlines() if line.startswith("seeded ")]
    product_id = json.loads(line.removeprefix("seeded "))["product"]
    token = sign(cognito_claims(sub=sub, email=email), deployment.key)
    auth = {**PUBLIC, "Authorization": f"Bearer {token}"}

    me = requests.get(f"{web.base}/api/v1/me/", headers=auth, timeout=10)
    assert me.status_code == 200, me.text
    assert me.json()["balance"] == 500

    key = {"Idempotency-Key": f"image-test-{uuid.uuid4()}"}
    body = {"product_id": product_id, "quantity": 2}
    order = requests.post(f"{web.base}/api/v1/orders/", headers={**auth, **key}, json=body, timeout=20)
    assert order.status_code == 201, order.text
    assert (order.json()["points_used"], order.json()["balance_after"]) == (240, 260)
    # A retry with the same key replays the answer and charges nothing again.
    again = requests.post(f"{web.base}/api/v1/orders/", headers={**auth, **key}, json=body, timeout=20)
    assert (again.status_code, again.headers.get("Idempotent-Replayed")) == (201, "true")
    assert again.json()["id"] == order.json()["id"]
    assert requests.get(f"{web.base}/api/v1/me/", headers=auth, timeout=10).json()["balance"] == 260

    unsigned = requests.get(f"{web.base}/api/v1/me/", headers=PUBLIC, timeout=10)
    assert unsigned.status_code == 401 and unsigned.json()["code"] == "not_authenticated"


def test_the_storefront_sign_in_page(web: Container) -> None:
    # The storefront's home sends a visitor who is not signed in to its sign-in page.
    home = requests.get(f"{web.base}/", headers=PUBLIC, timeout=10, allow_redirects=False)
    assert home.status_code == 302 and home.headers["Location"] == "/signin/?next=/"
    page = requests.get(f"{web.base}/signin/", headers=PUBLIC, timeout=10)
    assert page.status_code == 200, page.text[:500]
    assert page.headers["Content-Type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    # Its stylesheet is the collected, hashed file, served for a year.
    css = re.search(r'href="(/static/storefront/shop\.[0-9a-f]{12}\.css)"', page.text)
    assert css, page.text[:800]
    styles = requests.get(f"{web.base}{css.group(1)}", headers=PUBLIC, timeout=10)
    assert styles.status_code == 200 and "immutable" in styles.headers["Cache-Control"]


def test_the_access_log_is_json_on_stdout(deployment: Deployment, web: Container) -> None:
    requests.get(f"{web.base}/healthz?probe=image", headers=BY_IP, timeout=10)
    deadline = time.monotonic() + 10
    while True:
        logs = deployment.podman.run("logs", web.name).stdout
        entries = [
            json.loads(line) for line in logs.splitlines() if line.startswith("{") and '"access"' in line
        ]
        if any(e.get("query") == "probe=image" for e in entries):
            break
        assert time.monotonic() < deadline, logs[-2000:]
        time.sleep(0.2)


def test_sigterm_stops_it_within_the_ecs_stop_timeout(deployment: Deployment) -> None:
    """ECS sends SIGTERM, then SIGKILL stopTimeout seconds later: gunicorn must be gone by then."""
    podman = deployment.podman
    name = f"awsomeshop-image-stop-{secrets.token_hex(4)}"
    container = _start_web(deployment, name)
    try:
        assert requests.get(f"{container.base}/healthz", headers=BY_IP, timeout=10).status_code == 200
        started = time.monotonic()
        podman.run("kill", "--signal", "TERM", name)
        waited = podman.run("wait", name, timeout=STOP_TIMEOUT + 30)
        elapsed = time.monotonic() - started
        assert elapsed < STOP_TIMEOUT, f"took {elapsed:.1f} s, ECS kills after {STOP_TIMEOUT} s"
        # 0: a clean shutdown, not a kill (137) or a crash.
        assert waited.stdout.strip() == "0", podman.run("logs", name, check=False).stderr[-2000:]
    finally:
        podman.run("rm", "--force", "--time", "0", name, check=False)
