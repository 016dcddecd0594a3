"""The application's own metrics (namespace AWSomeShop): their dashboard and alarms.

The application writes these metrics as CloudWatch Embedded Metric Format lines on stdout
(``shop/observability/metrics.py``); CloudWatch extracts them from the service's log group, so nothing here
creates the metrics themselves. Every alarm reads the ``Environment``-only rollup, which the
application writes for each metric, and notifies the existing alert topic. What each metric
means and what to do when its alarm fires: ``docs/metrics.md``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from constructs import Construct

from infra_cdktf.aws import CloudwatchDashboard, CloudwatchMetricAlarm, CloudwatchMetricAlarmMetricQuery
from infra_cdktf.config import METRICS_NAMESPACE, EnvironmentConfig

# Seed 000: "API response times (< 5 seconds target)".
LATENCY_TARGET_MS = 5000
# Refusal codes with an alarm, and the share of order attempts (%) above which each one is
# unusual enough to look at: out of stock beyond a third of attempts means the catalog shows
# products that cannot be had; a high validation or unavailable share means a broken client.
ORDER_REFUSAL_ALARMS: dict[str, float] = {
    "insufficient_points": 50,
    "out_of_stock": 30,
    "product_unavailable": 20,
    "validation_error": 20,
    "throttled": 10,
}
# Rates are computed only when this many events happened in the period, so three failures at
# night are not "a 100 % failure rate".
MIN_EVENTS_FOR_A_RATE = 20


@dataclass(frozen=True, kw_only=True)
class ApplicationMetricsProps:
    config: EnvironmentConfig
    alarm_topic_arn: str
    cluster_name: str
    service_name: str
    # DBInstanceIdentifier, or DBClusterIdentifier for Aurora (which has no single instance).
    db_dimensions: dict[str, str]
    alb_arn_suffix: str


class ApplicationMetrics(Construct):
    alarms: dict[str, CloudwatchMetricAlarm]
    dashboard: CloudwatchDashboard

    def __init__(self, scope: Construct, id_: str, *, props: ApplicationMetricsProps) -> None:
        super().__init__(scope, id_)
        cfg = props.config
        env = {"Environment": cfg.name}
        self.alarms = {}

        def metric(id_: str, name: str, stat: str = "Sum", **dims: str) -> dict[str, Any]:
            return {
                "id": id_,
                "return_data": False,
                "metric": {
                    "namespace": METRICS_NAMESPACE,
                    "metric_name": name,
                    "period": 300,
                    "stat": stat,
                    "dimensions": {**env, **dims},
                },
            }

        def rate_alarm(
            key: str, description: str, part: dict[str, Any], *whole: dict[str, Any], threshold: float
        ) -> None:
            # FILL: a metric with no data in a period (nothing failed) counts as zero.
            total = " + ".join(f"FILL({m['id']}, 0)" for m in whole)
            expression = (
                f"IF(({total}) >= {MIN_EVENTS_FOR_A_RATE}, 100 * FILL({part['id']}, 0) / ({total}), 0)"
            )
            queries = [part, *[m for m in whole if m["id"] != part["id"]]]
            self._alarm(
                cfg,
                props,
                key,
                description,
                threshold=threshold,
                evaluation_periods=2,
                metric_query=[
                    *queries,
                    {"id": "rate", "expression": expression, "label": key, "return_data": True},
                ],
            )

        failures, successes = metric("failures", "AuthFailure"), metric("successes", "AuthSuccess")
        rate_alarm(
            "app-auth-failure-rate",
            "More than 20 % of API authentications failed for 10 minutes (expired or forged tokens, "
            "unregistered users, identity provider down)",
            failures,
            failures,
            successes,
            threshold=20,
        )
        errors, requests = metric("errors", "ServerErrors"), metric("requests", "Requests")
        rate_alarm(
            "app-error-rate",
            "More than 5 % of requests answered 5xx for 10 minutes",
            errors,
            requests,
            threshold=5,
        )
        placed, refused = metric("placed", "OrderPlaced"), metric("refused", "OrderRefused")
        for code, threshold in ORDER_REFUSAL_ALARMS.items():
            this = metric("code", "OrderRefused", Code=code)
            rate_alarm(
                f"app-orders-refused-{code.replace('_', '-')}",
                f"More than {threshold:g} % of order attempts refused with {code} for 10 minutes",
                this,
                placed,
                refused,
                threshold=threshold,
            )
        self._alarm(
            cfg,
            props,
            "app-latency-p95",
            f"p95 API response time above the {LATENCY_TARGET_MS / 1000:g} s target for 10 minutes",
            threshold=LATENCY_TARGET_MS,
            evaluation_periods=2,
            namespace=METRICS_NAMESPACE,
            metric_name="RequestLatency",
            extended_statistic="p95",
            period=300,
            dimensions=env,
        )
        self._alarm(
            cfg,
            props,
            "app-database-errors",
            "More than 5 database errors (unreachable, timeouts, lost connections) in 5 minutes",
            threshold=5,
            evaluation_periods=1,
            namespace=METRICS_NAMESPACE,
            metric_name="DatabaseErrors",
            statistic="Sum",
            period=300,
            dimensions=env,
        )
        self.dashboard = CloudwatchDashboard(
            self,
            "dashboard",
            dashboard_name=cfg.resource_name("application"),
            dashboard_body=json.dumps(_dashboard(cfg, props)),
        )

    def _alarm(
        self,
        cfg: EnvironmentConfig,
        props: ApplicationMetricsProps,
        key: str,
        description: str,
        *,
        threshold: float,
        evaluation_periods: int,
        **metric: Any,
    ) -> None:
        if "metric_query" in metric:
            # A list of nested blocks needs the binding's struct; a lone nested block takes a dict.
            metric["metric_query"] = [CloudwatchMetricAlarmMetricQuery(**q) for q in metric["metric_query"]]
        self.alarms[key] = CloudwatchMetricAlarm(
            self,
            key.replace("-", "_"),
            alarm_name=cfg.resource_name(key),
            alarm_description=f"{description}. Runbook: docs/metrics.md",
            comparison_operator="GreaterThanThreshold",
            threshold=threshold,
            evaluation_periods=evaluation_periods,
            # No requests at all is not an application fault; the ALB and ECS alarms cover it.
            treat_missing_data="notBreaching",
            alarm_actions=[props.alarm_topic_arn],
            ok_actions=[props.alarm_topic_arn],
            **metric,
        )


def _dashboard(cfg: EnvironmentConfig, props: ApplicationMetricsProps) -> dict[str, Any]:
    env = ["Environment", cfg.name]

    def app(name: str, **options: Any) -> list[Any]:
        return [METRICS_NAMESPACE, name, *env, options] if options else [METRICS_NAMESPACE, name, *env]

    def widget(title: str, metrics: list[list[Any]], x: int, y: int, stat: str = "Sum") -> dict[str, Any]:
        return {
            "type": "metric",
            "x": x,
            "y": y,
            "width": 8,
            "height": 6,
            "properties": {
                "title": title,
                "region": cfg.region,
                "stat": stat,
                "period": 300,
                "metrics": metrics,
            },
        }

    service = ["ClusterName", props.cluster_name, "ServiceName", props.service_name]
    alb = ["LoadBalancer", props.alb_arn_suffix]
    db = [part for pair in sorted(props.db_dimensions.items()) for part in pair]
    return {
        "widgets": [
            widget("Requests and server errors", [app("Requests"), app("ServerErrors")], 0, 0),
            widget(
                "API latency (ms)",
                [
                    app("RequestLatency", stat="p50"),
                    app("RequestLatency", stat="p95"),
                    app("RequestLatency", stat="p99"),
                ],
                8,
                0,
                stat="p95",
            ),
            widget("Authentication", [app("AuthSuccess"), app("AuthFailure")], 16, 0),
            widget("Orders placed and refused", [app("OrderPlaced"), app("OrderRefused")], 0, 6),
            widget(
                "Points moved",
                [app("PointsGranted"), app("PointsRedeemed"), app("PointsRefunded"), app("PointsAdjusted")],
                8,
                6,
            ),
            widget("Active employees (5-minute windows)", [app("ActiveEmployees")], 16, 6, stat="Maximum"),
            widget(
                "Database: errors and time per request (ms, p95)",
                [app("DatabaseErrors"), app("DatabaseTime", stat="p95", yAxis="right")],
                0,
                12,
            ),
            widget(
                "ALB requests, 5xx from targets and from the ALB",
                [
                    ["AWS/ApplicationELB", "RequestCount", *alb],
                    ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", *alb],
                    ["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", *alb],
                ],
                8,
                12,
            ),
            widget(
                "ECS CPU and memory (%), RDS connections",
                [
                    ["AWS/ECS", "CPUUtilization", *service],
                    ["AWS/ECS", "MemoryUtilization", *service],
                    ["AWS/RDS", "DatabaseConnections", *db, {"yAxis": "right"}],
                ],
                16,
                12,
                stat="Average",
            ),
            # Written by the notification worker (infra_cdktf/lifecycle.py has its alarm).
            widget("Notification outbox: oldest unsent (s)", [app("OutboxOldestAge")], 0, 18, stat="Maximum"),
        ]
    }
