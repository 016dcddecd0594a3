"""Points lifecycle: SES identity and send permission, the notification worker, the daily
expire_points schedule with its role and failure queue, and the alarms."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from infra_helpers import Synth, synth

from infra_cdktf.config import ENVIRONMENTS, apply_settings
from infra_cdktf.mail import records_zone

SES = "django_ses.SESBackend"
CONSOLE = "django.core.mail.backends.console.EmailBackend"


def _containers(s: Synth) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """family -> (task definition, its one container)."""
    found = {}
    for task in s.resources("aws_ecs_task_definition").values():
        (container,) = json.loads(task["container_definitions"])
        found[task["family"]] = (task, container)
    return found


def _env(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container["environment"]}


def _private_subnets(s: Synth) -> set[str]:
    return {
        f"${{aws_subnet.{n}.id}}"
        for n, sub in s.resources("aws_subnet").items()
        if sub["tags"]["Tier"] == "private"
    }


def _policies_of(s: Synth, role_name: str) -> list[dict[str, Any]]:
    role = s.ref("aws_iam_role", "name", role_name)
    return [p for p in s.resources("aws_iam_role_policy").values() if p["role"] == role]


def _alarm(s: Synth, name: str) -> dict[str, Any]:
    return s.named("aws_cloudwatch_metric_alarm", "alarm_name", name)[1]


# --- the daily expiry run ----------------------------------------------------------------------


def test_expiry_runs_daily_after_midnight_utc_on_the_cluster(dev: Synth) -> None:
    _, schedule = dev.named("aws_scheduler_schedule", "name", "awsomeshop-expire-points-dev")
    assert schedule["schedule_expression"] == "cron(30 0 * * ? *)"
    assert schedule["schedule_expression_timezone"] == "UTC"
    assert schedule["flexible_time_window"] == {"mode": "OFF"}
    assert schedule["state"] == "ENABLED"
    target = schedule["target"]
    assert target["arn"] == dev.ref("aws_ecs_cluster", "name", "awsomeshop-cluster-dev", "arn")
    assert target["role_arn"] == dev.ref(
        "aws_iam_role", "name", "awsomeshop-expiry-scheduler-role-dev", "arn"
    )
    ecs = target["ecs_parameters"]
    assert ecs["task_definition_arn"] == dev.ref(
        "aws_ecs_task_definition", "family", "awsomeshop-expire-points-task-dev", "arn"
    )
    assert (ecs["launch_type"], ecs["task_count"]) == ("FARGATE", 1)
    # In the private subnets with the app's security group (database through the proxy, SES
    # and ECR over 443), never with a public address.
    assert set(ecs["network_configuration"]["subnets"]) == _private_subnets(dev)
    assert ecs["network_configuration"]["security_groups"] == [
        dev.ref("aws_security_group", "name", "awsomeshop-app-sg-dev")
    ]
    assert ecs["network_configuration"]["assign_public_ip"] is False
    # A failed RunTask call is retried, then the request is dead-lettered.
    assert target["retry_policy"] == {"maximum_retry_attempts": 10, "maximum_event_age_in_seconds": 21600}
    queue = dev.ref("aws_sqs_queue", "name", "awsomeshop-expiry-failures-dev", "arn")
    assert target["dead_letter_config"] == {"arn": queue}


def test_expiry_task_runs_expire_points_with_the_web_tasks_image_and_settings(dev: Synth) -> None:
    containers = _containers(dev)
    _, web = containers["awsomeshop-core-task-dev"]
    task, job = containers["awsomeshop-expire-points-task-dev"]
    assert job["command"] == ["python", "manage.py", "expire_points"]
    assert job["name"] == "expire-points"
    assert job["image"] == web["image"]
    assert job["environment"] == web["environment"] and job["secrets"] == web["secrets"]
    assert job["logConfiguration"]["options"] == {
        **web["logConfiguration"]["options"],
        "awslogs-stream-prefix": "expire-points",
    }
    assert "portMappings" not in job and "healthCheck" not in job
    assert (task["cpu"], task["memory"], task["network_mode"]) == ("256", "512", "awsvpc")
    assert task["requires_compatibilities"] == ["FARGATE"]
    web_task, _ = containers["awsomeshop-core-task-dev"]
    # The web tasks' execution role (the same secrets injected), its own task role.
    assert (task["task_role_arn"], task["execution_role_arn"]) == (
        dev.ref("aws_iam_role", "name", "awsomeshop-ecs-expiry-task-role-dev", "arn"),
        web_task["execution_role_arn"],
    )


def test_scheduler_role_may_only_run_the_expiry_task_and_pass_its_two_roles(dev: Synth) -> None:
    _, role = dev.named("aws_iam_role", "name", "awsomeshop-expiry-scheduler-role-dev")
    (trust,) = json.loads(role["assume_role_policy"])["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    # Only schedules in this account may use the role (confused deputy).
    (account,) = trust["Condition"]["StringEquals"].values()
    assert set(trust["Condition"]["StringEquals"]) == {"aws:SourceAccount"}
    assert account.startswith("${data.aws_caller_identity.") and account.endswith(".account_id}")
    (policy,) = _policies_of(dev, "awsomeshop-expiry-scheduler-role-dev")
    statements = {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}
    assert set(statements) == {"RunTheExpiryTask", "TagTheExpiryTask", "PassTheTaskRoles", "DeadLetter"}

    run = statements["RunTheExpiryTask"]
    assert run["Action"] == ["ecs:RunTask"]
    (resource,) = run["Resource"]
    assert resource.endswith(":task-definition/awsomeshop-expire-points-task-dev:*")
    assert run["Condition"] == {
        "ArnEquals": {"ecs:cluster": dev.ref("aws_ecs_cluster", "name", "awsomeshop-cluster-dev", "arn")}
    }
    tag = statements["TagTheExpiryTask"]
    assert tag["Action"] == ["ecs:TagResource"]
    assert tag["Condition"] == {"StringEquals": {"ecs:CreateAction": "RunTask"}}

    passing = statements["PassTheTaskRoles"]
    assert passing["Action"] == ["iam:PassRole"]
    assert passing["Resource"] == [
        dev.ref("aws_iam_role", "name", "awsomeshop-ecs-expiry-task-role-dev", "arn"),
        dev.ref("aws_iam_role", "name", "awsomeshop-ecs-execution-role-dev", "arn"),
    ]
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}

    assert statements["DeadLetter"]["Action"] == ["sqs:SendMessage"]
    assert statements["DeadLetter"]["Resource"] == [
        dev.ref("aws_sqs_queue", "name", "awsomeshop-expiry-failures-dev", "arn")
    ]
    assert all("scheduler" not in a["role"] for a in dev.resources("aws_iam_role_policy_attachment").values())


def test_failure_queue_is_encrypted_and_kept_two_weeks(dev: Synth) -> None:
    _, queue = dev.named("aws_sqs_queue", "name", "awsomeshop-expiry-failures-dev")
    assert queue["sqs_managed_sse_enabled"] is True
    assert queue["message_retention_seconds"] == 14 * 24 * 3600


def test_an_expiry_task_that_fails_or_never_starts_lands_in_the_failure_queue(dev: Synth) -> None:
    name, rule = dev.named("aws_cloudwatch_event_rule", "name", "awsomeshop-expiry-task-failed-dev")
    pattern = json.loads(rule["event_pattern"])
    assert pattern == {
        "source": ["aws.ecs"],
        "detail-type": ["ECS Task State Change"],
        "detail": {
            "clusterArn": [dev.ref("aws_ecs_cluster", "name", "awsomeshop-cluster-dev", "arn")],
            "group": ["family:awsomeshop-expire-points-task-dev"],
            "lastStatus": ["STOPPED"],
            "$or": [
                {"containers": {"exitCode": [{"anything-but": 0}]}},
                {"stopCode": ["TaskFailedToStart"]},
            ],
        },
    }
    queue = "awsomeshop-expiry-failures-dev"
    (target,) = dev.resources("aws_cloudwatch_event_target").values()
    assert target["rule"] == f"${{aws_cloudwatch_event_rule.{name}.name}}"
    assert target["arn"] == dev.ref("aws_sqs_queue", "name", queue, "arn")
    (policy,) = dev.resources("aws_sqs_queue_policy").values()
    assert policy["queue_url"] == dev.ref("aws_sqs_queue", "name", queue, "url")
    (statement,) = json.loads(policy["policy"])["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    # Only this rule may write there.
    assert statement["Condition"] == {
        "ArnEquals": {"aws:SourceArn": f"${{aws_cloudwatch_event_rule.{name}.arn}}"}
    }


# --- the notification worker ---------------------------------------------------------------------


def test_worker_is_one_small_task_running_send_notifications_in_a_loop(dev: Synth) -> None:
    containers = _containers(dev)
    _, web = containers["awsomeshop-core-task-dev"]
    task, worker = containers["awsomeshop-worker-task-dev"]
    # Mail every 10 s; expired sessions and idempotency keys deleted every hour.
    assert worker["command"] == [
        "python", "manage.py", "send_notifications", "--loop", "--interval", "10", "--batch-size", "50",
        "--purge-every", "3600",
    ]  # fmt: skip
    assert (task["cpu"], task["memory"]) == ("256", "512")
    # SIGTERM, then time to finish the batch in hand before SIGKILL.
    assert worker["stopTimeout"] == 60
    assert worker["image"] == web["image"]
    assert worker["environment"] == web["environment"] and worker["secrets"] == web["secrets"]
    assert worker["logConfiguration"]["options"]["awslogs-stream-prefix"] == "worker"
    assert "portMappings" not in worker

    _, service = dev.named("aws_ecs_service", "name", "awsomeshop-notifications-worker-dev")
    assert service["task_definition"] == dev.ref(
        "aws_ecs_task_definition", "family", "awsomeshop-worker-task-dev", "arn"
    )
    assert service["cluster"] == dev.ref("aws_ecs_cluster", "name", "awsomeshop-cluster-dev", "arn")
    assert service["desired_count"] == 1
    # A deployment stops the old worker before it starts the new one: never two at once.
    assert (service["deployment_maximum_percent"], service["deployment_minimum_healthy_percent"]) == (100, 0)
    assert service["deployment_circuit_breaker"] == {"enable": True, "rollback": True}
    # The apply waits for the worker's deployment as for the web service's.
    assert service["wait_for_steady_state"] is True
    assert service["capacity_provider_strategy"] == [{"capacity_provider": "FARGATE", "base": 0, "weight": 1}]
    assert "load_balancer" not in service
    assert set(service["network_configuration"]["subnets"]) == _private_subnets(dev)
    assert service["network_configuration"]["security_groups"] == [
        dev.ref("aws_security_group", "name", "awsomeshop-app-sg-dev")
    ]
    assert service["network_configuration"]["assign_public_ip"] is False
    (providers,) = dev.resources("aws_ecs_cluster_capacity_providers")
    assert f"aws_ecs_cluster_capacity_providers.{providers}" in service["depends_on"]


def test_worker_runs_on_spot_when_the_option_is_on(options: Synth) -> None:
    _, service = options.named("aws_ecs_service", "name", "awsomeshop-notifications-worker-dev")
    assert service["capacity_provider_strategy"] == [
        {"capacity_provider": "FARGATE_SPOT", "base": 0, "weight": 1}
    ]


# --- SES -------------------------------------------------------------------------------------------


def test_prod_sends_from_its_domain_with_dkim_and_mail_from_records(prod: Synth) -> None:
    name, identity = prod.named("aws_sesv2_email_identity", "email_identity", "awsomeshop.example.com")
    assert identity["dkim_signing_attributes"] == {"next_signing_key_length": "RSA_2048_BIT"}
    tokens = f"aws_sesv2_email_identity.{name}.dkim_signing_attributes[0].tokens"
    ((zone_name, zone),) = [(n, z) for n, z in prod.data("aws_route53_zone").items() if n.startswith("mail_")]
    assert (zone["name"], zone["private_zone"]) == ("awsomeshop.example.com", False)
    zone_id = f"${{data.aws_route53_zone.{zone_name}.zone_id}}"
    records = [r for r in prod.resources("aws_route53_record").values() if r["zone_id"] == zone_id]
    cnames = sorted((r for r in records if r["type"] == "CNAME"), key=lambda r: r["name"])
    assert [(r["name"], r["records"]) for r in cnames] == [
        (
            f"${{element({tokens}, {i})}}._domainkey.awsomeshop.example.com",
            [f"${{element({tokens}, {i})}}.dkim.amazonses.com"],
        )
        for i in range(3)
    ]
    (mail_from,) = prod.resources("aws_sesv2_email_identity_mail_from_attributes").values()
    assert mail_from["email_identity"] == f"${{aws_sesv2_email_identity.{name}.email_identity}}"
    assert mail_from["mail_from_domain"] == "mail.awsomeshop.example.com"
    assert mail_from["behavior_on_mx_failure"] == "USE_DEFAULT_VALUE"
    by_type = {r["type"]: r for r in records if r["name"] == "mail.awsomeshop.example.com"}
    assert by_type["MX"]["records"] == ["10 feedback-smtp.us-east-2.amazonses.com"]
    assert by_type["TXT"]["records"] == ["v=spf1 include:amazonses.com ~all"]


def test_only_the_worker_may_send_and_only_from_the_shops_identity(prod: Synth) -> None:
    (policy,) = [
        p
        for p in _policies_of(prod, "awsomeshop-ecs-worker-task-role-prod")
        if p["name"] == "send-notification-email"
    ]
    (statement,) = json.loads(policy["policy"])["Statement"]
    assert statement["Action"] == ["ses:SendEmail", "ses:SendRawEmail"]
    assert statement["Resource"] == [
        prod.ref("aws_sesv2_email_identity", "email_identity", "awsomeshop.example.com", "arn")
    ]
    # Only the worker sends (the outbox); the web, expiry, scheduler and execution roles cannot.
    for role in (
        "awsomeshop-ecs-task-role-prod",
        "awsomeshop-ecs-expiry-task-role-prod",
        "awsomeshop-expiry-scheduler-role-prod",
        "awsomeshop-ecs-execution-role-prod",
    ):
        assert "ses:" not in json.dumps([p["policy"] for p in _policies_of(prod, role)])


def test_every_container_gets_the_mail_and_expiry_settings(prod: Synth) -> None:
    families = ["core-task", "migrate-task", "worker-task", "expire-points-task"]
    containers = _containers(prod)
    for family in families:
        _, container = containers[f"awsomeshop-{family}-prod"]
        env = _env(container)
        assert env["EMAIL_BACKEND"] == SES, family
        assert env["DEFAULT_FROM_EMAIL"] == "AWSomeShop <no-reply@awsomeshop.example.com>"
        # Off until HR announces a policy (docs/deploy.md).
        assert env["POINTS_EXPIRY_MONTHS"] == "0"
        assert env["AWS_REGION"] == "us-east-2" and env["METRICS_ENVIRONMENT"] == "prod"


def test_without_a_domain_mail_goes_to_the_log_and_no_ses_is_created(dev: Synth) -> None:
    assert not dev.resources("aws_sesv2_email_identity")
    assert not dev.resources("aws_sesv2_email_identity_mail_from_attributes")
    assert [p["name"] for p in _policies_of(dev, "awsomeshop-ecs-worker-task-role-dev")] == [
        "app-user-secret-metrics"
    ]
    _, worker = _containers(dev)["awsomeshop-worker-task-dev"]
    assert _env(worker)["EMAIL_BACKEND"] == CONSOLE


@pytest.fixture(scope="module")
def own_mail_domain() -> Synth:
    """dev sending from a domain of its own whose DNS is not in Route 53, with expiry on."""
    config = apply_settings(
        replace(ENVIRONMENTS["dev"], image_tag="test-tag"),
        {"email_domain": "rewards.example.net", "points_expiry_months": 12, "local_state": True},
    )
    assert (config.email_domain, config.points_expiry_months) == ("rewards.example.net", 12)
    return synth(config)


def test_email_domain_and_expiry_months_come_from_the_settings_file(own_mail_domain: Synth) -> None:
    (identity,) = own_mail_domain.resources("aws_sesv2_email_identity").values()
    assert identity["email_identity"] == "rewards.example.net"
    # No hosted zone: the operator publishes the DKIM records (docs/deploy.md), none is created.
    assert not own_mail_domain.resources("aws_route53_record")
    assert not own_mail_domain.resources("aws_sesv2_email_identity_mail_from_attributes")
    for _, container in _containers(own_mail_domain).values():
        env = _env(container)
        assert env["POINTS_EXPIRY_MONTHS"] == "12"
        assert env["DEFAULT_FROM_EMAIL"] == "AWSomeShop <no-reply@rewards.example.net>"
        assert env["EMAIL_BACKEND"] == SES


def test_email_domain_defaults_to_the_sites_domain() -> None:
    assert replace(ENVIRONMENTS["dev"], domain_name="shop.example.org").sender_domain == "shop.example.org"
    assert replace(ENVIRONMENTS["prod"], email_domain="mail.example.org").sender_domain == "mail.example.org"
    assert ENVIRONMENTS["dev"].sender_domain is None
    assert (
        apply_settings(ENVIRONMENTS["dev"], {"email_domain": None, "local_state": True}).email_domain is None
    )


# --- alarms ------------------------------------------------------------------------------------------


def test_outbox_age_alarm_fires_on_a_stale_outbox_or_a_silent_worker(dev: Synth) -> None:
    alarm = _alarm(dev, "awsomeshop-outbox-oldest-age-dev")
    expected = {
        "namespace": "AWSomeShop",
        "metric_name": "OutboxOldestAge",
        "dimensions": {"Environment": "dev"},
        "statistic": "Maximum",
        "period": 300,
        "evaluation_periods": 2,
        "comparison_operator": "GreaterThanThreshold",
        "threshold": 900,
        "treat_missing_data": "breaching",
    }
    assert {k: alarm[k] for k in expected} == expected
    topic = dev.ref("aws_sns_topic", "name", "awsomeshop-alerts-dev", "arn")
    assert alarm["alarm_actions"] == alarm["ok_actions"] == [topic]
    assert "docs/deploy.md" in alarm["alarm_description"]


def test_a_failed_expiry_run_raises_an_alarm(dev: Synth) -> None:
    alarm = _alarm(dev, "awsomeshop-expiry-failed-dev")
    assert (alarm["namespace"], alarm["metric_name"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert alarm["dimensions"] == {
        "QueueName": dev.ref("aws_sqs_queue", "name", "awsomeshop-expiry-failures-dev", "name")
    }
    assert (alarm["comparison_operator"], alarm["threshold"]) == ("GreaterThanThreshold", 0)
    assert alarm["alarm_actions"] == [dev.ref("aws_sns_topic", "name", "awsomeshop-alerts-dev", "arn")]


def test_the_application_dashboard_shows_the_outbox_age(dev: Synth) -> None:
    _, dashboard = dev.named("aws_cloudwatch_dashboard", "dashboard_name", "awsomeshop-application-dev")
    widgets = json.loads(dashboard["dashboard_body"])["widgets"]
    (widget,) = [
        w
        for w in widgets
        if ["AWSomeShop", "OutboxOldestAge", "Environment", "dev"] in w["properties"]["metrics"]
    ]
    assert widget["properties"]["stat"] == "Maximum"


def test_dns_records_only_go_to_a_zone_that_holds_the_sending_domain() -> None:
    prod = ENVIRONMENTS["prod"]
    assert records_zone(prod) == "awsomeshop.example.com"
    assert records_zone(replace(prod, email_domain="mail.awsomeshop.example.com")) == "awsomeshop.example.com"
    assert records_zone(replace(prod, hosted_zone_name="Example.com.")) == "example.com"
    # A domain outside the zone: the records would be refused at apply, so none are written.
    assert records_zone(replace(prod, email_domain="rewards.example.net")) is None
    assert records_zone(replace(prod, email_domain="notawsomeshop.example.com")) is None
    assert records_zone(ENVIRONMENTS["dev"]) is None


def test_the_worker_and_expiry_containers_run_read_only_like_the_web_container(dev: Synth) -> None:
    containers = _containers(dev)
    web_task, web = containers["awsomeshop-core-task-dev"]
    for family in ("awsomeshop-worker-task-dev", "awsomeshop-expire-points-task-dev"):
        task, container = containers[family]
        assert container["readonlyRootFilesystem"] is True, family
        assert container["mountPoints"] == web["mountPoints"], family
        assert task["volume"] == web_task["volume"], family
