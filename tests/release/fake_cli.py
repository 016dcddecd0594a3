"""Stand-ins for `aws`, `docker` and `cdktf` in the release tests.

The executables on PATH are shims running tests/release/fake_client.py, which sends each call
(arguments, stdin, the AWSOMESHOP_* variables) to the `FakeTools` server in the test process
and prints its answer; a bare Python start per call, with boto3 loaded once here, keeps a
release's twenty-odd calls fast. Every call is recorded in `FakeTools.calls`. Answers come from:

- the scenario: "aws ecs describe-tasks", "docker push", "cdktf deploy"... mapped to one answer
  or a list consumed call by call (the last one repeats). An answer is {"stdout": <text or
  JSON>, "stderr": str, "rc": int}, or {"moto": true} to pass the call on, optionally with "rc"
  to pass it on and then fail. In stdout, "@latest:FAMILY@" becomes the ARN of that task
  definition family's latest revision.
- moto: `aws SERVICE OP --cli-input-json JSON` is the same API call made with boto3 (the CLI's
  JSON input is the API's input), and errors come back as the CLI prints them. `cdktf deploy`
  does what Terraform does to the release's resources: the cluster and network on the first
  deploy, the web and migrate task definitions with the new image, the service created or
  updated.
- docker: `push` puts a manifest for the image into moto's ECR (so it has a digest), and
  `buildx imagetools create --tag DST SRC@DIGEST` copies that manifest, as a registry-side copy
  does: the digest stays the same. Other docker calls succeed.
- `terraform apply -target=<the migrate task definition>` registers the migrate family's
  revision for the tag, with a setting only this release's definition has (RELEASED_COMMIT);
  a migrate task that moto "runs" stores the app user's password in its secret, as
  db_grant_app_user does.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

REPO = Path(__file__).resolve().parents[2]
# scripts/release_tools.py: the release's names and constants, imported where a fake needs them.
sys.path.insert(0, str(REPO / "scripts"))
REGION = "us-east-2"
Answer = tuple[str, str, int]  # stdout, stderr, exit code


def call_key(tool: str, args: list[str]) -> str:
    words = [a for a in args if not a.startswith("-")]
    return " ".join([tool, *words[: 2 if tool == "aws" else 1]])


class FakeTools:
    def __init__(self, moto_url: str) -> None:
        self.moto_url = moto_url
        self.calls: list[dict[str, Any]] = []
        self.scenario: dict[str, Any] = {}
        self._consumed: dict[str, int] = {}
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        tools = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with tools._lock:
                    stdout, stderr, rc = tools.handle(request)
                body = json.dumps({"stdout": stdout, "stderr": stderr, "rc": rc}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> FakeTools:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self, scenario: dict[str, Any] | None = None) -> None:
        self.calls.clear()
        self.scenario = scenario or {}
        self._consumed.clear()

    def keys(self) -> list[str]:
        return [call_key(c["tool"], c["args"]) for c in self.calls]

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = boto3.client(
                service,
                region_name=REGION,
                endpoint_url=self.moto_url,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
        return self._clients[service]

    # -- one call -------------------------------------------------------------------------------
    def handle(self, request: dict[str, Any]) -> Answer:
        tool, args, env = request["tool"], request["args"], request["env"]
        self.calls.append({"tool": tool, "args": args, "stdin": request["stdin"], "env": env})
        answer = self._scripted(call_key(tool, args))
        if answer is not None and not answer.get("moto"):
            stdout = answer.get("stdout", "")
            text = stdout if isinstance(stdout, str) else json.dumps(stdout)
            return self._fill(text), answer.get("stderr", ""), int(answer.get("rc", 0))
        rc = int((answer or {}).get("rc", 0))
        if tool == "aws":
            stdout, stderr, aws_rc = self._aws(args)
            if args[:2] == ["ecs", "run-task"] and not aws_rc:
                self._grant_app_user(env, args)
            return stdout, stderr, aws_rc or rc
        if tool == "cdktf" and args[:1] == ["deploy"]:
            self._terraform(env)
        if tool == "terraform" and "apply" in args:
            self._register_migrate(env)
        if tool == "docker":
            self._docker(args)
        return "", "", rc

    def _scripted(self, key: str) -> dict[str, Any] | None:
        answers = self.scenario.get(key)
        if answers is None or isinstance(answers, dict):
            return answers
        index = self._consumed.get(key, 0)
        self._consumed[key] = index + 1
        return dict(answers[min(index, len(answers) - 1)])

    def _aws(self, args: list[str]) -> Answer:
        service, operation = args[0], args[1]
        try:
            if (service, operation) == ("ecr", "get-login-password"):
                token = self.client("ecr").get_authorization_token()["authorizationData"][0][
                    "authorizationToken"
                ]
                return base64.b64decode(token).decode().split(":", 1)[1], "", 0
            payload = (
                json.loads(args[args.index("--cli-input-json") + 1]) if "--cli-input-json" in args else {}
            )
            result = getattr(self.client(service), operation.replace("-", "_"))(**payload)
        except ClientError as exc:
            error = exc.response["Error"]
            message = f"An error occurred ({error['Code']}) when calling the {exc.operation_name} operation: {error['Message']}"
            return "", message, 254
        result.pop("ResponseMetadata", None)
        return json.dumps(result, default=str), "", 0

    def _names(self, env: dict[str, str]) -> Any:
        from release_tools import Names  # type: ignore[import-not-found]

        from infra_cdktf.config import environment_settings

        return Names.of(environment_settings(env["AWSOMESHOP_ENVIRONMENTS"], env))

    def _image(self, names: Any, env: dict[str, str]) -> str:
        uri = self.client("ecr").describe_repositories(repositoryNames=[names.repository])["repositories"][0][
            "repositoryUri"
        ]
        return f"{uri}:{env['AWSOMESHOP_IMAGE_TAG']}"

    def _register(self, family: str, container: str, image: str, **extra: Any) -> str:
        # moto's run-task needs a container-level memory figure; Fargate sets it per task.
        definition: dict[str, Any] = {"name": container, "image": image, "essential": True, "memory": 1024}
        definition.update(extra)
        return str(
            self.client("ecs").register_task_definition(
                family=family,
                containerDefinitions=[definition],
                networkMode="awsvpc",
                requiresCompatibilities=["FARGATE"],
                cpu="512",
                memory="1024",
            )["taskDefinition"]["taskDefinitionArn"]
        )

    def _register_migrate(self, env: dict[str, str]) -> None:
        """`terraform apply -target=<migrate task definition>`: this release's migrate definition."""
        from release_tools import MIGRATE_CONTAINER  # type: ignore[import-not-found]

        names = self._names(env)
        self._register(
            names.migrate_family,
            MIGRATE_CONTAINER,
            self._image(names, env),
            command=["python", "manage.py", "migrate", "--noinput"],
            environment=[{"name": "RELEASED_COMMIT", "value": env["AWSOMESHOP_IMAGE_TAG"]}],
        )

    def _grant_app_user(self, env: dict[str, str], args: list[str]) -> None:
        """A migrate task ran: db_grant_app_user stores a password when the secret has none."""
        payload = json.loads(args[args.index("--cli-input-json") + 1])
        if "migrate" not in payload["taskDefinition"]:
            return
        secrets = self.client("secretsmanager")
        for secret in secrets.list_secrets()["SecretList"]:
            if secret["Name"].startswith("awsomeshop-db-app-user-"):
                value = json.loads(secrets.get_secret_value(SecretId=secret["Name"])["SecretString"])
                if not value.get("password"):
                    value["password"] = "generated-by-db-grant-app-user"
                    secrets.put_secret_value(SecretId=secret["Name"], SecretString=json.dumps(value))

    def _docker(self, args: list[str]) -> None:
        ecr = self.client("ecr")
        if args[:1] == ["push"]:
            repository, tag = args[1].split("/", 1)[1].rsplit(":", 1)
            manifest = {
                "schemaVersion": 2,
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1,
                           "digest": "sha256:" + hashlib.sha256(tag.encode()).hexdigest()},
                "layers": [],
            }  # fmt: skip
            ecr.put_image(repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=tag)
        if args[:3] == ["buildx", "imagetools", "create"]:
            target = args[args.index("--tag") + 1]
            repository, tag = target.split("/", 1)[1].rsplit(":", 1)
            source_repository, digest = args[-1].split("/", 1)[1].split("@", 1)
            images = ecr.batch_get_image(
                repositoryName=source_repository, imageIds=[{"imageDigest": digest}]
            )["images"]
            # moto answers a digest with every image of the repository; keep the one asked for.
            image = next(i for i in images if i["imageId"]["imageDigest"] == digest)
            ecr.put_image(repositoryName=repository, imageManifest=image["imageManifest"], imageTag=tag)

    def _terraform(self, env: dict[str, str]) -> None:
        """What `cdktf deploy` changes for a release: task definitions with the tag, the services."""
        from release_tools import (  # type: ignore[import-not-found]
            EXPIRY_CONTAINER,
            MIGRATE_CONTAINER,
            WEB_CONTAINER,
            WORKER_CONTAINER,
        )

        from infra_cdktf.config import BOOTSTRAP_VARIABLE

        names = self._names(env)
        ecs, ec2, logs = self.client("ecs"), self.client("ec2"), self.client("logs")
        image = self._image(names, env)
        ecs.create_cluster(clusterName=names.cluster)
        if not logs.describe_log_groups(logGroupNamePrefix=names.log_group)["logGroups"]:
            logs.create_log_group(logGroupName=names.log_group)
        if env.get(BOOTSTRAP_VARIABLE) == "1":
            # Only the first release's deploy writes the placeholder (infra_cdktf/data.py).
            self.client("secretsmanager").create_secret(
                Name=names.app_db_secret,
                SecretString=json.dumps({"username": "awsomeshop_app", "password": ""}),
            )
        arns = {
            WEB_CONTAINER: self._register(names.web_family, WEB_CONTAINER, image),
            WORKER_CONTAINER: self._register(names.worker_family, WORKER_CONTAINER, image),
        }
        self._register(names.expiry_family, EXPIRY_CONTAINER, image)
        self._register(
            names.migrate_family,
            MIGRATE_CONTAINER,
            image,
            command=["python", "manage.py", "migrate", "--noinput"],
            environment=[{"name": "RELEASED_COMMIT", "value": env["AWSOMESHOP_IMAGE_TAG"]}],
        )
        services = ecs.describe_services(cluster=names.cluster, services=[names.service])["services"]
        if services and services[0]["status"] == "ACTIVE":
            for service, container in (
                (names.service, WEB_CONTAINER),
                (names.worker_service, WORKER_CONTAINER),
            ):
                ecs.update_service(cluster=names.cluster, service=service, taskDefinition=arns[container])
            return
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24")["Subnet"]["SubnetId"]
        group = ec2.create_security_group(GroupName=f"app-{names.cluster}", Description="app", VpcId=vpc)[
            "GroupId"
        ]
        for service, container, count in (
            (names.service, WEB_CONTAINER, 2),
            (names.worker_service, WORKER_CONTAINER, 1),
        ):
            ecs.create_service(
                cluster=names.cluster,
                serviceName=service,
                taskDefinition=arns[container],
                desiredCount=count,
                launchType="FARGATE",
                networkConfiguration={
                    "awsvpcConfiguration": {
                        "subnets": [subnet],
                        "securityGroups": [group],
                        "assignPublicIp": "DISABLED",
                    }
                },
            )

    def _fill(self, text: str) -> str:
        while "@latest:" in text:
            start = text.index("@latest:")
            end = text.index("@", start + 1)
            family = text[start + len("@latest:") : end]
            definition = self.client("ecs").describe_task_definition(taskDefinition=family)["taskDefinition"]
            text = text[:start] + definition["taskDefinitionArn"] + text[end + 1 :]
        return text
