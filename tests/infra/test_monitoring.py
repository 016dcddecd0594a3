"""Monitoring: the alert topic, every alarm from the design, and the dashboard."""

from __future__ import annotations

import json

from infra_helpers import Synth

from infra_cdktf.lifecycle import ALARM_KEYS as LIFECYCLE_ALARMS


def test_alarms_match_the_design(dev: Synth) -> None:
    (topic,) = dev.resources("aws_sns_topic")
    topic_arn = f"${{aws_sns_topic.{topic}.arn}}"
    alarms = {
        a["alarm_name"].removeprefix("awsomeshop-").removesuffix("-dev"): a
        for a in dev.resources("aws_cloudwatch_metric_alarm").values()
        # The application's own alarms are tested in test_app_metrics.py, the points
        # lifecycle's in test_lifecycle.py; the scaling rules' alarms act on policies
        # (test_scaling.py), not on people.
        if not a["alarm_name"].startswith("awsomeshop-app-")
        and a["alarm_name"] not in {f"awsomeshop-{key}-dev" for key in LIFECYCLE_ALARMS}
        and not a["alarm_name"].endswith("-rule-dev")
        and a["alarm_name"] != "awsomeshop-db-login-refused-dev"
    }
    summary = {
        key: (
            a["namespace"],
            a["metric_name"],
            a["comparison_operator"],
            a["threshold"],
            a["period"] * a["evaluation_periods"],
        )
        for key, a in alarms.items()
    }
    assert summary == {
        "ecs-cpu-high": ("AWS/ECS", "CPUUtilization", "GreaterThanThreshold", 80, 600),
        "ecs-memory-high": ("AWS/ECS", "MemoryUtilization", "GreaterThanThreshold", 85, 600),
        "ecs-no-running-tasks": ("ECS/ContainerInsights", "RunningTaskCount", "LessThanThreshold", 1, 120),
        "rds-connections-high": ("AWS/RDS", "DatabaseConnections", "GreaterThanThreshold", 48, 300),
        "rds-cpu-high": ("AWS/RDS", "CPUUtilization", "GreaterThanThreshold", 80, 300),
        "rds-free-storage-low": ("AWS/RDS", "FreeStorageSpace", "LessThanThreshold", 2 * 1024**3, 300),
        "rds-proxy-borrow-latency-high": (
            "AWS/RDS",
            "DatabaseConnectionsBorrowLatency",
            "GreaterThanThreshold",
            100_000,
            300,
        ),
        "alb-response-time-high": (
            "AWS/ApplicationELB",
            "TargetResponseTime",
            "GreaterThanThreshold",
            5,
            180,
        ),
        "alb-5xx-high": ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "GreaterThanThreshold", 10, 300),
        "alb-elb-5xx-high": ("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "GreaterThanThreshold", 10, 300),
        "alb-no-healthy-hosts": ("AWS/ApplicationELB", "HealthyHostCount", "LessThanThreshold", 1, 120),
    }
    assert alarms["alb-5xx-high"]["statistic"] == "Sum"
    for alarm in alarms.values():
        assert alarm["alarm_actions"] == [topic_arn]
        assert alarm["dimensions"], alarm["alarm_name"]
    service = dev.ref("aws_ecs_service", "name", "awsomeshop-core-service-dev", "name")
    assert alarms["ecs-cpu-high"]["dimensions"]["ServiceName"] == service
    assert alarms["rds-cpu-high"]["dimensions"] == {
        "DBInstanceIdentifier": "${aws_db_instance.database.identifier}"
    }
    assert set(alarms["alb-no-healthy-hosts"]["dimensions"]) == {"LoadBalancer", "TargetGroup"}
    # A vanished service or target group is an outage, not "no data".
    assert alarms["ecs-no-running-tasks"]["treat_missing_data"] == "breaching"


def test_alert_topic_and_optional_email(dev: Synth, options: Synth) -> None:
    (topic,) = dev.resources("aws_sns_topic").values()
    assert topic["name"] == "awsomeshop-alerts-dev"
    assert not dev.resources("aws_sns_topic_subscription")
    (subscription,) = options.resources("aws_sns_topic_subscription").values()
    assert (subscription["protocol"], subscription["endpoint"]) == ("email", "ops@example.org")


def test_dashboard_covers_service_balancer_and_database(dev: Synth) -> None:
    (dashboard,) = [
        d
        for d in dev.resources("aws_cloudwatch_dashboard").values()
        if d["dashboard_name"] == "awsomeshop-operations-dev"
    ]
    body = json.loads(dashboard["dashboard_body"])
    namespaces = {metric[0] for widget in body["widgets"] for metric in widget["properties"]["metrics"]}
    assert namespaces == {"AWS/ECS", "AWS/ApplicationELB", "AWS/RDS"}


def test_proxy_alarm_watches_this_proxy(dev: Synth, postgres: Synth) -> None:
    for synth, env in ((dev, "dev"), (postgres, "prod")):
        _, alarm = synth.named(
            "aws_cloudwatch_metric_alarm", "alarm_name", f"awsomeshop-rds-proxy-borrow-latency-high-{env}"
        )
        (proxy,) = synth.resources("aws_db_proxy")
        assert alarm["dimensions"] == {"ProxyName": f"${{aws_db_proxy.{proxy}.name}}"}


def test_a_refused_database_login_in_any_tasks_log_raises_an_alarm(dev: Synth) -> None:
    # The line the backends log (tests/shop/test_db_secret_rotation.py) and the release looks for.
    from infra_cdktf.config import LOGIN_REFUSED_MESSAGE

    (metric_filter,) = dev.resources("aws_cloudwatch_log_metric_filter").values()
    log_group, _ = dev.named("aws_cloudwatch_log_group", "name", "/ecs/awsomeshop-core-task-dev")
    assert metric_filter["log_group_name"] == f"${{aws_cloudwatch_log_group.{log_group}.name}}"
    assert metric_filter["pattern"] == f'"{LOGIN_REFUSED_MESSAGE}"'
    transform = metric_filter["metric_transformation"]
    assert (transform["namespace"], transform["name"], transform["value"]) == (
        "AWSomeShop/dev",
        "DatabaseLoginRefused",
        "1",
    )
    _, alarm = dev.named("aws_cloudwatch_metric_alarm", "alarm_name", "awsomeshop-db-login-refused-dev")
    assert (alarm["namespace"], alarm["metric_name"], alarm["statistic"]) == (
        "AWSomeShop/dev",
        "DatabaseLoginRefused",
        "Sum",
    )
    assert (alarm["comparison_operator"], alarm["threshold"], alarm["period"]) == (
        "GreaterThanThreshold",
        0,
        300,
    )
    (topic,) = dev.resources("aws_sns_topic")
    assert alarm["alarm_actions"] == [f"${{aws_sns_topic.{topic}.arn}}"]


def test_every_budget_alert_sits_above_the_environments_estimated_cost() -> None:
    """A budget below the environment's own cost alerts every month and means nothing."""
    import re

    from infra_helpers import REPO

    from infra_cdktf.config import ENVIRONMENTS

    guide = (REPO / "docs" / "deploy.md").read_text()
    (total,) = re.findall(
        r"^\| \*\*Total\*\* \| \*\*~\$(\d+)[\u2013-](\d+)\*\* \| \*\*~\$(\d+)[\u2013-](\d+)\*\* \|$",
        guide,
        re.M,
    )
    dev_high, prod_high = int(total[1]), int(total[3])
    # Every alert threshold, not just the limit: a threshold below the normal month fires monthly.
    assert min(ENVIRONMENTS["prod"].budget_alert_usd) >= prod_high
    assert min(ENVIRONMENTS["dev"].budget_alert_usd) >= dev_high
