"""SNS alerts, the design's CloudWatch alarms, and an operations dashboard."""

from __future__ import annotations

import json
from dataclasses import dataclass

from constructs import Construct

from infra_cdktf.aws import (
    BudgetsBudget,
    BudgetsBudgetCostFilter,
    BudgetsBudgetNotification,
    CloudwatchDashboard,
    CloudwatchLogMetricFilter,
    CloudwatchMetricAlarm,
    DataAwsCallerIdentity,
    KmsKey,
    SnsTopic,
    SnsTopicPolicy,
    SnsTopicSubscription,
)
from infra_cdktf.config import LOGIN_REFUSED_MESSAGE, METRICS_NAMESPACE, EnvironmentConfig

GIB = 1024**3


@dataclass(frozen=True, kw_only=True)
class MonitoringProps:
    config: EnvironmentConfig
    cluster_name: str
    service_name: str
    # DBInstanceIdentifier, or DBClusterIdentifier for Aurora.
    db_dimensions: dict[str, str]
    # Aurora storage grows by itself: no free-storage alarm.
    db_has_storage_limit: bool
    db_proxy_name: str
    alb_arn_suffix: str
    target_group_arn_suffix: str
    # The containers' log group (web, worker, expiry, migrate streams).
    app_log_group_name: str


# Counted from the tasks' log lines by a metric filter (no task publishes it).
LOGIN_REFUSED_METRIC = "DatabaseLoginRefused"


@dataclass(frozen=True, kw_only=True)
class AlarmSpec:
    key: str
    namespace: str
    metric: str
    statistic: str
    comparison: str
    threshold: float
    period: int
    evaluation_periods: int
    dimensions: dict[str, str]
    description: str
    # A silent metric usually means the thing that reports it is gone.
    treat_missing_data: str = "notBreaching"


def metric_alarm(
    scope: Construct, cfg: EnvironmentConfig, spec: AlarmSpec, *, topic_arn: str
) -> CloudwatchMetricAlarm:
    """One metric's alarm, named for the environment, telling the alert topic when it fires and
    when it clears."""
    return CloudwatchMetricAlarm(
        scope,
        spec.key.replace("-", "_"),
        alarm_name=cfg.resource_name(spec.key),
        alarm_description=spec.description,
        namespace=spec.namespace,
        metric_name=spec.metric,
        statistic=spec.statistic,
        comparison_operator=spec.comparison,
        threshold=spec.threshold,
        period=spec.period,
        evaluation_periods=spec.evaluation_periods,
        dimensions=spec.dimensions,
        treat_missing_data=spec.treat_missing_data,
        alarm_actions=[topic_arn],
        ok_actions=[topic_arn],
    )


class Monitoring(Construct):
    topic: SnsTopic
    topic_key: KmsKey
    budget: BudgetsBudget
    alarms: dict[str, CloudwatchMetricAlarm]
    login_refused_filter: CloudwatchLogMetricFilter
    dashboard: CloudwatchDashboard

    def __init__(self, scope: Construct, id_: str, *, props: MonitoringProps) -> None:
        super().__init__(scope, id_)
        cfg = props.config
        account = DataAwsCallerIdentity(self, "account")
        # CloudWatch alarms and AWS Budgets cannot use the AWS-managed SNS key (its policy admits
        # neither), so alarms on a topic encrypted with it are never delivered: a key of our own.
        publishers = ["cloudwatch.amazonaws.com", "budgets.amazonaws.com"]
        self.topic_key = KmsKey(
            self,
            "alerts_key",
            description=f"Encrypts the {cfg.resource_name('alerts')} topic",
            enable_key_rotation=True,
            deletion_window_in_days=7 if not cfg.protect_from_deletion else 30,
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "AccountAdministers",
                            "Effect": "Allow",
                            "Principal": {"AWS": f"arn:aws:iam::{account.account_id}:root"},
                            "Action": "kms:*",
                            "Resource": "*",
                        },
                        {
                            "Sid": "AlarmsAndBudgetsPublish",
                            "Effect": "Allow",
                            "Principal": {"Service": publishers},
                            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                            "Resource": "*",
                        },
                    ],
                }
            ),
        )
        self.topic = SnsTopic(
            self,
            "alerts",
            name=cfg.resource_name("alerts"),
            kms_master_key_id=self.topic_key.arn,
        )
        SnsTopicPolicy(
            self,
            "alerts_policy",
            arn=self.topic.arn,
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "AlarmsAndBudgetsPublish",
                            "Effect": "Allow",
                            "Principal": {"Service": publishers},
                            "Action": "sns:Publish",
                            "Resource": self.topic.arn,
                            "Condition": {"StringEquals": {"aws:SourceAccount": account.account_id}},
                        }
                    ],
                }
            ),
        )
        # The design's billing alerts: actual monthly spend of this environment's resources
        # (the CostScope tag, once activated as a cost allocation tag; see docs/deploy.md).
        self.budget = BudgetsBudget(
            self,
            "budget",
            name=cfg.resource_name("monthly-cost"),
            budget_type="COST",
            limit_amount=str(max(cfg.budget_alert_usd)),
            limit_unit="USD",
            time_unit="MONTHLY",
            cost_filter=[
                BudgetsBudgetCostFilter(name="TagKeyValue", values=[f"user:CostScope${cfg.cost_scope}"])
            ],
            notification=[
                BudgetsBudgetNotification(
                    comparison_operator="GREATER_THAN",
                    notification_type="ACTUAL",
                    threshold=amount,
                    threshold_type="ABSOLUTE_VALUE",
                    subscriber_sns_topic_arns=[self.topic.arn],
                )
                for amount in cfg.budget_alert_usd
            ],
        )
        if cfg.alarm_email:
            SnsTopicSubscription(
                self, "alerts_email", topic_arn=self.topic.arn, protocol="email", endpoint=cfg.alarm_email
            )
        service = {"ClusterName": props.cluster_name, "ServiceName": props.service_name}
        database = props.db_dimensions
        balancer = {"LoadBalancer": props.alb_arn_suffix}
        targets = {"LoadBalancer": props.alb_arn_suffix, "TargetGroup": props.target_group_arn_suffix}
        specs = [
            AlarmSpec(
                key="ecs-cpu-high", namespace="AWS/ECS", metric="CPUUtilization", statistic="Average",
                comparison="GreaterThanThreshold", threshold=80, period=300, evaluation_periods=2,
                dimensions=service, description="ECS service CPU above 80 % for two periods",
            ),
            AlarmSpec(
                key="ecs-memory-high", namespace="AWS/ECS", metric="MemoryUtilization", statistic="Average",
                comparison="GreaterThanThreshold", threshold=85, period=300, evaluation_periods=2,
                dimensions=service, description="ECS service memory above 85 % for two periods",
            ),
            AlarmSpec(
                key="ecs-no-running-tasks", namespace="ECS/ContainerInsights", metric="RunningTaskCount",
                statistic="Minimum", comparison="LessThanThreshold", threshold=1, period=60,
                evaluation_periods=2, dimensions=service, description="No running ECS task",
                treat_missing_data="breaching",
            ),
            AlarmSpec(
                key="rds-connections-high", namespace="AWS/RDS", metric="DatabaseConnections",
                statistic="Maximum", comparison="GreaterThanThreshold",
                threshold=round(cfg.db_max_connections * 0.8), period=300, evaluation_periods=1,
                dimensions=database, description="Database connections above 80 % of max_connections",
            ),
            AlarmSpec(
                key="rds-cpu-high", namespace="AWS/RDS", metric="CPUUtilization", statistic="Average",
                comparison="GreaterThanThreshold", threshold=80, period=300, evaluation_periods=1,
                dimensions=database, description="Database CPU above 80 % for 5 minutes",
            ),
            AlarmSpec(
                key="rds-free-storage-low", namespace="AWS/RDS", metric="FreeStorageSpace",
                statistic="Minimum", comparison="LessThanThreshold", threshold=2 * GIB, period=300,
                evaluation_periods=1, dimensions=database, description="Database free storage below 2 GB",
            ),
            AlarmSpec(
                # The proxy's pool is exhausted when borrowing a connection takes this long.
                key="rds-proxy-borrow-latency-high", namespace="AWS/RDS",
                metric="DatabaseConnectionsBorrowLatency", statistic="Average",
                comparison="GreaterThanThreshold", threshold=100_000, period=300, evaluation_periods=1,
                dimensions={"ProxyName": props.db_proxy_name},
                description="RDS Proxy takes over 100 ms (in microseconds) to hand out a connection",
            ),
            AlarmSpec(
                key="alb-response-time-high", namespace="AWS/ApplicationELB", metric="TargetResponseTime",
                statistic="Average", comparison="GreaterThanThreshold", threshold=5, period=60,
                evaluation_periods=3, dimensions=balancer, description="Target response time above 5 s",
            ),
            AlarmSpec(
                key="alb-5xx-high", namespace="AWS/ApplicationELB", metric="HTTPCode_Target_5XX_Count",
                statistic="Sum", comparison="GreaterThanThreshold", threshold=10, period=300,
                evaluation_periods=1, dimensions=balancer, description="More than 10 target 5xx in 5 minutes",
            ),
            AlarmSpec(
                # 5xx the ALB itself answers (no healthy target, timeouts, resets): the app's own
                # 5xx alarm above never sees these.
                key="alb-elb-5xx-high", namespace="AWS/ApplicationELB", metric="HTTPCode_ELB_5XX_Count",
                statistic="Sum", comparison="GreaterThanThreshold", threshold=10, period=300,
                evaluation_periods=1, dimensions=balancer, description="More than 10 load-balancer 5xx in 5 minutes",
            ),
            AlarmSpec(
                key="alb-no-healthy-hosts", namespace="AWS/ApplicationELB", metric="HealthyHostCount",
                statistic="Minimum", comparison="LessThanThreshold", threshold=1, period=60,
                evaluation_periods=2, dimensions=targets, description="No healthy target behind the ALB",
                treat_missing_data="breaching",
            ),
        ]  # fmt: skip
        # The liveness checks never touch the database, so tasks whose login is refused stay
        # "healthy": the backends log this line instead (shop/db/backends), counted here.
        login_namespace = f"{METRICS_NAMESPACE}/{cfg.name}"
        self.login_refused_filter = CloudwatchLogMetricFilter(
            self,
            "login_refused_filter",
            name=cfg.resource_name("db-login-refused"),
            log_group_name=props.app_log_group_name,
            pattern=f'"{LOGIN_REFUSED_MESSAGE}"',
            metric_transformation={
                "name": LOGIN_REFUSED_METRIC,
                "namespace": login_namespace,
                "value": "1",
                "default_value": "0",
            },
        )
        specs.append(
            AlarmSpec(
                key="db-login-refused", namespace=login_namespace, metric=LOGIN_REFUSED_METRIC,
                statistic="Sum", comparison="GreaterThanThreshold", threshold=0, period=300,
                evaluation_periods=1, dimensions={},
                description=(
                    "A task's database login was refused with the credentials its secret holds: "
                    'docs/deploy.md, "The app\'s database user"'
                ),
            )
        )  # fmt: skip
        if not props.db_has_storage_limit:
            specs = [spec for spec in specs if spec.key != "rds-free-storage-low"]
        self.alarms = {spec.key: metric_alarm(self, cfg, spec, topic_arn=self.topic.arn) for spec in specs}

        def widget(title: str, metrics: list[list[object]], x: int, y: int) -> dict[str, object]:
            return {
                "type": "metric",
                "x": x,
                "y": y,
                "width": 12,
                "height": 6,
                "properties": {
                    "title": title,
                    "region": cfg.region,
                    "stat": "Average",
                    "period": 300,
                    "metrics": metrics,
                },
            }

        cluster, svc = props.cluster_name, props.service_name
        (db_dimension, db), alb = next(iter(database.items())), props.alb_arn_suffix
        body = {
            "widgets": [
                widget(
                    "ECS CPU and memory (%)",
                    [
                        ["AWS/ECS", "CPUUtilization", "ClusterName", cluster, "ServiceName", svc],
                        ["AWS/ECS", "MemoryUtilization", "ClusterName", cluster, "ServiceName", svc],
                    ],
                    0,
                    0,
                ),
                widget(
                    "ALB requests and 5xx",
                    [
                        ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", alb, {"stat": "Sum"}],
                        [
                            "AWS/ApplicationELB",
                            "HTTPCode_Target_5XX_Count",
                            "LoadBalancer",
                            alb,
                            {"stat": "Sum"},
                        ],
                    ],
                    12,
                    0,
                ),
                widget(
                    "ALB target response time (s)",
                    [["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", alb]],
                    0,
                    6,
                ),
                widget(
                    "RDS CPU, connections, free storage",
                    [
                        ["AWS/RDS", "CPUUtilization", db_dimension, db],
                        ["AWS/RDS", "DatabaseConnections", db_dimension, db],
                        ["AWS/RDS", "FreeStorageSpace", db_dimension, db, {"yAxis": "right"}],
                    ],
                    12,
                    6,
                ),
            ]
        }
        self.dashboard = CloudwatchDashboard(
            self, "dashboard", dashboard_name=cfg.resource_name("operations"), dashboard_body=json.dumps(body)
        )
