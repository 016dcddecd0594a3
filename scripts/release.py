"""Ship the committed work tree to one environment: `scripts/release.sh ENV` (docs/deploy.md).

1. Refuse a dirty work tree: a release is a commit, and its image is tagged with it.
2. Check the migrations added since the commit the service now runs (expand, release,
   contract: `manage.py check_release_migrations`).
3. Build the image, push it to the environment's ECR repository (tags are immutable; an image
   already pushed for this commit is reused).
4. Run the migrate one-off task with the new image, wait for it to stop and check its exit
   code. On failure stop here: the service, the infrastructure and the serving tasks are as
   they were.
5. `cdktf deploy` the environment with AWSOMESHOP_IMAGE_TAG set to the commit: Terraform stays
   the one owner of the task definitions and the service, and waits for steady state.
6. Confirm the service runs this commit's task definition and its deployment COMPLETED; if the
   circuit breaker rolled it back, fail and print the rollout's reason and the service events.

The first release of an environment has no service yet: the deploy creates it first, then the
migrations run, then the check. AWS is reached with the AWS CLI (JSON in and out), Docker with
the docker CLI; both are found on PATH, as are git and cdktf.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path.cwd()
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from infra_cdktf.config import ENVIRONMENTS, EnvironmentConfig, environment_settings  # noqa: E402

# What register-task-definition accepts back from describe-task-definition.
REGISTERABLE = (
    "family",
    "taskRoleArn",
    "executionRoleArn",
    "networkMode",
    "containerDefinitions",
    "volumes",
    "placementConstraints",
    "requiresCompatibilities",
    "cpu",
    "memory",
    "runtimePlatform",
    "ephemeralStorage",
    "pidMode",
    "ipcMode",
    "proxyConfiguration",
)
MIGRATE_CONTAINER = "migrate"
WEB_CONTAINER = "web"


class ReleaseError(Exception):
    """The release stopped; the message says where, why and what was left unchanged."""


@dataclass(frozen=True)
class Names:
    """The environment's resource names, as infra_cdktf names them (tests/infra pins both)."""

    region: str
    repository: str
    cluster: str
    service: str
    web_family: str
    migrate_family: str
    log_group: str
    stack: str

    @classmethod
    def of(cls, cfg: EnvironmentConfig) -> Names:
        return cls(
            region=cfg.region,
            repository=cfg.resource_name("core"),
            cluster=cfg.resource_name("cluster"),
            service=cfg.resource_name("core-service"),
            web_family=f"awsomeshop-core-task-{cfg.name}",
            migrate_family=f"awsomeshop-migrate-task-{cfg.name}",
            log_group=f"/ecs/awsomeshop-core-task-{cfg.name}",
            stack=f"awsomeshop-{cfg.name}",
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


class Aws:
    def __init__(self, region: str) -> None:
        self.region = region

    def __call__(self, service: str, operation: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        command = ["aws", service, operation, "--region", self.region, "--output", "json"]
        if payload is not None:
            command += ["--cli-input-json", json.dumps(payload, separators=(",", ":"))]
        out = run(command)
        return json.loads(out) if out.strip() else {}


class Release:
    def __init__(
        self, env_name: str, *, poll_seconds: float, timeout_seconds: float, previous: str | None = None
    ) -> None:
        if env_name not in ENVIRONMENTS:
            raise ReleaseError(f"unknown environment {env_name!r}; known: {', '.join(sorted(ENVIRONMENTS))}")
        self.env_name = env_name
        # As synth builds it: the committed settings file may move the region or rename things.
        self.names = Names.of(environment_settings(env_name))
        self.aws = Aws(self.names.region)
        self.poll_seconds = poll_seconds
        self.timeout_seconds = timeout_seconds
        self.tag = ""
        self.image = ""
        # The serving release's commit when its image tag is not one (deployed before this script).
        self.previous = previous

    # -- the sequence ---------------------------------------------------------------------------
    def run(self) -> None:
        self.tag = self._commit()
        say(f"releasing commit {self.tag} to {self.env_name}")
        serving = self._serving_commit()
        if serving is None:
            say("no service yet: first release (deploy, then migrate)")
        else:
            say(f"the service now runs commit {serving}")
            self._check_migrations(since=self.previous or serving)
        self.image = f"{self._repository_uri()}:{self.tag}"
        self._build_and_push()
        if serving is None:
            deployed = self._deploy()
            self._migrate()
        else:
            self._migrate()
            deployed = self._deploy()
        self._confirm(deploy_succeeded=deployed)
        say(f"done: {self.env_name} serves {self.image}")

    def _commit(self) -> str:
        dirty = run(["git", "status", "--porcelain", "--untracked-files=all"]).strip()
        if dirty:
            raise ReleaseError(
                "the work tree has uncommitted or untracked changes; a release ships a commit, "
                "so commit or stash them first:\n" + dirty
            )
        return run(["git", "rev-parse", "--short=12", "HEAD"]).strip()

    def _serving_commit(self) -> str | None:
        """The commit the service runs, or None when there is no service yet (first release)."""
        service = self._service()
        if service is None:
            return None
        image = self._image_of(service["taskDefinition"], WEB_CONTAINER)
        name = image.rsplit("/", 1)[-1]
        if ":" in name and "@" not in name:
            return name.rsplit(":", 1)[1]
        if self.previous:
            return self.previous
        # A running service must never be taken for a first release (that deploys before migrating).
        raise ReleaseError(
            f"cannot tell which commit the service runs ({image}); name it with --previous COMMIT"
        )

    def _check_migrations(self, *, since: str) -> None:
        try:
            run(["git", "cat-file", "-e", f"{since}^{{commit}}"])
        except ReleaseError as exc:
            raise ReleaseError(
                f"the serving release {since} is not a commit in this clone: git fetch it, or name "
                "the serving release's commit with --previous COMMIT; the migration check compares "
                "against it"
            ) from exc
        env = {**os.environ, "DATABASE_URL": "sqlite:///:memory:"}
        out = run([sys.executable, "manage.py", "check_release_migrations", "--since", since], env=env)
        say(out.strip())

    def _repository_uri(self) -> str:
        try:
            found = self.aws("ecr", "describe-repositories", {"repositoryNames": [self.names.repository]})
        except ReleaseError as exc:
            raise ReleaseError(
                f"ECR repository {self.names.repository} not found: create it first "
                "(docs/deploy.md, First deployment)"
            ) from exc
        return str(found["repositories"][0]["repositoryUri"])

    def _build_and_push(self) -> None:
        try:
            self.aws(
                "ecr",
                "describe-images",
                {"repositoryName": self.names.repository, "imageIds": [{"imageTag": self.tag}]},
            )
        except ReleaseError as exc:
            if "ImageNotFoundException" not in str(exc):
                raise
        else:
            say(f"{self.image} is already in the registry (tags are immutable): not rebuilt")
            return
        commit = run(["git", "rev-parse", "HEAD"]).strip()
        run(
            [
                "docker",
                "build",
                "--label",
                f"org.opencontainers.image.revision={commit}",
                "-t",
                self.image,
                ".",
            ]
        )
        password = run(["aws", "ecr", "get-login-password", "--region", self.names.region]).strip()
        registry = self.image.split("/", 1)[0]
        run(["docker", "login", "--username", "AWS", "--password-stdin", registry], stdin=password)
        run(["docker", "push", self.image])

    def _migrate(self) -> None:
        template = self.aws("ecs", "describe-task-definition", {"taskDefinition": self.names.migrate_family})[
            "taskDefinition"
        ]
        definition = {key: template[key] for key in REGISTERABLE if template.get(key)}
        for container in definition["containerDefinitions"]:
            container["image"] = self.image
        registered = self.aws("ecs", "register-task-definition", definition)["taskDefinition"]
        service = self._service()
        if service is None:
            raise ReleaseError(f"service {self.names.service} not found after the deploy")
        started = self.aws(
            "ecs",
            "run-task",
            {
                "cluster": self.names.cluster,
                "taskDefinition": registered["taskDefinitionArn"],
                "launchType": "FARGATE",
                "networkConfiguration": service["networkConfiguration"],
                "startedBy": f"release-{self.tag}",
            },
        )
        if started.get("failures") or not started.get("tasks"):
            raise ReleaseError(
                f"the migrate task did not start: {started.get('failures')}; nothing was changed"
            )
        task_arn = started["tasks"][0]["taskArn"]
        say(f"migrate task {task_arn} started; waiting for it to stop")
        task = self._wait(
            lambda: self.aws("ecs", "describe-tasks", {"cluster": self.names.cluster, "tasks": [task_arn]})[
                "tasks"
            ][0],
            done=lambda t: t.get("lastStatus") == "STOPPED",
            what="the migrate task to stop",
        )
        container = next(c for c in task["containers"] if c["name"] == MIGRATE_CONTAINER)
        code = container.get("exitCode")
        if code != 0:
            task_id = task_arn.rsplit("/", 1)[-1]
            raise ReleaseError(
                f"migrations failed (exit code {code}; {task.get('stoppedReason', '')}"
                f"{'; ' + container['reason'] if container.get('reason') else ''}). The service was not "
                f"changed. Logs: aws logs tail {self.names.log_group} --log-stream-names "
                f"migrate/{MIGRATE_CONTAINER}/{task_id} --region {self.names.region}"
            )
        say("migrations applied (exit code 0)")

    def _deploy(self) -> bool:
        env = {**os.environ, "AWSOMESHOP_ENVIRONMENTS": self.env_name, "AWSOMESHOP_IMAGE_TAG": self.tag}
        command = ["cdktf", "deploy", self.names.stack, "--auto-approve"]
        say("$ " + shlex.join(command) + f"  (AWSOMESHOP_IMAGE_TAG={self.tag})")
        # Streamed, not captured: the plan and the wait for steady state are the operator's view.
        done = subprocess.run(command, cwd=REPO, env=env, check=False)  # noqa: S603
        if done.returncode != 0:
            say(f"cdktf deploy failed (exit {done.returncode}); reading the service's rollout")
        return done.returncode == 0

    def _confirm(self, *, deploy_succeeded: bool) -> None:
        ours = self.aws("ecs", "describe-task-definition", {"taskDefinition": self.names.web_family})[
            "taskDefinition"
        ]
        if self._container(ours, WEB_CONTAINER)["image"] != self.image:
            raise ReleaseError(
                f"the deploy did not register a web task definition for {self.image} "
                f"(latest {self.names.web_family} runs {self._container(ours, WEB_CONTAINER)['image']})"
            )
        our_arn = ours["taskDefinitionArn"]

        def rollout() -> tuple[dict[str, Any], dict[str, Any] | None]:
            service = self._service()
            if service is None:
                raise ReleaseError(f"service {self.names.service} not found")
            deployments = service.get("deployments", [])
            mine = next((d for d in deployments if d.get("taskDefinition") == our_arn), None)
            if mine is None and service.get("taskDefinition") == our_arn:
                mine = next((d for d in deployments if d.get("status") == "PRIMARY"), None)
            return service, mine

        def settled(state: tuple[dict[str, Any], dict[str, Any] | None]) -> bool:
            service, mine = state
            if service.get("taskDefinition") != our_arn:
                return True  # rolled back (or never switched): nothing more to wait for
            return mine is None or mine.get("rolloutState") in {"COMPLETED", "FAILED"}

        service, mine = self._wait(rollout, done=settled, what="the deployment to settle")
        if (
            service.get("taskDefinition") == our_arn
            and mine is not None
            and mine.get("rolloutState") == "COMPLETED"
        ):
            if not deploy_succeeded:
                raise ReleaseError(
                    "cdktf deploy failed although the service rolled out; see its output above"
                )
            return
        reason = (mine or {}).get("rolloutStateReason") or "no rollout state for this release's deployment"
        events = "\n".join(
            f"  {e.get('createdAt', '')} {e.get('message', '')}" for e in service.get("events", [])[:8]
        )
        raise ReleaseError(
            f"the deployment of {self.image} did not complete: {reason}\n"
            f"the service runs {service.get('taskDefinition')}; recent service events:\n{events}\n"
            "The migrations of this release stay applied (they are expand-only); the previous "
            "release keeps serving."
        )

    # -- helpers ----------------------------------------------------------------------------------
    def _service(self) -> dict[str, Any] | None:
        try:
            found = self.aws(
                "ecs", "describe-services", {"cluster": self.names.cluster, "services": [self.names.service]}
            )
        except ReleaseError as exc:
            if "ClusterNotFoundException" in str(exc):
                return None
            raise
        services = [s for s in found.get("services", []) if s.get("status") != "INACTIVE"]
        return services[0] if services else None

    def _container(self, task_definition: dict[str, Any], name: str) -> dict[str, Any]:
        return next(c for c in task_definition["containerDefinitions"] if c["name"] == name)

    def _image_of(self, task_definition_arn: str, container: str) -> str:
        definition = self.aws("ecs", "describe-task-definition", {"taskDefinition": task_definition_arn})
        return str(self._container(definition["taskDefinition"], container)["image"])

    def _wait(self, read: Any, *, done: Any, what: str) -> Any:
        deadline = time.monotonic() + self.timeout_seconds
        while True:
            state = read()
            if done(state):
                return state
            if time.monotonic() > deadline:
                raise ReleaseError(f"timed out after {self.timeout_seconds:.0f} s waiting for {what}")
            time.sleep(self.poll_seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/release.sh", description=__doc__.split("\n\n")[0])
    parser.add_argument("environment", help=f"one of: {', '.join(sorted(ENVIRONMENTS))}")
    parser.add_argument(
        "--previous",
        metavar="COMMIT",
        help="the serving release's commit, when its image tag is not one (an image deployed by hand)",
    )
    args = parser.parse_args(argv)
    release = Release(
        args.environment,
        previous=args.previous,
        poll_seconds=float(os.environ.get("RELEASE_POLL_SECONDS", "10")),
        timeout_seconds=float(os.environ.get("RELEASE_TIMEOUT_SECONDS", "1800")),
    )
    try:
        release.run()
    except ReleaseError as exc:
        print(f"release FAILED: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
