"""The application metrics' alarms and dashboard (namespace AWSomeShop, written by the app as EMF)."""

from __future__ import annotations

import json
from typing import Any

from infra_helpers import Synth

from infra_cdktf.app_metrics import LATENCY_TARGET_MS, ORDER_REFUSAL_ALARMS


def _app_alarms(synth: Synth) -> dict[str, dict[str, Any]]:
    return {
        a["alarm_name"].removeprefix("awsomeshop-").removesuffix("-dev"): a
        for a in synth.resources("aws_cloudwatch_metric_alarm").values()
        if a["alarm_name"].startswith("awsomeshop-app-")
    }


def _queries(alarm: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {q["id"]: q for q in alarm["metric_query"]}


def test_every_application_alarm_notifies_the_alert_topic(dev: Synth) -> None:
    (topic,) = dev.resources("aws_sns_topic")
    alarms = _app_alarms(dev)
    assert set(alarms) == {
        "app-auth-failure-rate",
        "app-error-rate",
        "app-latency-p95",
        "app-database-errors",
        *(f"app-orders-refused-{code.replace('_', '-')}" for code in ORDER_REFUSAL_ALARMS),
    }
    for alarm in alarms.values():
        assert alarm["alarm_actions"] == [f"${{aws_sns_topic.{topic}.arn}}"]
        assert alarm["ok_actions"] == alarm["alarm_actions"]
        assert alarm["treat_missing_data"] == "notBreaching"
        assert "docs/metrics.md" in alarm["alarm_description"]


def test_latency_alarm_reads_p95_against_the_seed_target(dev: Synth) -> None:
    alarm = _app_alarms(dev)["app-latency-p95"]
    assert (alarm["namespace"], alarm["metric_name"]) == ("AWSomeShop", "RequestLatency")
    assert alarm["extended_statistic"] == "p95"
    assert alarm["threshold"] == LATENCY_TARGET_MS == 5000
    assert alarm["dimensions"] == {"Environment": "dev"}


def test_database_errors_alarm(dev: Synth) -> None:
    alarm = _app_alarms(dev)["app-database-errors"]
    assert (alarm["metric_name"], alarm["statistic"], alarm["threshold"]) == ("DatabaseErrors", "Sum", 5)
    assert alarm["dimensions"] == {"Environment": "dev"}


def test_authentication_failure_rate_is_metric_math_over_both_outcomes(dev: Synth) -> None:
    alarm = _app_alarms(dev)["app-auth-failure-rate"]
    queries = _queries(alarm)
    assert {q["metric"]["metric_name"] for q in queries.values() if "metric" in q} == {
        "AuthFailure",
        "AuthSuccess",
    }
    for query in queries.values():
        if "metric" in query:
            assert query["metric"]["namespace"] == "AWSomeShop"
            assert query["metric"]["dimensions"] == {"Environment": "dev"}
            assert query["metric"]["stat"] == "Sum"
            assert query["return_data"] is False
    rate = queries["rate"]
    assert rate["return_data"] is True
    assert rate["expression"] == (
        "IF((FILL(failures, 0) + FILL(successes, 0)) >= 20, "
        "100 * FILL(failures, 0) / (FILL(failures, 0) + FILL(successes, 0)), 0)"
    )
    assert alarm["threshold"] == 20


def test_order_refusals_alarm_per_code_as_a_share_of_attempts(dev: Synth) -> None:
    alarms = _app_alarms(dev)
    for code, threshold in ORDER_REFUSAL_ALARMS.items():
        alarm = alarms[f"app-orders-refused-{code.replace('_', '-')}"]
        queries = _queries(alarm)
        assert queries["code"]["metric"]["metric_name"] == "OrderRefused"
        assert queries["code"]["metric"]["dimensions"] == {"Environment": "dev", "Code": code}
        assert queries["placed"]["metric"]["metric_name"] == "OrderPlaced"
        assert queries["refused"]["metric"]["dimensions"] == {"Environment": "dev"}
        assert "100 * FILL(code, 0) / (FILL(placed, 0) + FILL(refused, 0))" in queries["rate"]["expression"]
        assert alarm["threshold"] == threshold


def test_dashboard_shows_application_metrics_beside_alb_ecs_and_rds(dev: Synth) -> None:
    (dashboard,) = [
        d
        for d in dev.resources("aws_cloudwatch_dashboard").values()
        if d["dashboard_name"] == "awsomeshop-application-dev"
    ]
    body = json.loads(dashboard["dashboard_body"])
    shown = {(m[0], m[1]) for w in body["widgets"] for m in w["properties"]["metrics"]}
    for name in (
        "Requests",
        "ServerErrors",
        "RequestLatency",
        "AuthSuccess",
        "AuthFailure",
        "OrderPlaced",
        "OrderRefused",
        "PointsGranted",
        "PointsRedeemed",
        "PointsRefunded",
        "ActiveEmployees",
        "DatabaseErrors",
        "DatabaseTime",
    ):
        assert ("AWSomeShop", name) in shown, name
    assert {namespace for namespace, _ in shown} == {"AWSomeShop", "AWS/ApplicationELB", "AWS/ECS", "AWS/RDS"}
    for widget in body["widgets"]:
        for metric in widget["properties"]["metrics"]:
            if metric[0] == "AWSomeShop":
                assert metric[2:4] == ["Environment", "dev"]


def test_the_task_names_its_environment_for_the_metrics(prod: Synth) -> None:
    (task,) = [
        t
        for t in prod.resources("aws_ecs_task_definition").values()
        if t["family"] == "awsomeshop-core-task-prod"
    ]
    (container,) = json.loads(task["container_definitions"])
    assert {"name": "METRICS_ENVIRONMENT", "value": "prod"} in container["environment"]
