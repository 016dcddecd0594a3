"""Points lifecycle in AWS: the notification worker, the daily points-expiry run, and the
alarms that say when either falls behind (the SES identity the worker sends through is mail.py).

Why a worker service and not a schedule every minute (docs/deploy.md has the figures): a
Fargate task takes 30-60 s to start, so a once-a-minute task would often still be starting
when the next one is due (overlapping runs), mail would wait one to two minutes instead of
seconds, and every start pulls the image again through the NAT gateway. One small always-on
task (0.25 vCPU, 0.5 GB) costs about $9 a month and drains the outbox every 10 seconds.
The daily expiry run is the opposite case: one short task a day, started by EventBridge
Scheduler.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cdktf import TerraformOutput
from constructs import Construct

from infra_cdktf.aws import (
    CloudwatchEventRule,
    CloudwatchEventTarget,
    CloudwatchMetricAlarm,
    DataAwsCallerIdentity,
    DataAwsPartition,
    EcsService,
    EcsServiceCapacityProviderStrategy,
    EcsTaskDefinition,
    IamRole,
    IamRolePolicy,
    SchedulerSchedule,
    SqsQueue,
    SqsQueuePolicy,
)
from infra_cdktf.compute import TMP_VOLUME
from infra_cdktf.config import METRICS_NAMESPACE, EnvironmentConfig
from infra_cdktf.mail import Mail
from infra_cdktf.monitoring import AlarmSpec, metric_alarm

WORKER_CONTAINER = "worker"
# Besides mail, the worker deletes expired sessions and idempotency keys every hour
# (orders.housekeeping): the one process that always runs, so no schedule of its own.
WORKER_COMMAND = [
    "python", "manage.py", "send_notifications", "--loop", "--interval", "10", "--batch-size", "50",
    "--purge-every", "3600",
]  # fmt: skip
WORKER_CPU = 256
WORKER_MEMORY = 512
# SIGTERM lets the worker finish the batch in hand (50 messages); Fargate allows at most 120 s.
WORKER_STOP_TIMEOUT_SECONDS = 60

EXPIRY_CONTAINER = "expire-points"
EXPIRY_COMMAND = ["python", "manage.py", "expire_points"]
# 00:30 UTC: the day has turned in the app's time zone (UTC), and it is clear of the database's
# 03:00-04:00 backup window and Sunday 04:00-05:00 maintenance window.
EXPIRY_SCHEDULE = "cron(30 0 * * ? *)"
EXPIRY_SCHEDULE_TIMEZONE = "UTC"
# A failed RunTask call (throttling, permissions) is retried for up to 6 hours, then dead-lettered.
EXPIRY_RETRY_ATTEMPTS = 10
EXPIRY_MAX_EVENT_AGE_SECONDS = 6 * 3600

OUTBOX_AGE_METRIC = "OutboxOldestAge"
# A message waiting 15 minutes means the worker is down, stuck, or SES refuses to send.
OUTBOX_AGE_THRESHOLD_SECONDS = 900
ALARM_KEYS = ("outbox-oldest-age", "expiry-failed")


def lifecycle_environment(config: EnvironmentConfig, mail: Mail) -> dict[str, str]:
    """The settings the web, worker and expiry containers all need."""
    return {"POINTS_EXPIRY_MONTHS": str(config.points_expiry_months), **mail.environment}


@dataclass(frozen=True, kw_only=True)
class PointsLifecycleProps:
    config: EnvironmentConfig
    cluster_arn: str
    cluster_name: str
    # The cluster's capacity providers must exist before a service asks for them.
    capacity_providers: Any
    # The web task definition: the worker and the expiry run take its image, settings, log
    # configuration and read-only root with its /tmp, so they do not drift from the web containers.
    web_task_definition: EcsTaskDefinition
    execution_role_arn: str
    # Their own task roles (identity.WorkloadRoles), not the web role.
    worker_task_role_arn: str
    expiry_task_role_arn: str
    private_subnet_ids: list[str]
    app_security_group_id: str
    alarm_topic_arn: str


class PointsLifecycle(Construct):
    worker_task_definition: EcsTaskDefinition
    worker_service: EcsService
    expiry_task_definition: EcsTaskDefinition
    scheduler_role: IamRole
    scheduler_policy: IamRolePolicy
    failure_queue: SqsQueue
    failure_rule: CloudwatchEventRule
    expiry_schedule: SchedulerSchedule
    alarms: dict[str, CloudwatchMetricAlarm]

    def __init__(self, scope: Construct, id_: str, *, props: PointsLifecycleProps) -> None:
        super().__init__(scope, id_)
        cfg = props.config
        (web,) = json.loads(props.web_task_definition.container_definitions_input or "[]")
        network = {
            "subnets": props.private_subnet_ids,
            "security_groups": [props.app_security_group_id],
            "assign_public_ip": False,
        }

        def container(name: str, command: list[str], **extra: Any) -> str:
            options = web["logConfiguration"]["options"]
            return json.dumps(
                [
                    {
                        "name": name,
                        "image": web["image"],
                        "essential": True,
                        "command": command,
                        "environment": web["environment"],
                        "secrets": web["secrets"],
                        "logConfiguration": {
                            **web["logConfiguration"],
                            "options": {**options, "awslogs-stream-prefix": name},
                        },
                        # The web container's read-only root and its one writable /tmp.
                        "readonlyRootFilesystem": web["readonlyRootFilesystem"],
                        "mountPoints": web["mountPoints"],
                        **extra,
                    }
                ]
            )

        def task_definition(key: str, family: str, containers: str, task_role_arn: str) -> EcsTaskDefinition:
            return EcsTaskDefinition(
                self,
                key,
                family=family,
                container_definitions=containers,
                network_mode="awsvpc",
                requires_compatibilities=["FARGATE"],
                cpu=str(WORKER_CPU),
                memory=str(WORKER_MEMORY),
                execution_role_arn=props.execution_role_arn,
                task_role_arn=task_role_arn,
                runtime_platform={"operating_system_family": "LINUX", "cpu_architecture": "X86_64"},
                volume=[{"name": TMP_VOLUME}],
            )

        # --- The notification worker: one task, never two at once --------------------------
        self.worker_task_definition = task_definition(
            "worker_task_definition",
            f"awsomeshop-worker-task-{cfg.name}",
            container(WORKER_CONTAINER, WORKER_COMMAND, stopTimeout=WORKER_STOP_TIMEOUT_SECONDS),
            props.worker_task_role_arn,
        )
        # The outbox is durable, so an interruption only delays mail: Spot is safe when enabled.
        provider = "FARGATE_SPOT" if cfg.use_fargate_spot else "FARGATE"
        self.worker_service = EcsService(
            self,
            "worker_service",
            name=cfg.resource_name("notifications-worker"),
            cluster=props.cluster_arn,
            task_definition=self.worker_task_definition.arn,
            desired_count=1,
            capacity_provider_strategy=[
                EcsServiceCapacityProviderStrategy(capacity_provider=provider, base=0, weight=1)
            ],
            platform_version="LATEST",
            # Stop the old worker before starting the new one: a deployment never runs two.
            deployment_maximum_percent=100,
            deployment_minimum_healthy_percent=0,
            deployment_circuit_breaker={"enable": True, "rollback": True},
            # The apply waits for the worker as for the web service; a rollback still reports
            # success (provider issue #20858), which scripts/release.sh checks for.
            wait_for_steady_state=True,
            network_configuration=network,
            propagate_tags="SERVICE",
            enable_ecs_managed_tags=True,
            depends_on=[props.capacity_providers],
        )

        # --- The daily expiry run -----------------------------------------------------------
        # Its own task definition with the command in it (the migrate task's pattern): the
        # provider's scheduler target has no container overrides (terraform-provider-aws #34057).
        family = f"awsomeshop-expire-points-task-{cfg.name}"
        self.expiry_task_definition = task_definition(
            "expiry_task_definition",
            family,
            container(EXPIRY_CONTAINER, EXPIRY_COMMAND),
            props.expiry_task_role_arn,
        )
        account = DataAwsCallerIdentity(self, "account")
        partition = DataAwsPartition(self, "partition")
        arn_prefix = f"arn:{partition.partition}:ecs:{cfg.region}:{account.account_id}"
        # Every way the daily run can fail ends as a message here, and one alarm watches it:
        # the scheduler's dead letters (RunTask refused after the retries) and ECS's event for
        # an expiry task that stopped with an error or never started. A queue, because the
        # scheduler's dead-letter target must be one; the ECS events join it so that one alarm
        # covers both.
        self.failure_queue = SqsQueue(
            self,
            "expiry_failures",
            name=cfg.resource_name("expiry-failures"),
            sqs_managed_sse_enabled=True,
            message_retention_seconds=14 * 24 * 3600,
        )
        self.scheduler_role = IamRole(
            self,
            "scheduler_role",
            name=cfg.resource_name("expiry-scheduler-role"),
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "scheduler.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                            # Only schedules of this account may use the role.
                            "Condition": {"StringEquals": {"aws:SourceAccount": account.account_id}},
                        }
                    ],
                }
            ),
        )
        self.scheduler_policy = IamRolePolicy(
            self,
            "scheduler_policy",
            name="run-expire-points",
            role=self.scheduler_role.id,
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "RunTheExpiryTask",
                            "Effect": "Allow",
                            "Action": ["ecs:RunTask"],
                            "Resource": [f"{arn_prefix}:task-definition/{family}:*"],
                            "Condition": {"ArnEquals": {"ecs:cluster": props.cluster_arn}},
                        },
                        {
                            # RunTask with managed and propagated tags needs TagResource too.
                            "Sid": "TagTheExpiryTask",
                            "Effect": "Allow",
                            "Action": ["ecs:TagResource"],
                            "Resource": [f"{arn_prefix}:task/{props.cluster_name}/*"],
                            "Condition": {"StringEquals": {"ecs:CreateAction": "RunTask"}},
                        },
                        {
                            "Sid": "PassTheTaskRoles",
                            "Effect": "Allow",
                            "Action": ["iam:PassRole"],
                            "Resource": [props.expiry_task_role_arn, props.execution_role_arn],
                            "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
                        },
                        {
                            "Sid": "DeadLetter",
                            "Effect": "Allow",
                            "Action": ["sqs:SendMessage"],
                            "Resource": [self.failure_queue.arn],
                        },
                    ],
                }
            ),
        )
        self.expiry_schedule = SchedulerSchedule(
            self,
            "expiry_schedule",
            name=cfg.resource_name("expire-points"),
            description="Daily: python manage.py expire_points (idempotent per date)",
            schedule_expression=EXPIRY_SCHEDULE,
            schedule_expression_timezone=EXPIRY_SCHEDULE_TIMEZONE,
            flexible_time_window={"mode": "OFF"},
            state="ENABLED",
            target={
                "arn": props.cluster_arn,
                "role_arn": self.scheduler_role.arn,
                "ecs_parameters": {
                    "task_definition_arn": self.expiry_task_definition.arn,
                    "task_count": 1,
                    "launch_type": "FARGATE",
                    "platform_version": "LATEST",
                    "network_configuration": network,
                    "enable_ecs_managed_tags": True,
                    "propagate_tags": "TASK_DEFINITION",
                },
                "retry_policy": {
                    "maximum_retry_attempts": EXPIRY_RETRY_ATTEMPTS,
                    "maximum_event_age_in_seconds": EXPIRY_MAX_EVENT_AGE_SECONDS,
                },
                "dead_letter_config": {"arn": self.failure_queue.arn},
            },
            # The policy must exist before the first invocation is attempted.
            depends_on=[self.scheduler_policy],
        )

        self.failure_rule = CloudwatchEventRule(
            self,
            "expiry_task_failed",
            name=cfg.resource_name("expiry-task-failed"),
            description="An expire_points task stopped with a non-zero exit code or never started",
            event_pattern=json.dumps(
                {
                    "source": ["aws.ecs"],
                    "detail-type": ["ECS Task State Change"],
                    "detail": {
                        "clusterArn": [props.cluster_arn],
                        # RunTask without a group puts the task in "family:<family>".
                        "group": [f"family:{family}"],
                        "lastStatus": ["STOPPED"],
                        "$or": [
                            {"containers": {"exitCode": [{"anything-but": 0}]}},
                            {"stopCode": ["TaskFailedToStart"]},
                        ],
                    },
                }
            ),
        )
        CloudwatchEventTarget(
            self,
            "expiry_task_failed_target",
            rule=self.failure_rule.name,
            arn=self.failure_queue.arn,
        )
        SqsQueuePolicy(
            self,
            "expiry_failures_policy",
            queue_url=self.failure_queue.url,
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "FailedExpiryTaskEvents",
                            "Effect": "Allow",
                            "Principal": {"Service": "events.amazonaws.com"},
                            "Action": "sqs:SendMessage",
                            "Resource": self.failure_queue.arn,
                            "Condition": {"ArnEquals": {"aws:SourceArn": self.failure_rule.arn}},
                        }
                    ],
                }
            ),
        )

        # --- Alarms ------------------------------------------------------------------------
        specs = [
            AlarmSpec(
                key="outbox-oldest-age",
                description=(
                    f"A notification has waited more than {OUTBOX_AGE_THRESHOLD_SECONDS // 60} minutes "
                    "for 10 minutes, or the worker stopped reporting. Runbook: docs/deploy.md "
                    '"Points expiry and notifications in AWS"'
                ),
                namespace=METRICS_NAMESPACE,
                metric=OUTBOX_AGE_METRIC,
                dimensions={"Environment": cfg.name},
                statistic="Maximum",
                period=300,
                evaluation_periods=2,
                comparison="GreaterThanThreshold",
                threshold=OUTBOX_AGE_THRESHOLD_SECONDS,
                # The worker reports the age every round, 0 when the outbox is empty, so silence
                # means no worker is draining it: that is the outage this alarm exists for.
                treat_missing_data="breaching",
            ),
            AlarmSpec(
                key="expiry-failed",
                description=(
                    "The daily expire_points run failed: not started after the retries, stopped with "
                    f"an error, or never started (details in the queue {cfg.resource_name('expiry-failures')}). "
                    'Runbook: docs/deploy.md "Points expiry and notifications in AWS"'
                ),
                namespace="AWS/SQS",
                metric="ApproximateNumberOfMessagesVisible",
                dimensions={"QueueName": self.failure_queue.name},
                statistic="Maximum",
                period=300,
                evaluation_periods=1,
                comparison="GreaterThanThreshold",
                threshold=0,
            ),
        ]
        self.alarms = {
            spec.key: metric_alarm(self, cfg, spec, topic_arn=props.alarm_topic_arn) for spec in specs
        }

        outputs = {
            "expire_points_task_definition_arn": (
                self.expiry_task_definition.arn,
                "Run by hand (e.g. --as-of) with a command override of container expire-points",
            ),
            "notifications_worker_service_name": (self.worker_service.name, "ECS notification worker"),
        }
        for key, (value, description) in outputs.items():
            output = TerraformOutput(self, key, value=value, description=description)
            output.override_logical_id(key)
