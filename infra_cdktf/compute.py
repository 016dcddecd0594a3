"""ECR, the ECS cluster, the web service with its autoscaling, and the one-off migration task."""

from __future__ import annotations

import json
from dataclasses import dataclass

from cdktf import Token
from constructs import Construct

from infra_cdktf.aws import (
    AppautoscalingTarget,
    CloudwatchLogGroup,
    EcrLifecyclePolicy,
    EcrRepository,
    EcrRepositoryEncryptionConfiguration,
    EcsCluster,
    EcsClusterCapacityProviders,
    EcsClusterCapacityProvidersDefaultCapacityProviderStrategy,
    EcsClusterSetting,
    EcsService,
    EcsServiceCapacityProviderStrategy,
    EcsServiceLoadBalancer,
    EcsTaskDefinition,
)
from infra_cdktf.config import LIVENESS_PATH, EnvironmentConfig

CONTAINER_NAME = "web"
LIVENESS_COMMAND = [
    "CMD-SHELL",
    'python -c "import urllib.request; '
    f"urllib.request.urlopen('http://127.0.0.1:8000{LIVENESS_PATH}', timeout=3)\" || exit 1",
]
# As the database owner: migrate, then create or update the app's own database user and its
# grants (the web tasks connect as that user, which can change no schema and no ledger entry).
MIGRATE_COMMAND = ["sh", "-c", "python manage.py migrate --noinput && python manage.py db_grant_app_user"]
TMP_VOLUME = "tmp"
TMP_MOUNT = {"sourceVolume": TMP_VOLUME, "containerPath": "/tmp", "readOnly": False}  # noqa: S108


@dataclass(frozen=True, kw_only=True)
class ContainerRegistryProps:
    config: EnvironmentConfig


class ContainerRegistry(Construct):
    """Where images come from and where their logs go; the IAM roles are scoped to both."""

    repository: EcrRepository
    lifecycle_policy: EcrLifecyclePolicy
    log_group: CloudwatchLogGroup

    def __init__(self, scope: Construct, id_: str, *, props: ContainerRegistryProps) -> None:
        super().__init__(scope, id_)
        cfg = props.config
        self.repository = EcrRepository(
            self,
            "repository",
            name=cfg.resource_name("core"),
            # Immutable tags make "deploy tag X" mean the same image every time, which is what
            # rollback by re-deploying a previous tag relies on.
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration={"scan_on_push": True},
            encryption_configuration=[EcrRepositoryEncryptionConfiguration(encryption_type="AES256")],
            force_delete=not cfg.protect_from_deletion,
        )
        self.repository.override_logical_id("ecr_repository")
        self.lifecycle_policy = EcrLifecyclePolicy(
            self,
            "lifecycle",
            repository=self.repository.name,
            policy=json.dumps(
                {
                    "rules": [
                        {
                            "rulePriority": 1,
                            "description": f"Keep the last {cfg.ecr_keep_images} images",
                            "selection": {
                                "tagStatus": "any",
                                "countType": "imageCountMoreThan",
                                "countNumber": cfg.ecr_keep_images,
                            },
                            "action": {"type": "expire"},
                        }
                    ]
                }
            ),
        )
        self.log_group = CloudwatchLogGroup(
            self,
            "log_group",
            name=f"/ecs/awsomeshop-core-task-{cfg.name}",
            retention_in_days=cfg.log_retention_days,
        )

    @property
    def image(self) -> str:
        return Token.as_string(self.repository.repository_url)


@dataclass(frozen=True, kw_only=True)
class AppServiceProps:
    config: EnvironmentConfig
    image: str
    log_group_name: str
    execution_role_arn: str
    task_role_arn: str
    private_subnet_ids: list[str]
    app_security_group_id: str
    target_group_arn: str
    # Anything the service must wait for (the listener that attaches the target group).
    depends_on: list[object]
    environment: dict[str, str]
    # Name -> Secrets Manager reference ("arn" or "arn:json-key::").
    secrets: dict[str, str]
    # The migrate task logs in as the database owner: its own roles (only its execution role
    # reads the master secret), and these on top of the above.
    migrate_execution_role_arn: str
    migrate_task_role_arn: str
    migrate_environment: dict[str, str]
    migrate_secrets: dict[str, str]


class AppService(Construct):
    cluster: EcsCluster
    capacity_providers: EcsClusterCapacityProviders
    task_definition: EcsTaskDefinition
    migrate_task_definition: EcsTaskDefinition
    service: EcsService
    # Its policies are in infra_cdktf/scaling.py.
    scaling_target: AppautoscalingTarget

    def __init__(self, scope: Construct, id_: str, *, props: AppServiceProps) -> None:
        super().__init__(scope, id_)
        cfg = props.config
        self.cluster = EcsCluster(
            self,
            "cluster",
            name=cfg.resource_name("cluster"),
            setting=[EcsClusterSetting(name="containerInsights", value="enabled")],
        )
        self.capacity_providers = EcsClusterCapacityProviders(
            self,
            "capacity_providers",
            cluster_name=self.cluster.name,
            capacity_providers=["FARGATE", "FARGATE_SPOT"],
            default_capacity_provider_strategy=[
                EcsClusterCapacityProvidersDefaultCapacityProviderStrategy(
                    capacity_provider="FARGATE", weight=1, base=0
                )
            ],
        )
        environment = [{"name": k, "value": v} for k, v in sorted(props.environment.items())]
        secrets = [{"name": k, "valueFrom": v} for k, v in sorted(props.secrets.items())]

        def logging(stream_prefix: str) -> dict[str, object]:
            return {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": props.log_group_name,
                    "awslogs-region": cfg.region,
                    "awslogs-stream-prefix": stream_prefix,
                },
            }

        if not cfg.image_tag:
            raise ValueError(
                f"{cfg.name}: no image tag; set AWSOMESHOP_IMAGE_TAG to the release's commit (no `latest`)"
            )
        web_container = {
            "name": CONTAINER_NAME,
            "image": f"{props.image}:{cfg.image_tag}",
            "essential": True,
            "portMappings": [
                {"containerPort": cfg.container_port, "hostPort": cfg.container_port, "protocol": "tcp"}
            ],
            "environment": environment,
            "secrets": secrets,
            "logConfiguration": logging("web"),
            "healthCheck": {
                "command": LIVENESS_COMMAND,
                "interval": 30,
                "timeout": 5,
                "retries": 3,
                "startPeriod": 60,
            },
            # Nothing in the image is written at run time (static files are collected at build,
            # PYTHONDONTWRITEBYTECODE is set); uploads spool to /tmp, a task volume, and gunicorn's
            # heartbeats go to /dev/shm.
            "readonlyRootFilesystem": True,
            "mountPoints": [TMP_MOUNT],
            "stopTimeout": cfg.stop_timeout_seconds,
        }
        common = {
            "network_mode": "awsvpc",
            "requires_compatibilities": ["FARGATE"],
            "cpu": str(cfg.task_cpu),
            "memory": str(cfg.task_memory),
            "execution_role_arn": props.execution_role_arn,
            "task_role_arn": props.task_role_arn,
            "runtime_platform": {"operating_system_family": "LINUX", "cpu_architecture": "X86_64"},
            # A bind-mount volume without a host path is the task's ephemeral storage (Fargate has
            # no tmpfs mounts): the one writable place besides /dev/shm.
            "volume": [{"name": TMP_VOLUME}],
        }
        self.task_definition = EcsTaskDefinition(
            self,
            "task_definition",
            family=f"awsomeshop-core-task-{cfg.name}",
            container_definitions=json.dumps([web_container]),
            **common,  # type: ignore[arg-type]
        )
        # Migrations run once per release as their own task, never from the web containers'
        # entrypoint, so 2-10 containers starting together cannot race on the schema.
        migrate_env = {**props.environment, **props.migrate_environment}
        migrate_secrets = {**props.secrets, **props.migrate_secrets}
        migrate_container = {
            "name": "migrate",
            "image": web_container["image"],
            "essential": True,
            "command": MIGRATE_COMMAND,
            "environment": [{"name": k, "value": v} for k, v in sorted(migrate_env.items())],
            "secrets": [{"name": k, "valueFrom": v} for k, v in sorted(migrate_secrets.items())],
            "logConfiguration": logging("migrate"),
            "readonlyRootFilesystem": True,
            "mountPoints": [TMP_MOUNT],
        }
        self.migrate_task_definition = EcsTaskDefinition(
            self,
            "migrate_task_definition",
            family=f"awsomeshop-migrate-task-{cfg.name}",
            container_definitions=json.dumps([migrate_container]),
            **{  # type: ignore[arg-type]
                **common,
                "execution_role_arn": props.migrate_execution_role_arn,
                "task_role_arn": props.migrate_task_role_arn,
            },
        )
        # scripts/release.sh registers this definition alone (terraform apply -target) before the
        # migrations run, so its address must not depend on the construct tree.
        self.migrate_task_definition.override_logical_id("migrate_task_definition")

        if cfg.use_fargate_spot:
            # One on-demand task always; the rest mostly on Spot (up to 70 % cheaper).
            strategy = [
                EcsServiceCapacityProviderStrategy(capacity_provider="FARGATE", base=1, weight=1),
                EcsServiceCapacityProviderStrategy(capacity_provider="FARGATE_SPOT", base=0, weight=3),
            ]
        else:
            strategy = [EcsServiceCapacityProviderStrategy(capacity_provider="FARGATE", base=0, weight=1)]
        self.service = EcsService(
            self,
            "service",
            name=cfg.resource_name("core-service"),
            cluster=self.cluster.id,
            task_definition=self.task_definition.arn,
            desired_count=cfg.desired_count,
            capacity_provider_strategy=strategy,
            platform_version="LATEST",
            deployment_maximum_percent=200,
            deployment_minimum_healthy_percent=50,
            deployment_circuit_breaker={"enable": True, "rollback": True},
            # Apply waits until the service is steady. It does NOT fail when the circuit breaker
            # rolls the deployment back (the rolled-back service is steady too; provider issue
            # #20858), so scripts/release.sh checks every rollout afterwards and prints the reason.
            wait_for_steady_state=True,
            health_check_grace_period_seconds=60,
            network_configuration={
                "subnets": props.private_subnet_ids,
                "security_groups": [props.app_security_group_id],
                "assign_public_ip": False,
            },
            load_balancer=[
                EcsServiceLoadBalancer(
                    target_group_arn=props.target_group_arn,
                    container_name=CONTAINER_NAME,
                    container_port=cfg.container_port,
                )
            ],
            propagate_tags="SERVICE",
            enable_ecs_managed_tags=True,
            # Autoscaling owns the running count after the first deploy.
            lifecycle={"ignore_changes": ["desired_count"]},
            depends_on=[*props.depends_on, self.capacity_providers],  # type: ignore[list-item]
        )

        self.scaling_target = AppautoscalingTarget(
            self,
            "scaling_target",
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=f"service/{self.cluster.name}/{self.service.name}",
            min_capacity=cfg.min_capacity,
            max_capacity=cfg.max_capacity,
        )
