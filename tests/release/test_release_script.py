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
WORKER_SERVICE = "awsomeshop-notifications-worker-dev"
PROD_REPOSITORY, PROD_CLUSTER, PROD_SERVICE = (
    "awsomeshop-core-prod",
    "awsomeshop-cluster-prod",
    "awsomeshop-core-service-prod",
)
# The committed settings files hold example values a release refuses; the copy gets real-looking ones.
SETTINGS = {
    "dev": {"local_state": True, "alarm_email": "ops@rewards.shop.test"},
    "prod": {
        "local_state": True,
        "alarm_email": "ops@rewards.shop.test",
        "domain_name": "rewards.shop.test",
        "hosted_zone_name": "shop.test",
        "cors_allowed_origins": ["https://rewards.shop.test"],
    },
}

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

    def release(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        self.tools.calls.clear()
        # stdin is not a terminal, as in CI: an environment that asks must be told --yes.
        return subprocess.run(
            ["bash", "scripts/release.sh", *(args or ("dev",))],
            cwd=self.repo, env=env or self.env, capture_output=True, text=True, timeout=300, check=False,
            stdin=subprocess.DEVNULL,
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
    for name, settings in SETTINGS.items():
        (repo / "infra_cdktf" / "environments" / f"{name}.json").write_text(json.dumps(settings))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # The infrastructure venv cdktf must find first on PATH (only its bin/python is checked).
    infra_venv = tmp_path / "venv-infra"
    (infra_venv / "bin").mkdir(parents=True)
    (infra_venv / "bin" / "python").symlink_to(sys.executable)
    for tool in ("aws", "docker", "cdktf", "terraform"):
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
        "INFRA_VENV": str(infra_venv),
    }
    ws = Workspace(repo=repo, env=env, tools=tools)
    ws.commit("the first release")
    # What the first `terraform apply -target` of the runbook creates: the registry.
    for repository in (REPOSITORY, PROD_REPOSITORY):
        ws.client("ecr").create_repository(repositoryName=repository, imageTagMutability="IMMUTABLE")
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
    # For the tasks' X86_64 platform, whatever the build machine's architecture.
    assert build["args"][1:3] == ["--platform", "linux/amd64"]
    login = next(c for c in calls if c["args"][:1] == ["login"])
    assert login["stdin"].strip() and login["stdin"].strip() not in " ".join(login["args"])
    assert keys.index("docker push") < keys.index("cdktf deploy")
    # No service existed: the deploy creates it, then the migrations run, then the worker
    # (started before its tables existed) starts again.
    assert keys.index("cdktf deploy") < keys.index("aws ecs run-task") < keys.index("aws ecs update-service")
    restart = json.loads(next(c for c in calls if c["args"][:2] == ["ecs", "update-service"])["args"][-1])
    assert restart == {"cluster": CLUSTER, "service": WORKER_SERVICE, "forceNewDeployment": True}
    deploy = next(c for c in calls if c["tool"] == "cdktf")
    assert deploy["args"] == ["deploy", "awsomeshop-dev", "--auto-approve"]
    assert deploy["env"]["AWSOMESHOP_IMAGE_TAG"] == tag and deploy["env"]["AWSOMESHOP_ENVIRONMENTS"] == "dev"
    # Only the first release's deploy writes the app user's placeholder secret.
    assert deploy["env"]["AWSOMESHOP_BOOTSTRAP_APP_DB_SECRET"] == "1"
    # cdktf starts `python -m infra_cdktf`: the infrastructure venv comes first on its PATH.
    assert deploy["env"]["PATH"].split(os.pathsep)[0] == str(
        Path(released.env["INFRA_VENV"]).resolve() / "bin"
    )
    assert "aws ecs describe-tasks" in keys
    # Every rollout is checked, not just the web service's, and then the database login.
    assert keys.index("cdktf deploy") < keys.index("aws secretsmanager get-secret-value")
    services = [
        json.loads(c["args"][-1])["services"] for c in calls if c["args"][:2] == ["ecs", "describe-services"]
    ]
    assert [WORKER_SERVICE] in services


def test_an_update_migrates_with_the_new_image_before_the_service_changes(workspace: Workspace) -> None:
    first = _serving_tag(workspace)
    second = workspace.commit("the second release")
    done = workspace.release()
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"the service now runs commit {first}" in done.stdout
    assert "expand-only, safe to roll" in done.stdout
    keys = workspace.keys()
    assert keys.index("docker push") < keys.index("terraform apply") < keys.index("aws ecs run-task")
    assert keys.index("aws ecs run-task") < keys.index("cdktf deploy")
    apply = next(c for c in workspace.calls() if c["tool"] == "terraform" and "apply" in c["args"])
    assert "-target=aws_ecs_task_definition.migrate_task_definition" in apply["args"]
    assert "-auto-approve" in apply["args"]
    # The migrate task ran the definition Terraform registered for this release (its settings
    # and secrets, not a copy of the previous release's with the image swapped).
    run_task = next(c for c in workspace.calls() if c["args"][:2] == ["ecs", "run-task"])
    payload = json.loads(run_task["args"][run_task["args"].index("--cli-input-json") + 1])
    ecs = workspace.client("ecs")
    migrate = ecs.describe_task_definition(taskDefinition=payload["taskDefinition"])["taskDefinition"]
    assert migrate["containerDefinitions"][0]["image"].endswith(f":{second}")
    assert {"name": "RELEASED_COMMIT", "value": second} in migrate["containerDefinitions"][0]["environment"]
    assert migrate["containerDefinitions"][0]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert "register-task-definition" not in {c["args"][1] for c in workspace.calls() if c["tool"] == "aws"}
    # No migrations in this release: no snapshot; later deploys never write the placeholder.
    assert not [k for k in keys if k.startswith("aws rds")]
    deploy = next(c for c in workspace.calls() if c["tool"] == "cdktf" and c["args"][0] == "deploy")
    assert "AWSOMESHOP_BOOTSTRAP_APP_DB_SECRET" not in deploy["env"]
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
    assert f"to {SERVICE} did not complete" in done.stderr
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


def test_a_release_without_the_infrastructure_venv_stops_before_anything(workspace: Workspace) -> None:
    env = {**workspace.env, "INFRA_VENV": str(workspace.repo / "no-such-venv")}
    done = workspace.release(env=env)
    assert done.returncode == 1
    assert "the infrastructure venv" in done.stderr and "scripts/test-infra.sh" in done.stderr
    assert workspace.calls() == []


def test_example_settings_are_refused_before_anything(workspace: Workspace) -> None:
    settings = workspace.repo / "infra_cdktf" / "environments" / "dev.json"
    kept = settings.read_text()
    workspace.commit("back to the example address", {str(settings.relative_to(workspace.repo)): (
        json.dumps({**SETTINGS["dev"], "alarm_email": "awsomeshop-alerts@example.com"})
    )})  # fmt: skip
    try:
        done = workspace.release()
    finally:
        git(workspace.repo, "reset", "-q", "--hard", "HEAD~1")
    assert settings.read_text() == kept
    assert done.returncode == 1
    assert "still holds example values: alarm_email=awsomeshop-alerts@example.com" in done.stderr
    assert workspace.calls() == []


def test_a_release_with_migrations_snapshots_the_database_first(workspace: Workspace) -> None:
    workspace.commit(
        "an expand-only migration",
        files={
            "catalog/migrations/0099_product_subtitle.py": (
                "from django.db import migrations, models\n\n\n"
                "class Migration(migrations.Migration):\n"
                '    dependencies = [("catalog", "0003_product_change_stock_permission")]\n'
                '    operations = [migrations.AddField("product", "subtitle", '
                "models.CharField(max_length=80, null=True))]\n"
            )
        },
    )
    tag = git(workspace.repo, "rev-parse", "--short=12", "HEAD")
    snapshot = f"awsomeshop-dev-pre-{tag}"
    workspace.script(
        {
            "aws rds create-db-snapshot": {"stdout": {"DBSnapshot": {"Status": "creating"}}},
            "aws rds describe-db-snapshots": [
                {"stdout": {"DBSnapshots": [{"DBSnapshotIdentifier": snapshot, "Status": "creating"}]}},
                {"stdout": {"DBSnapshots": [{"DBSnapshotIdentifier": snapshot, "Status": "available"}]}},
            ],
        }
    )
    done = workspace.release()
    assert done.returncode == 0, done.stdout + done.stderr
    keys = workspace.keys()
    assert keys.index("aws rds create-db-snapshot") < keys.index("aws ecs run-task")
    assert keys.count("aws rds describe-db-snapshots") == 2
    create = next(c for c in workspace.calls() if c["args"][:2] == ["rds", "create-db-snapshot"])
    assert json.loads(create["args"][-1]) == {
        "DBInstanceIdentifier": "awsomeshop-db-dev",
        "DBSnapshotIdentifier": snapshot,
    }


def test_a_worker_rolled_back_by_the_circuit_breaker_fails_the_release(workspace: Workspace) -> None:
    workspace.commit("a release whose worker never starts")
    worker_rolled_back = {
        "services": [
            {
                "serviceName": WORKER_SERVICE,
                "status": "ACTIVE",
                "taskDefinition": "arn:aws:ecs:us-east-2:123456789012:task-definition/awsomeshop-worker-task-dev:1",
                "deployments": [
                    {
                        "status": "ACTIVE",
                        "taskDefinition": "@latest:awsomeshop-worker-task-dev@",
                        "rolloutState": "FAILED",
                        "rolloutStateReason": "ECS deployment circuit breaker: tasks failed to start.",
                    }
                ],
                "events": [],
            }
        ]
    }
    # Serving commit, the migrate task's network, the web rollout: real; then the worker's.
    workspace.script({"aws ecs describe-services": [{"moto": True}] * 3 + [{"stdout": worker_rolled_back}]})
    done = workspace.release()
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"to {WORKER_SERVICE} did not complete: ECS deployment circuit breaker" in done.stderr


def test_an_expiry_task_definition_left_on_the_old_image_fails_the_release(workspace: Workspace) -> None:
    old = _serving_tag(workspace)
    workspace.commit("a release whose expiry definition was not updated")
    stale = {
        "taskDefinition": {
            "family": "awsomeshop-expire-points-task-dev",
            "taskDefinitionArn": "arn:aws:ecs:us-east-2:123456789012:task-definition/awsomeshop-expire-points-task-dev:1",
            "containerDefinitions": [{"name": "expire-points", "image": f"{REPOSITORY}:{old}"}],
        }
    }
    # Serving commit, migrate, web, worker: real; the expiry family's latest is stale.
    workspace.script({"aws ecs describe-task-definition": [{"moto": True}] * 4 + [{"stdout": stale}]})
    done = workspace.release()
    assert done.returncode == 1, done.stdout + done.stderr
    assert "the latest awsomeshop-expire-points-task-dev runs" in done.stderr
    assert "the deploy did not update it" in done.stderr


def test_an_app_user_secret_without_a_password_fails_the_release(workspace: Workspace) -> None:
    workspace.commit("a release after the app user's secret lost its password")
    empty = {"SecretString": json.dumps({"username": "awsomeshop_app", "password": ""})}
    workspace.script({"aws secretsmanager get-secret-value": {"stdout": empty}})
    done = workspace.release()
    assert done.returncode == 1, done.stdout + done.stderr
    assert "awsomeshop-db-app-user-dev holds no password" in done.stderr


def test_refused_database_logins_in_the_logs_fail_the_release(workspace: Workspace) -> None:
    workspace.commit("a release whose tasks cannot log in")
    refused = {
        "events": [
            {
                "logStreamName": "web/web/0123",
                "message": '{"level": "ERROR", "message": "database login refused with the current credentials"}',
            }
        ]
    }
    workspace.script({"aws logs filter-log-events": {"stdout": refused}})
    done = workspace.release()
    assert done.returncode == 1, done.stdout + done.stderr
    assert "tasks logged refused database logins since this release began" in done.stderr
    assert "web/web/0123" in done.stderr
    query = next(c for c in workspace.calls() if c["args"][:2] == ["logs", "filter-log-events"])
    payload = json.loads(query["args"][-1])
    assert payload["logGroupName"] == "/ecs/awsomeshop-core-task-dev"
    assert payload["filterPattern"] == '"database login refused with the current credentials"'
    assert payload["startTime"] > 0


def test_prod_asks_before_applying_and_is_refused_where_nobody_can_answer(workspace: Workspace) -> None:
    done = workspace.release("prod")
    assert done.returncode == 1
    assert "prod shows each plan and asks before applying" in done.stderr and "--yes" in done.stderr
    assert workspace.calls() == []


def test_prod_promotes_the_image_dev_serves_by_digest(workspace: Workspace) -> None:
    tag = workspace.commit("a release for prod")
    # Not yet on dev: prod refuses to ship an image nobody tested.
    done = workspace.release("prod", "--yes")
    assert done.returncode == 1
    assert f"dev does not serve commit {tag}" in done.stderr
    assert not {"docker build", "docker buildx", "cdktf deploy"} & set(workspace.keys())

    assert workspace.release("dev").returncode == 0
    done = workspace.release("prod", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    keys = workspace.keys()
    assert "docker build" not in keys and "docker buildx" in keys
    ecr = workspace.client("ecr")

    def digest(repository: str) -> str:
        return str(
            ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])["imageDetails"][0][
                "imageDigest"
            ]
        )

    assert digest(PROD_REPOSITORY) == digest(REPOSITORY)
    copy = next(c for c in workspace.calls() if c["args"][:3] == ["buildx", "imagetools", "create"])
    assert copy["args"][-1].endswith(f"/{REPOSITORY}@{digest(REPOSITORY)}")
    deploy = next(c for c in workspace.calls() if c["tool"] == "cdktf" and c["args"][0] == "deploy")
    assert deploy["args"] == ["deploy", "awsomeshop-prod", "--auto-approve"]
    ecs = workspace.client("ecs")
    (service,) = ecs.describe_services(cluster=PROD_CLUSTER, services=[PROD_SERVICE])["services"]
    image = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"][
        "containerDefinitions"
    ][0]["image"]
    assert image.endswith(f"/{PROD_REPOSITORY}:{tag}")
