"""Seed settings the AWS review found missing: HTTPS everywhere, the image bucket, budgets,
the load balancer's own 5xx, the 8-hour session, the S3 gateway endpoint, alert delivery."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from infra_helpers import Synth

from infra_cdktf.config import ENVIRONMENTS


def test_without_a_domain_the_alb_is_internal_and_plain_http_stays_in_the_vpc(dev: Synth) -> None:
    (alb,) = dev.resources("aws_lb").values()
    assert alb["internal"] is True
    private = {
        f"${{aws_subnet.{n}.id}}"
        for n, s in dev.resources("aws_subnet").items()
        if s["tags"]["Tier"] == "private"
    }
    assert set(alb["subnets"]) == private
    rules = [
        r
        for r in dev.resources("aws_vpc_security_group_ingress_rule").values()
        if "alb_sg" in r["security_group_id"]
    ]
    assert [(r["from_port"], r.get("cidr_ipv4")) for r in rules] == [(80, "10.0.0.0/16")]


def test_every_internet_facing_listener_is_https(prod: Synth, options: Synth) -> None:
    for synth in (prod, options):
        (alb,) = synth.resources("aws_lb").values()
        assert alb["internal"] is False
        for listener in synth.resources("aws_lb_listener").values():
            if listener["protocol"] == "HTTP":
                assert [a["type"] for a in listener["default_action"]] == ["redirect"]
            else:
                assert listener["protocol"] == "HTTPS"


def test_image_objects_are_only_for_the_task_role(dev: Synth) -> None:
    (policy,) = [p for p in dev.resources("aws_s3_bucket_policy").values() if "images_bucket" in p["bucket"]]
    statements = {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}
    (role,) = [
        n for n, r in dev.resources("aws_iam_role").items() if r["name"] == "awsomeshop-ecs-task-role-dev"
    ]
    role_arn = f"${{aws_iam_role.{role}.arn}}"
    deny = statements["ImagesOnlyThroughTheApp"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*"
    assert deny["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": role_arn}}
    assert set(deny["Action"]) == {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}
    assert statements["AppReadsAndWritesImages"]["Principal"] == {"AWS": role_arn}
    assert "DenyInsecureTransport" in statements


def test_billing_alerts_above_devs_own_estimate(dev: Synth) -> None:
    (budget,) = dev.resources("aws_budgets_budget").values()
    assert (budget["budget_type"], budget["time_unit"], budget["limit_unit"]) == ("COST", "MONTHLY", "USD")
    (topic,) = dev.resources("aws_sns_topic")
    alerts = sorted(
        (n["threshold"], n["threshold_type"], n["notification_type"], tuple(n["subscriber_sns_topic_arns"]))
        for n in budget["notification"]
    )
    topic_arn = f"${{aws_sns_topic.{topic}.arn}}"
    assert alerts == [(amount, "ABSOLUTE_VALUE", "ACTUAL", (topic_arn,)) for amount in (225, 275, 350)]
    assert budget["cost_filter"] == [{"name": "TagKeyValue", "values": ["user:CostScope$awsomeshop-dev"]}]
    assert dev.doc["provider"]["aws"][0]["default_tags"][0]["tags"]["CostScope"] == "awsomeshop-dev"


def test_alerts_reach_a_topic_cloudwatch_and_budgets_may_use(dev: Synth) -> None:
    (topic,) = dev.resources("aws_sns_topic").values()
    (key_name, key) = next(iter(dev.resources("aws_kms_key").items()))
    assert topic["kms_master_key_id"] == f"${{aws_kms_key.{key_name}.arn}}"
    assert key["enable_key_rotation"] is True
    publishers = {"cloudwatch.amazonaws.com", "budgets.amazonaws.com"}
    key_grants = [s for s in json.loads(key["policy"])["Statement"] if "Service" in s["Principal"]]
    assert set(key_grants[0]["Principal"]["Service"]) == publishers
    (policy,) = dev.resources("aws_sns_topic_policy").values()
    (statement,) = json.loads(policy["policy"])["Statement"]
    assert set(statement["Principal"]["Service"]) == publishers and statement["Action"] == "sns:Publish"


def test_alarm_on_load_balancer_5xx(dev: Synth) -> None:
    _, alarm = dev.named("aws_cloudwatch_metric_alarm", "alarm_name", "awsomeshop-alb-elb-5xx-high-dev")
    assert (alarm["namespace"], alarm["metric_name"], alarm["statistic"]) == (
        "AWS/ApplicationELB",
        "HTTPCode_ELB_5XX_Count",
        "Sum",
    )
    assert set(alarm["dimensions"]) == {"LoadBalancer"}


def test_eight_hour_session(dev: Synth) -> None:
    # The sign-in session ends after 8 hours (SESSION_COOKIE_AGE); the web client's refresh
    # tokens last the 30 days seed 002 gives the storefront's client (test_identity.py).
    (task,) = [t for t in dev.resources("aws_ecs_task_definition").values() if "core" in t["family"]]
    (container,) = json.loads(task["container_definitions"])
    env = {item["name"]: item["value"] for item in container["environment"]}
    assert env["SESSION_COOKIE_AGE"] == str(8 * 3600)


def test_s3_gateway_endpoint_on_the_private_route_tables(dev: Synth) -> None:
    (endpoint,) = dev.resources("aws_vpc_endpoint").values()
    assert (endpoint["service_name"], endpoint["vpc_endpoint_type"]) == (
        "com.amazonaws.us-east-2.s3",
        "Gateway",
    )
    private_tables = {
        f"${{aws_route_table.{n}.id}}"
        for n, t in dev.resources("aws_route_table").items()
        if "private" in t["tags"]["Name"]
    }
    assert set(endpoint["route_table_ids"]) == private_tables and len(private_tables) == 2


def test_cloudfront_needs_a_domain() -> None:
    with pytest.raises(ValueError, match=r"CloudFront needs a domain \(domain_name in the settings file\)"):
        replace(ENVIRONMENTS["dev"], cloudfront_enabled=True)
