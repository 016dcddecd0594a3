"""What every step of the release uses (release.py runs them): the release's error, the
environment's resource names as infra_cdktf names them, running a command, the AWS CLI.

Imported by release.py, which puts the repository on sys.path first (infra_cdktf.config)."""

from __future__ import annotations

import json
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra_cdktf.config import LOGIN_REFUSED_MESSAGE, EnvironmentConfig

REPO = Path.cwd()

MIGRATE_CONTAINER = "migrate"
WEB_CONTAINER = "web"
WORKER_CONTAINER = "worker"
EXPIRY_CONTAINER = "expire-points"
# The migrate task definition's Terraform address (infra_cdktf/compute.py fixes its logical id).
MIGRATE_ADDRESS = "aws_ecs_task_definition.migrate_task_definition"
# BOOTSTRAP_VARIABLE is set for the first release's deploy only: the stack then writes the app
# user's placeholder secret value, which no later apply writes again (infra_cdktf/data.py).
# What the database backends log when the credentials the secret holds are refused
# (shop/db/backends); the release looks for it in the tasks' logs, an alarm counts it.
LOGIN_REFUSED_PATTERN = f'"{LOGIN_REFUSED_MESSAGE}"'
# The platform every task definition runs on (runtime_platform X86_64).
IMAGE_PLATFORM = "linux/amd64"


class ReleaseError(Exception):
    """The release stopped; the message says where, why and what was left unchanged."""


@dataclass(frozen=True)
class Names:
    """The environment's resource names, as infra_cdktf names them (tests/infra pins both)."""

    name: str
    region: str
    repository: str
    cluster: str
    service: str
    web_family: str
    migrate_family: str
    worker_service: str
    worker_family: str
    expiry_family: str
    log_group: str
    stack: str
    app_db_secret: str
    db_identifier: str
    db_is_cluster: bool

    @classmethod
    def of(cls, cfg: EnvironmentConfig) -> Names:
        return cls(
            name=cfg.name,
            region=cfg.region,
            repository=cfg.resource_name("core"),
            cluster=cfg.resource_name("cluster"),
            service=cfg.resource_name("core-service"),
            web_family=f"awsomeshop-core-task-{cfg.name}",
            migrate_family=f"awsomeshop-migrate-task-{cfg.name}",
            worker_service=cfg.resource_name("notifications-worker"),
            worker_family=f"awsomeshop-worker-task-{cfg.name}",
            expiry_family=f"awsomeshop-expire-points-task-{cfg.name}",
            log_group=f"/ecs/awsomeshop-core-task-{cfg.name}",
            stack=f"awsomeshop-{cfg.name}",
            app_db_secret=cfg.resource_name("db-app-user"),
            db_identifier=cfg.resource_name("db"),
            db_is_cluster=cfg.engine.cluster,
        )


def say(message: str) -> None:
    print(f"release: {message}", flush=True)


def run(command: list[str], *, stdin: str | None = None, env: dict[str, str] | None = None) -> str:
    say("$ " + shlex.join(command))
    done = subprocess.run(  # noqa: S603 - fixed tools from PATH, arguments built here
        command, cwd=REPO, input=stdin, capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        raise ReleaseError(
            f"{shlex.join(command[:3])} failed (exit {done.returncode}): {done.stderr.strip()}"
        )
    return done.stdout


def stream(command: list[str], *, env: dict[str, str]) -> int:
    """Run with the terminal attached: the plan, the question and the wait are the operator's view."""
    say("$ " + shlex.join(command))
    return subprocess.run(command, cwd=REPO, env=env, check=False).returncode  # noqa: S603


class Aws:
    def __init__(self, region: str) -> None:
        self.region = region

    def __call__(self, service: str, operation: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        command = ["aws", service, operation, "--region", self.region, "--output", "json"]
        if payload is not None:
            command += ["--cli-input-json", json.dumps(payload, separators=(",", ":"))]
        out = run(command)
        return json.loads(out) if out.strip() else {}
