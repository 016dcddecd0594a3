"""scripts/release.sh end to end, with `aws`, `docker` and `cdktf` stand-ins on PATH.

The stand-ins (tests/release/fake_cli.py, reached through small shims) record every call; AWS calls go to moto's server with
the same API input the AWS CLI sends (ECR repositories, images and login; ECS task definitions,
run-task, describe-tasks and services), and a scenario makes chosen calls fail: a
migration that exits 1, a deployment the circuit breaker rolls back. Each test releases a copy
of this repository, committed in a scratch git repository, so the release sees a clean tree.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from django.db import connection

from tests.release.fake_cli import FakeTools, call_key
from tests.support.cognito import MotoCognito

ROOT = Path(__file__).resolve().parents[2]
CLIENT = Path(__file__).with_name("fake_client.py")
REGION = "us-east-2"
# Resource names of the dev environment (tests/infra pins that the stack uses the same).
REPOSITORY, CLUSTER, SERVICE = "awsomeshop-core-dev", "awsomeshop-cluster-dev", "awsomeshop-core-service-dev"
WEB_FAMILY = "awsomeshop-core-task-dev"

pytestmark = [
    pytest.mark.skipif(shutil.which("git") is None, reason="the release ships a git commit: needs git"),
    # No database is involved (fake docker/aws/cdktf and moto): one pass of the suite is enough.
    pytest.mark.skipif(
        connection.vendor != "sqlite", reason="database-independent; the SQLite pass runs it once"
    ),
]


@pytest.fixture(scope="module")
def tools() -> Iterator[FakeTools]:
    server = MotoCognito().start()  # moto's full server: ECR, ECS and EC2 as well as Cognito
    fake = FakeTools(server.url).start()
    yield fake
    fake.stop()
    server.stop()


@pytest.fixture(scope="module")
def source_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    return [f for f in listed if (ROOT / f).is_file()]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=Release Test", "-c", "user.email=release@example.org", *args],
        cwd=repo, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip


@dataclass
class Workspace:
    repo: Path
    env: dict[str, str]
    tools: FakeTools
    first_tag: str = ""
    first_calls: list[dict[str, Any]] = field(default_factory=list)

    def release(self, *args: str) -> subprocess.CompletedProcess[str]:
        self.tools.calls.clear()
        return subprocess.run(
            ["bash", "scripts/release.sh", *(args or ("dev",))],
            cwd=self.repo, env=self.env, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip

    def calls(self) -> list[dict[str, Any]]:
        return self.tools.calls

    def keys(self) -> list[str]:
        return self.tools.keys()

    def script(self, answers: dict[str, Any]) -> None:
        self.tools.reset(answers)

    def commit(self, message: str, files: dict[str, str] | None = None) -> str:
        for name, text in (files or {"CHANGES.txt": message}).items():
            (self.repo / name).parent.mkdir(parents=True, exist_ok=True)
            (self.repo / name).write_text(text)
        git(self.repo, "add", "-A")
        git(self.repo, "commit", "-qm", message)
        return git(self.repo, "rev-parse", "--short=12", "HEAD")

    def client(self, service: str) -> Any:
        return self.tools.client(service)

    def serving_image(self) -> str:
        ecs = self.client("ecs")
        (service,) = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"]
        definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
        return str(definition["containerDefinitions"][0]["image"])


@pytest.fixture(scope="module")
def released(
    tmp_path_factory: pytest.TempPathFactory, tools: FakeTools, source_files: list[str]
) -> Iterator[Workspace]:
    """A copy of this repository released once to an empty dev environment (shared: a release
    takes seconds). Each test starts from whatever the previous one left serving."""
    requests.post(f"{tools.moto_url}/moto-api/reset", timeout=10).raise_for_status()
    tools.reset()
    tmp_path = tmp_path_factory.mktemp("release")
    repo = tmp_path / "repo"
    for name in source_files:
        target = repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    git(repo, "init", "-q")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("aws", "docker", "cdktf"):
        shim = bin_dir / tool
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "{CLIENT}" {tool} "$@"\n')
        shim.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "PYTHON": sys.executable,
        "FAKE_TOOLS_URL": tools.url,
        "RELEASE_POLL_SECONDS": "0",
        "RELEASE_TIMEOUT_SECONDS": "60",
    }
    ws = Workspace(repo=repo, env=env, tools=tools)
    ws.commit("the first release")
    # What the first `terraform apply -target` of the runbook creates: the registry.
    ws.client("ecr").create_repository(repositoryName=REPOSITORY, imageTagMutability="IMMUTABLE")
    with pytest.MonkeyPatch.context() as patch:
        # moto reports a service's deployment COMPLETED once this many tasks "run".
        patch.setenv("MOTO_ECS_SERVICE_RUNNING", "2")
        ws.first_tag = git(repo, "rev-parse", "--short=12", "HEAD")
        done = ws.release()
        assert done.returncode == 0, done.stdout + done.stderr
        ws.first_calls = list(tools.calls)
        yield ws


@pytest.fixture
def workspace(released: Workspace) -> Workspace:
    released.tools.reset()
    assert git(released.repo, "status", "--porcelain") == ""
    return released


def _serving_tag(ws: Workspace) -> str:
    return ws.serving_image().rsplit(":", 1)[1]


def test_first_release_deploys_then_migrates(released: Workspace) -> None:
    calls, tag = released.first_calls, released.first_tag
    keys = [call_key(c["tool"], c["args"]) for c in calls]
    uri = released.client("ecr").describe_repositories(repositoryNames=[REPOSITORY])["repositories"][0][
        "repositoryUri"
    ]
    # Built and pushed under the commit, logged in with the password on stdin (not in argv).
    build = next(c for c in calls if c["args"][:1] == ["build"])
    assert build["args"][-3:] == ["-t", f"{uri}:{tag}", "."]
    login = next(c for c in calls if c["args"][:1] == ["login"])
    assert login["stdin"].strip() and login["stdin"].strip() not in " ".join(login["args"])
    assert keys.index("docker push") < keys.index("cdktf deploy")
    # No service existed: the deploy creates it, then the migrations run.
    assert keys.index("cdktf deploy") < keys.index("aws ecs run-task")
    deploy = next(c for c in calls if c["tool"] == "cdktf")
    assert deploy["args"] == ["deploy", "awsomeshop-dev", "--auto-approve"]
    assert deploy["env"]["AWSOMESHOP_IMAGE_TAG"] == tag and deploy["env"]["AWSOMESHOP_ENVIRONMENTS"] == "dev"
    assert "aws ecs describe-tasks" in keys


def test_an_update_migrates_with_the_new_image_before_the_service_changes(workspace: Workspace) -> None:
    first = _serving_tag(workspace)
    second = workspace.commit("the second release")
    done = workspace.release()
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"the service now runs commit {first}" in done.stdout
    assert "expand-only, safe to roll" in done.stdout
    keys = workspace.keys()
    assert keys.index("docker push") < keys.index("aws ecs run-task") < keys.index("cdktf deploy")
    # The migrate task ran a definition registered with this release's image, not the old one.
    run_task = next(c for c in workspace.calls() if c["args"][:2] == ["ecs", "run-task"])
    payload = json.loads(run_task["args"][run_task["args"].index("--cli-input-json") + 1])
    ecs = workspace.client("ecs")
    migrate = ecs.describe_task_definition(taskDefinition=payload["taskDefinition"])["taskDefinition"]
    assert migrate["containerDefinitions"][0]["image"].endswith(f":{second}")
    assert migrate["containerDefinitions"][0]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert payload["networkConfiguration"]["awsvpcConfiguration"]["subnets"]
    assert workspace.serving_image().endswith(f":{second}")


def test_a_dirty_work_tree_is_refused_before_anything_happens(workspace: Workspace) -> None:
    (workspace.repo / "notes.txt").write_text("not committed")
    try:
        done = workspace.release()
    finally:
        (workspace.repo / "notes.txt").unlink()
    assert done.returncode == 1
    assert "uncommitted or untracked changes" in done.stderr and "notes.txt" in done.stderr
    assert workspace.calls() == []


def test_a_failed_migration_stops_before_the_service_changes(workspace: Workspace) -> None:
    first = _serving_tag(workspace)
    workspace.commit("a release whose migration fails")
    stopped = {
        "tasks": [
            {
                "taskArn": "arn:aws:ecs:us-east-2:123456789012:task/awsomeshop-cluster-dev/0123abcd",
                "lastStatus": "STOPPED",
                "stoppedReason": "Essential container in task exited",
                "containers": [{"name": "migrate", "exitCode": 1}],
            }
        ]
    }
    workspace.script({"aws ecs describe-tasks": {"stdout": stopped}})
    done = workspace.release()
    assert done.returncode == 1
    assert "migrations failed (exit code 1; Essential container in task exited)" in done.stderr
    assert "The service was not changed" in done.stderr
    started = json.loads(
        next(c for c in workspace.calls() if c["args"][:2] == ["ecs", "run-task"])["args"][-1]
    )
    assert started["startedBy"] == f"release-{git(workspace.repo, 'rev-parse', '--short=12', 'HEAD')}"
    assert re.search(r"--log-stream-names migrate/migrate/[0-9a-f-]{8,} --region us-east-2", done.stderr)
    assert "cdktf deploy" not in set(workspace.keys())
    assert workspace.serving_image().endswith(f":{first}")


def test_a_rolled_back_deployment_fails_with_the_circuit_breakers_reason(workspace: Workspace) -> None:
    first = _serving_tag(workspace)
    workspace.commit("a release whose tasks never get healthy")
    rolled_back = {
        "services": [
            {
                "serviceName": SERVICE,
                "status": "ACTIVE",
                "taskDefinition": f"arn:aws:ecs:us-east-2:123456789012:task-definition/{WEB_FAMILY}:1",
                "deployments": [
                    {
                        "status": "PRIMARY",
                        "taskDefinition": f"arn:aws:ecs:us-east-2:123456789012:task-definition/{WEB_FAMILY}:1",
                        "rolloutState": "IN_PROGRESS",
                    },
                    {
                        "status": "ACTIVE",
                        "taskDefinition": f"@latest:{WEB_FAMILY}@",
                        "rolloutState": "FAILED",
                        "rolloutStateReason": "ECS deployment circuit breaker: tasks failed to start.",
                    },
                ],
                "events": [
                    {
                        "createdAt": "2026-12-01T10:00:00Z",
                        "message": "(service awsomeshop-core-service-dev) rolling back to deployment ecs-svc/1234.",
                    },
                ],
            }
        ]
    }
    workspace.script(
        {
            # Terraform's wait for steady state gives up; the service is back on the old revision.
            "cdktf deploy": {"moto": True, "rc": 1},
            # The first two reads (serving commit, network for the migrate task) are the real ones.
            "aws ecs describe-services": [{"moto": True}, {"moto": True}, {"stdout": rolled_back}],
        }
    )
    done = workspace.release()
    assert done.returncode == 1, done.stdout + done.stderr
    assert "did not complete: ECS deployment circuit breaker: tasks failed to start." in done.stderr
    assert "rolling back to deployment ecs-svc/1234" in done.stderr
    assert f"task-definition/{WEB_FAMILY}:1" in done.stderr
    assert first != git(workspace.repo, "rev-parse", "--short=12", "HEAD")


def test_a_contracting_migration_is_refused_before_the_build(workspace: Workspace) -> None:
    workspace.commit(
        "drop a column the serving release reads",
        files={
            "catalog/migrations/0004_drop_description.py": (
                "from django.db import migrations\n\n\n"
                "class Migration(migrations.Migration):\n"
                '    dependencies = [("catalog", "0003_product_change_stock_permission")]\n'
                '    operations = [migrations.RemoveField("product", "description")]\n'
            )
        },
    )
    try:
        done = workspace.release()
    finally:
        git(workspace.repo, "reset", "-q", "--hard", "HEAD~1")
    assert done.returncode == 1
    assert "catalog.0004_drop_description drops column catalog.product.description" in done.stderr
    assert not {"docker build", "aws ecs run-task", "cdktf deploy"} & set(workspace.keys())


def test_a_serving_image_tagged_by_hand_needs_its_commit_named(workspace: Workspace) -> None:
    serving = _serving_tag(workspace)
    workspace.commit("the first release through the script after hand-made ones")
    hand_made = {"taskDefinition": {"containerDefinitions": [{"name": "web", "image": f"{REPOSITORY}:v1"}]}}
    workspace.script({"aws ecs describe-task-definition": [{"stdout": hand_made}, {"moto": True}]})
    done = workspace.release()
    assert done.returncode == 1
    assert "the serving release v1 is not a commit in this clone" in done.stderr
    assert "--previous COMMIT" in done.stderr
    assert not {"docker build", "cdktf deploy"} & set(workspace.keys())

    workspace.script({"aws ecs describe-task-definition": [{"stdout": hand_made}, {"moto": True}]})
    done = workspace.release("dev", "--previous", serving)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"since {serving}: expand-only" in done.stdout


def test_a_service_whose_commit_cannot_be_told_is_not_taken_for_a_first_release(workspace: Workspace) -> None:
    by_digest = {
        "taskDefinition": {
            "containerDefinitions": [{"name": "web", "image": f"{REPOSITORY}@sha256:{'0' * 64}"}]
        }
    }
    workspace.script({"aws ecs describe-task-definition": {"stdout": by_digest}})
    done = workspace.release()
    assert done.returncode == 1
    assert "cannot tell which commit the service runs" in done.stderr
    # A first release would deploy before migrating; nothing at all happened instead.
    assert not {"docker build", "cdktf deploy", "aws ecs run-task"} & set(workspace.keys())
