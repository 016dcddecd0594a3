"""Reading a release's environment (its services and task definitions, waiting for them to
settle) and the checks after the deploy: the rollouts completed, the worker and the daily
expiry run take the new image, the app's database user can log in."""

from __future__ import annotations

import json
import time
from typing import Any

from release_tools import (
    EXPIRY_CONTAINER,
    LOGIN_REFUSED_PATTERN,
    WEB_CONTAINER,
    WORKER_CONTAINER,
    Aws,
    Names,
    ReleaseError,
    say,
)


class ReleaseChecks:
    """The reads and the post-deploy checks of Release (release.py), which sets these."""

    names: Names
    aws: Aws
    image: str
    started_ms: int
    poll_seconds: float
    timeout_seconds: float

    def _confirm(self, *, deploy_succeeded: bool) -> None:
        ours = self.aws("ecs", "describe-task-definition", {"taskDefinition": self.names.web_family})[
            "taskDefinition"
        ]
        if self._container(ours, WEB_CONTAINER)["image"] != self.image:
            if not deploy_succeeded:
                raise ReleaseError(
                    f"cdktf deploy failed before registering a web task definition for {self.image}; "
                    "see its output above. The previous release keeps serving."
                )
            raise ReleaseError(
                f"the deploy did not register a web task definition for {self.image} "
                f"(latest {self.names.web_family} runs {self._container(ours, WEB_CONTAINER)['image']})"
            )
        self._confirm_rollout(self.names.service, ours["taskDefinitionArn"])
        if not deploy_succeeded:
            raise ReleaseError("cdktf deploy failed although the service rolled out; see its output above")

    def _confirm_lifecycle(self) -> None:
        """The worker and the daily expiry run take the new image too; check them, not just the web."""
        worker = self.aws("ecs", "describe-task-definition", {"taskDefinition": self.names.worker_family})[
            "taskDefinition"
        ]
        expiry = self.aws("ecs", "describe-task-definition", {"taskDefinition": self.names.expiry_family})[
            "taskDefinition"
        ]
        for definition, container in ((worker, WORKER_CONTAINER), (expiry, EXPIRY_CONTAINER)):
            image = self._container(definition, container)["image"]
            if image != self.image:
                raise ReleaseError(
                    f"the latest {definition['family']} runs {image}, not {self.image}: the deploy "
                    "did not update it"
                )
        self._confirm_rollout(self.names.worker_service, worker["taskDefinitionArn"])
        say(f"the notification worker runs {self.image}; the daily expiry task definition uses it")

    def _confirm_rollout(self, service_name: str, our_arn: str) -> None:
        def rollout() -> tuple[dict[str, Any], dict[str, Any] | None]:
            service = self._service(service_name)
            if service is None:
                raise ReleaseError(f"service {service_name} not found")
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

        service, mine = self._wait(rollout, done=settled, what=f"the deployment of {service_name} to settle")
        if (
            service.get("taskDefinition") == our_arn
            and mine is not None
            and mine.get("rolloutState") == "COMPLETED"
        ):
            return
        reason = (mine or {}).get("rolloutStateReason") or "no rollout state for this release's deployment"
        events = "\n".join(
            f"  {e.get('createdAt', '')} {e.get('message', '')}" for e in service.get("events", [])[:8]
        )
        raise ReleaseError(
            f"the deployment of {self.image} to {service_name} did not complete: {reason}\n"
            f"the service runs {service.get('taskDefinition')}; recent service events:\n{events}\n"
            "The migrations of this release stay applied (they are expand-only); the previous "
            "release keeps serving."
        )

    def _check_app_database_login(self) -> None:
        """A refused database login is invisible to the liveness checks: look for it here."""
        try:
            value = self.aws("secretsmanager", "get-secret-value", {"SecretId": self.names.app_db_secret})
            password = json.loads(value.get("SecretString") or "{}").get("password")
        except (ReleaseError, ValueError) as exc:
            raise ReleaseError(
                f"cannot read the app user's secret {self.names.app_db_secret}: {exc}"
            ) from exc
        if not password:
            raise ReleaseError(
                f"the app user's secret {self.names.app_db_secret} holds no password, so the web "
                "tasks cannot log in to the database. Run the migrate task again (it generates and "
                "stores one: docs/deploy.md, The app's database user), then force a new deployment."
            )
        found = self.aws(
            "logs",
            "filter-log-events",
            {
                "logGroupName": self.names.log_group,
                "startTime": self.started_ms,
                "filterPattern": LOGIN_REFUSED_PATTERN,
                "limit": 5,
            },
        )
        events = found.get("events", [])
        if events:
            lines = "\n".join(f"  {e.get('logStreamName', '')}: {e.get('message', '')}" for e in events)
            raise ReleaseError(
                "tasks logged refused database logins since this release began:\n"
                f"{lines}\nThe app user's password in {self.names.app_db_secret} and the database "
                "disagree: run the migrate task again (db_grant_app_user sets the secret's password)."
            )
        say("the app user's secret holds a password and no task logged a refused database login")

    # -- helpers ----------------------------------------------------------------------------------
    def _service(self, name: str | None = None, names: Names | None = None) -> dict[str, Any] | None:
        names = names or self.names
        aws = self.aws if names is self.names else Aws(names.region)
        try:
            found = aws(
                "ecs", "describe-services", {"cluster": names.cluster, "services": [name or names.service]}
            )
        except ReleaseError as exc:
            if "ClusterNotFoundException" in str(exc):
                return None
            raise
        services = [s for s in found.get("services", []) if s.get("status") != "INACTIVE"]
        return services[0] if services else None

    def _serving_image(self, names: Names) -> str | None:
        service = self._service(names=names)
        if service is None:
            return None
        definition = Aws(names.region)(
            "ecs", "describe-task-definition", {"taskDefinition": service["taskDefinition"]}
        )
        return str(self._container(definition["taskDefinition"], WEB_CONTAINER)["image"])

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
