"""SNS alerts, the design's CloudWatch alarms, and an operations dashboard."""

from __future__ import annotations

import json
from dataclasses import dataclass

from constructs import Construct

from infra_cdktf.aws import CloudwatchDashboard, CloudwatchMetricAlarm, SnsTopic, SnsTopicSubscription
from infra_cdktf.config import EnvironmentConfig

GIB = 1024**3


@dataclass(frozen=True, kw_only=True)
class MonitoringProps:
    config: EnvironmentConfig
    cluster_name: str
    service_name: str
    db_instance_identifier: str
    alb_arn_suffix: str
    target_group_arn_suffix: str


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


class Monitoring(Construct):
    topic: SnsTopic
    alarms: dict[str, CloudwatchMetricAlarm]
    dashboard: CloudwatchDashboard

    def __init__(self, scope: Construct, id_: str, *, props: MonitoringProps) -> None:
        super().__init__(scope, id_)
        cfg = props.config
        self.topic = SnsTopic(
            self,
            "alerts",
            name=cfg.resource_name("alerts"),
            kms_master_key_id="alias/aws/sns",
        )
        if cfg.alarm_email:
            SnsTopicSubscription(
                self, "alerts_email", topic_arn=self.topic.arn, protocol="email", endpoint=cfg.alarm_email
            )
        service = {"ClusterName": props.cluster_name, "ServiceName": props.service_name}
        database = {"DBInstanceIdentifier": props.db_instance_identifier}
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
                key="alb-no-healthy-hosts", namespace="AWS/ApplicationELB", metric="HealthyHostCount",
                statistic="Minimum", comparison="LessThanThreshold", threshold=1, period=60,
                evaluation_periods=2, dimensions=targets, description="No healthy target behind the ALB",
                treat_missing_data="breaching",
            ),
        ]  # fmt: skip
        self.alarms = {}
        for spec in specs:
            self.alarms[spec.key] = CloudwatchMetricAlarm(
                self,
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
                alarm_actions=[self.topic.arn],
                ok_actions=[self.topic.arn],
            )

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
        db, alb = props.db_instance_identifier, props.alb_arn_suffix
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
                        ["AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", db],
                        ["AWS/RDS", "DatabaseConnections", "DBInstanceIdentifier", db],
                        ["AWS/RDS", "FreeStorageSpace", "DBInstanceIdentifier", db, {"yAxis": "right"}],
                    ],
                    12,
                    6,
                ),
            ]
        }
        self.dashboard = CloudwatchDashboard(
            self, "dashboard", dashboard_name=cfg.resource_name("operations"), dashboard_body=json.dumps(body)
        )
