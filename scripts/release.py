"""Ship the committed work tree to one environment: `scripts/release.sh ENV` (docs/deploy.md).

1. Refuse a dirty work tree: a release is a commit, and its image is tagged with it. An
   environment that asks before applying (prod) is refused here when nobody can answer and
   `--yes` was not given.
2. Check the migrations added since the commit the service now runs (expand, release,
   contract: `manage.py check_release_migrations`).
3. The image. dev: build it for linux/amd64 (the tasks' platform) and push it (tags are
   immutable; an image already pushed for this commit is reused). prod: promote the image dev
   tested, the same digest, which dev must be serving; nothing is rebuilt.
4. A release that adds migrations first takes a manual RDS snapshot and waits for it.
5. Terraform registers this release's migrate task definition (`terraform apply -target`, after
   `cdktf synth`), so the migrations run with the new release's settings and secrets; then the
   migrate one-off task runs, and the script waits for it to stop and checks its exit code. On
   failure stop here: the service and the serving tasks are as they were.
6. `cdktf deploy` the environment with AWSOMESHOP_IMAGE_TAG set to the commit: Terraform stays
   the one owner of the task definitions and the services. dev applies at once; prod shows the
   plan and asks, unless `--yes`.
7. Confirm the rollouts: the web service and the notification worker each run this commit's
   task definition and their deployments COMPLETED (Terraform reports success even when the
   circuit breaker rolled a deployment back), and the expiry task definition the schedule
   starts has this commit's image. Then the app's database user: its secret must hold a
   password and no task may have logged a refused database login since the release began.

The first release of an environment has no service yet: the deploy creates it first (with the
app user's placeholder secret, which only that deploy writes), then the migrations run, then
the checks. AWS is reached with the AWS CLI (JSON in and out), Docker with the docker CLI;
both are found on PATH, as are git and terraform. cdktf runs with the infrastructure venv
(INFRA_VENV, default .venv-infra) first on PATH, where its `python -m infra_cdktf` finds cdktf.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from release_checks import ReleaseChecks
from release_tools import (
    IMAGE_PLATFORM,
    MIGRATE_ADDRESS,
    MIGRATE_CONTAINER,
    WEB_CONTAINER,
    Aws,
    Names,
    ReleaseError,
    run,
    say,
    stream,
)

from infra_cdktf.config import (
    BOOTSTRAP_VARIABLE,
    ENVIRONMENTS,
    environment_settings,
)


class Release(ReleaseChecks):
    def __init__(
        self,
        env_name: str,
        *,
        poll_seconds: float,
        timeout_seconds: float,
        previous: str | None = None,
        assume_yes: bool = False,
        infra_venv: Path | None = None,
    ) -> None:
        if env_name not in ENVIRONMENTS:
            raise ReleaseError(f"unknown environment {env_name!r}; known: {', '.join(sorted(ENVIRONMENTS))}")
        self.env_name = env_name
        # As synth builds it: the committed settings file may move the region or rename things.
        self.config = environment_settings(env_name)
        self.names = Names.of(self.config)
        self.aws = Aws(self.names.region)
        self.poll_seconds = poll_seconds
        self.timeout_seconds = timeout_seconds
        self.tag = ""
        self.image = ""
        # The serving release's commit when its image tag is not one (deployed before this script).
        self.previous = previous
        # Apply without asking: dev always; an environment with approve_applies only with --yes.
        self.auto_approve = assume_yes or not self.config.approve_applies
        self.infra_venv = infra_venv or Path(os.environ.get("INFRA_VENV", ".venv-infra"))
        self.started_ms = 0

    # -- the sequence ---------------------------------------------------------------------------
    def run(self) -> None:
        self.tag = self._commit()
        self._check_prerequisites()
        self.started_ms = int(time.time() * 1000)
        say(f"releasing commit {self.tag} to {self.env_name}")
        serving = self._serving_commit()
        migrations: list[str] = []
        if serving is None:
            say("no service yet: first release (deploy, then migrate)")
        else:
            say(f"the service now runs commit {serving}")
            migrations = self._check_migrations(since=self.previous or serving)
        self.image = f"{self._repository_uri(self.names)}:{self.tag}"
        if self.config.promote_image_from:
            self._promote(self.config.promote_image_from)
        else:
            self._build_and_push()
        if serving is None:
            deployed = self._deploy(bootstrap=True)
            self._migrate()
            # The worker started before its tables existed; start it again on the new schema.
            self.aws(
                "ecs",
                "update-service",
                {
                    "cluster": self.names.cluster,
                    "service": self.names.worker_service,
                    "forceNewDeployment": True,
                },
            )
        else:
            if migrations:
                self._snapshot()
            self._register_migrate_definition()
            self._migrate()
            deployed = self._deploy()
        self._confirm(deploy_succeeded=deployed)
        self._confirm_lifecycle()
        self._check_app_database_login()
        say(f"done: {self.env_name} serves {self.image}")

    def _commit(self) -> str:
        dirty = run(["git", "status", "--porcelain", "--untracked-files=all"]).strip()
        if dirty:
            raise ReleaseError(
                "the work tree has uncommitted or untracked changes; a release ships a commit, "
                "so commit or stash them first:\n" + dirty
            )
        return run(["git", "rev-parse", "--short=12", "HEAD"]).strip()

    def _check_prerequisites(self) -> None:
        """What would otherwise fail half-way: example settings, cdktf without its venv, a
        question nobody answers."""
        placeholders = self.config.placeholders()
        if placeholders:
            raise ReleaseError(
                f"infra_cdktf/environments/{self.env_name}.json still holds example values: "
                f"{', '.join(placeholders)}. Set your own (docs/deploy.md, First deploy) and commit."
            )
        if not (self.infra_venv / "bin" / "python").exists():
            raise ReleaseError(
                f"the infrastructure venv {self.infra_venv} is missing: cdktf runs `python -m "
                "infra_cdktf` with it. Create it with scripts/test-infra.sh (or python3 -m venv "
                f"{self.infra_venv} && {self.infra_venv}/bin/pip install -r requirements/infra.txt), "
                "or name another with INFRA_VENV"
            )
        if not self.auto_approve and not sys.stdin.isatty():
            raise ReleaseError(
                f"{self.env_name} shows each plan and asks before applying, and nobody can answer "
                "here (stdin is not a terminal): run it from a terminal, or pass --yes to apply "
                "without asking. Nothing was changed."
            )

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

    def _check_migrations(self, *, since: str) -> list[str]:
        """Refuse contracting migrations; return the migration files this release adds."""
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
        added = run(
            ["git", "diff", "--name-only", "--diff-filter=AR", since, "HEAD", "--", "*/migrations/[0-9]*.py"]
        )
        return [line for line in added.splitlines() if line.strip()]

    def _repository_uri(self, names: Names) -> str:
        aws = Aws(names.region)
        try:
            found = aws("ecr", "describe-repositories", {"repositoryNames": [names.repository]})
        except ReleaseError as exc:
            raise ReleaseError(
                f"ECR repository {names.repository} not found: create it first (docs/deploy.md, First deploy)"
            ) from exc
        return str(found["repositories"][0]["repositoryUri"])

    def _digest(self, names: Names, tag: str) -> str | None:
        try:
            found = Aws(names.region)(
                "ecr",
                "describe-images",
                {"repositoryName": names.repository, "imageIds": [{"imageTag": tag}]},
            )
        except ReleaseError as exc:
            if "ImageNotFoundException" not in str(exc):
                raise
            return None
        return str(found["imageDetails"][0]["imageDigest"])

    def _login(self, image: str, region: str) -> None:
        password = run(["aws", "ecr", "get-login-password", "--region", region]).strip()
        registry = image.split("/", 1)[0]
        run(["docker", "login", "--username", "AWS", "--password-stdin", registry], stdin=password)

    def _build_and_push(self) -> None:
        if self._digest(self.names, self.tag) is not None:
            say(f"{self.image} is already in the registry (tags are immutable): not rebuilt")
            return
        commit = run(["git", "rev-parse", "HEAD"]).strip()
        run(
            [
                "docker",
                "build",
                # The tasks run on X86_64 (runtime_platform); an image built on an ARM laptop
                # for its own architecture would not start.
                "--platform",
                IMAGE_PLATFORM,
                "--label",
                f"org.opencontainers.image.revision={commit}",
                "-t",
                self.image,
                ".",
            ]
        )
        self._login(self.image, self.names.region)
        run(["docker", "push", self.image])

    def _promote(self, source_env: str) -> None:
        """Ship the image `source_env` tested, by digest: never a rebuild of the same commit."""
        source = Names.of(environment_settings(source_env))
        serving = self._serving_image(source)
        if serving is None or not serving.endswith(f":{self.tag}"):
            raise ReleaseError(
                f"{source_env} does not serve commit {self.tag} (it serves {serving or 'nothing'}): "
                f"{self.env_name} ships only the image {source_env} runs, so release this commit to "
                f"{source_env} first (scripts/release.sh {source_env}) and check it there. Nothing was changed."
            )
        digest = self._digest(source, self.tag)
        if digest is None:
            raise ReleaseError(f"{source.repository}:{self.tag} is not in {source_env}'s registry any more")
        present = self._digest(self.names, self.tag)
        if present is None:
            origin = f"{serving.rsplit(':', 1)[0]}@{digest}"
            self._login(origin, source.region)
            self._login(self.image, self.names.region)
            # A registry-side copy of the manifest (and its layers): the digest stays the same.
            run(["docker", "buildx", "imagetools", "create", "--tag", self.image, origin])
            present = self._digest(self.names, self.tag)
        if present != digest:
            raise ReleaseError(
                f"{self.image} has digest {present}, but {source_env} tested {digest}: not shipping a "
                "different image under the same commit"
            )
        say(f"promoted {source_env}'s image {digest} as {self.image}")

    def _snapshot(self) -> None:
        """A manual snapshot before migrations run: a restore point that outlives the backups."""
        snapshot = f"{self.names.stack}-pre-{self.tag}"
        if self.names.db_is_cluster:
            create, describe, key, listed = (
                "create-db-cluster-snapshot",
                "describe-db-cluster-snapshots",
                "DBClusterSnapshotIdentifier",
                "DBClusterSnapshots",
            )
            payload = {"DBClusterIdentifier": self.names.db_identifier, key: snapshot}
        else:
            create, describe, key, listed = (
                "create-db-snapshot",
                "describe-db-snapshots",
                "DBSnapshotIdentifier",
                "DBSnapshots",
            )
            payload = {"DBInstanceIdentifier": self.names.db_identifier, key: snapshot}
        say(f"this release adds migrations: snapshot {snapshot} first")
        try:
            self.aws("rds", create, payload)
        except ReleaseError as exc:
            if "AlreadyExists" not in str(exc):  # a retried release: the snapshot is there
                raise
        state = self._wait(
            lambda: self.aws("rds", describe, {key: snapshot})[listed][0],
            done=lambda s: s.get("Status") in {"available", "failed", "error"},
            what=f"snapshot {snapshot}",
        )
        if state.get("Status") != "available":
            raise ReleaseError(f"snapshot {snapshot} ended {state.get('Status')}: nothing was migrated")
        say(f"snapshot {snapshot} available")

    def _infra_env(self, *, bootstrap: bool = False) -> dict[str, str]:
        env = {
            **os.environ,
            "AWSOMESHOP_ENVIRONMENTS": self.env_name,
            "AWSOMESHOP_IMAGE_TAG": self.tag,
            # cdktf starts `python -m infra_cdktf` (cdktf.json): it must be the infra venv's.
            "PATH": f"{(self.infra_venv / 'bin').resolve()}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        env.pop(BOOTSTRAP_VARIABLE, None)
        if bootstrap:
            env[BOOTSTRAP_VARIABLE] = "1"
        return env

    def _register_migrate_definition(self) -> None:
        """This release's migrate task definition, registered by Terraform from this commit."""
        env = self._infra_env()
        run(["cdktf", "synth"], env=env)
        chdir = f"-chdir=cdktf.out/stacks/{self.names.stack}"
        run(["terraform", chdir, "init", "-input=false"], env=env)
        command = ["terraform", chdir, "apply", "-input=false", f"-target={MIGRATE_ADDRESS}"]
        if self.auto_approve:
            command.append("-auto-approve")
        if stream(command, env=env) != 0:
            raise ReleaseError(
                "registering this release's migrate task definition failed (terraform apply "
                f"-target={MIGRATE_ADDRESS}); nothing was migrated and the service was not changed"
            )

    def _migrate(self) -> None:
        definition = self.aws(
            "ecs", "describe-task-definition", {"taskDefinition": self.names.migrate_family}
        )["taskDefinition"]
        image = self._container(definition, MIGRATE_CONTAINER)["image"]
        if image != self.image:
            raise ReleaseError(
                f"the latest {self.names.migrate_family} runs {image}, not {self.image}; nothing was migrated"
            )
        service = self._service()
        if service is None:
            raise ReleaseError(f"service {self.names.service} not found after the deploy")
        started = self.aws(
            "ecs",
            "run-task",
            {
                "cluster": self.names.cluster,
                "taskDefinition": definition["taskDefinitionArn"],
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

    def _deploy(self, *, bootstrap: bool = False) -> bool:
        env = self._infra_env(bootstrap=bootstrap)
        command = ["cdktf", "deploy", self.names.stack]
        if self.auto_approve:
            command.append("--auto-approve")
        extra = f"AWSOMESHOP_IMAGE_TAG={self.tag}" + (f", {BOOTSTRAP_VARIABLE}=1" if bootstrap else "")
        say(f"({extra})")
        code = stream(command, env=env)
        if code != 0:
            say(f"cdktf deploy failed (exit {code}); reading the service's rollout")
        return code == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/release.sh", description=__doc__.split("\n\n")[0])
    parser.add_argument("environment", help=f"one of: {', '.join(sorted(ENVIRONMENTS))}")
    parser.add_argument(
        "--previous",
        metavar="COMMIT",
        help="the serving release's commit, when its image tag is not one (an image deployed by hand)",
    )
    parser.add_argument(
        "--yes",
        action="store_true",
        help="apply without showing the plan and asking (prod asks by default; CI passes --yes)",
    )
    args = parser.parse_args(argv)
    try:
        release = Release(
            args.environment,
            previous=args.previous,
            assume_yes=args.yes,
            poll_seconds=float(os.environ.get("RELEASE_POLL_SECONDS", "10")),
            timeout_seconds=float(os.environ.get("RELEASE_TIMEOUT_SECONDS", "1800")),
        )
        release.run()
    except ReleaseError as exc:
        print(f"release FAILED: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
