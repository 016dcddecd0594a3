"""How the web service scales: the design's step rules on CPU and memory, plus ALB requests.

The design (seed 001): scale out when CPU > 70 % or memory > 80 % for 2 minutes, scale in when
CPU < 30 % and memory < 50 % for 5 minutes, 300 s between actions. Target tracking cannot say
"and", so both rules are metric-math alarms driving step policies. Sync gunicorn workers that
wait on Cognito or S3 queue requests without using CPU, so requests per task are tracked too;
that policy only scales out, and the scale-in rule also waits for requests to drop below half
its target, so the two never undo each other.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from infra_cdktf.aws import (
    AppautoscalingPolicy,
    AppautoscalingPolicyStepScalingPolicyConfigurationStepAdjustment,
    AppautoscalingTarget,
    CloudwatchMetricAlarm,
    CloudwatchMetricAlarmMetricQuery,
    CloudwatchMetricAlarmMetricQueryMetric,
)
from infra_cdktf.config import EnvironmentConfig

MINUTE = 60


@dataclass(frozen=True, kw_only=True)
class ServiceScalingProps:
    config: EnvironmentConfig
    target: AppautoscalingTarget
    cluster_name: str
    service_name: str
    alb_arn_suffix: str
    target_group_arn_suffix: str


class ServiceScaling(Construct):
    scale_out: AppautoscalingPolicy
    scale_in: AppautoscalingPolicy
    requests: AppautoscalingPolicy
    scale_out_alarm: CloudwatchMetricAlarm
    scale_in_alarm: CloudwatchMetricAlarm

    def __init__(self, scope: Construct, id_: str, *, props: ServiceScalingProps) -> None:
        super().__init__(scope, id_)
        cfg = props.config
        target = props.target
        self.scale_out = self._step(cfg, target, "scale-out", +1)
        self.scale_in = self._step(cfg, target, "scale-in", -1)
        self.requests = AppautoscalingPolicy(
            self,
            "requests",
            name=cfg.resource_name("requests-target-tracking"),
            policy_type="TargetTrackingScaling",
            service_namespace=target.service_namespace,
            scalable_dimension=target.scalable_dimension,
            resource_id=target.resource_id,
            target_tracking_scaling_policy_configuration={
                "target_value": cfg.requests_per_target,
                "predefined_metric_specification": {
                    "predefined_metric_type": "ALBRequestCountPerTarget",
                    "resource_label": f"{props.alb_arn_suffix}/{props.target_group_arn_suffix}",
                },
                "scale_out_cooldown": cfg.scaling_cooldown_seconds,
                "scale_in_cooldown": cfg.scaling_cooldown_seconds,
                # Scale-in belongs to the step rule below, which also looks at requests.
                "disable_scale_in": True,
            },
        )

        service = {"ClusterName": props.cluster_name, "ServiceName": props.service_name}
        targets = {"LoadBalancer": props.alb_arn_suffix, "TargetGroup": props.target_group_arn_suffix}
        metrics = [
            ("cpu", "AWS/ECS", "CPUUtilization", "Average", service),
            ("mem", "AWS/ECS", "MemoryUtilization", "Average", service),
            ("req", "AWS/ApplicationELB", "RequestCountPerTarget", "Sum", targets),
        ]
        queries = [
            CloudwatchMetricAlarmMetricQuery(
                id=key,
                return_data=False,
                metric=CloudwatchMetricAlarmMetricQueryMetric(
                    namespace=namespace, metric_name=metric, stat=stat, period=MINUTE, dimensions=dimensions
                ),
            )
            for key, namespace, metric, stat, dimensions in metrics
        ]
        low_requests = cfg.requests_per_target / 2
        self.scale_out_alarm = self._rule_alarm(
            cfg,
            "scale-out",
            queries[:2],
            f"IF(cpu > {cfg.cpu_target_percent:g} OR mem > {cfg.memory_target_percent:g}, 1, 0)",
            cfg.scale_out_minutes,
            self.scale_out,
            f"CPU > {cfg.cpu_target_percent:g} % or memory > {cfg.memory_target_percent:g} % "
            f"for {cfg.scale_out_minutes} minutes: add a task",
        )
        self.scale_in_alarm = self._rule_alarm(
            cfg,
            "scale-in",
            queries,
            f"IF(cpu < {cfg.scale_in_cpu_percent:g} AND mem < {cfg.scale_in_memory_percent:g} "
            f"AND FILL(req, 0) < {low_requests:g}, 1, 0)",
            cfg.scale_in_minutes,
            self.scale_in,
            f"CPU < {cfg.scale_in_cpu_percent:g} % and memory < {cfg.scale_in_memory_percent:g} % "
            f"and under {low_requests:g} requests per task a minute for {cfg.scale_in_minutes} minutes: "
            "remove a task",
        )

    def _step(
        self, cfg: EnvironmentConfig, target: AppautoscalingTarget, key: str, change: int
    ) -> AppautoscalingPolicy:
        return AppautoscalingPolicy(
            self,
            key.replace("-", "_"),
            name=cfg.resource_name(key),
            policy_type="StepScaling",
            service_namespace=target.service_namespace,
            scalable_dimension=target.scalable_dimension,
            resource_id=target.resource_id,
            step_scaling_policy_configuration={
                "adjustment_type": "ChangeInCapacity",
                "cooldown": cfg.scaling_cooldown_seconds,
                "metric_aggregation_type": "Maximum",
                "step_adjustment": [
                    AppautoscalingPolicyStepScalingPolicyConfigurationStepAdjustment(
                        metric_interval_lower_bound="0", scaling_adjustment=change
                    )
                ],
            },
        )

    def _rule_alarm(
        self,
        cfg: EnvironmentConfig,
        key: str,
        queries: list[CloudwatchMetricAlarmMetricQuery],
        expression: str,
        minutes: int,
        policy: AppautoscalingPolicy,
        description: str,
    ) -> CloudwatchMetricAlarm:
        return CloudwatchMetricAlarm(
            self,
            f"{key.replace('-', '_')}_alarm",
            alarm_name=cfg.resource_name(f"{key}-rule"),
            alarm_description=description,
            comparison_operator="GreaterThanOrEqualToThreshold",
            threshold=1,
            evaluation_periods=minutes,
            datapoints_to_alarm=minutes,
            metric_query=[
                CloudwatchMetricAlarmMetricQuery(
                    id="rule", expression=expression, label=key, return_data=True
                ),
                *queries,
            ],
            # No data (a service with no tasks yet) is no reason to scale either way.
            treat_missing_data="notBreaching",
            alarm_actions=[policy.arn],
        )
