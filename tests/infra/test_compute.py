"""Compute: ECR, cluster, task definitions, service, autoscaling."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from typing import Any

import pytest
from infra_helpers import REPO, Synth, synth

from infra_cdktf.config import EnvironmentConfig

LIVENESS = [
    "CMD-SHELL",
    "python -c \"import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=3)\" || exit 1",
]
MASTER_SECRET = "${aws_db_instance.database.master_user_secret[0].secret_arn}"


def _secret_arn(synth: Synth, name: str) -> str:
    (logical_id,) = [n for n, s in synth.resources("aws_secretsmanager_secret").items() if s["name"] == name]
    return f"${{aws_secretsmanager_secret.{logical_id}.arn}}"


def _task(synth: Synth, family: str) -> tuple[dict[str, Any], dict[str, Any]]:
    (task,) = [t for t in synth.resources("aws_ecs_task_definition").values() if t["family"] == family]
    (container,) = json.loads(task["container_definitions"])
    return task, container


def test_ecr_repository(dev: Synth) -> None:
    repo = dev.resources("aws_ecr_repository")["ecr_repository"]
    assert repo["name"] == "awsomeshop-core-dev"
    assert repo["image_scanning_configuration"] == {"scan_on_push": True}
    assert repo["image_tag_mutability"] == "IMMUTABLE"
    (lifecycle,) = dev.resources("aws_ecr_lifecycle_policy").values()
    (rule,) = json.loads(lifecycle["policy"])["rules"]
    assert rule["selection"] == {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 10}
    assert rule["action"] == {"type": "expire"}


def test_cluster_has_container_insights_and_spot_capacity(dev: Synth) -> None:
    (cluster,) = dev.resources("aws_ecs_cluster").values()
    assert cluster["name"] == "awsomeshop-cluster-dev"
    assert cluster["setting"] == [{"name": "containerInsights", "value": "enabled"}]
    (providers,) = dev.resources("aws_ecs_cluster_capacity_providers").values()
    assert providers["capacity_providers"] == ["FARGATE", "FARGATE_SPOT"]


def test_log_group(dev: Synth) -> None:
    _, group = dev.named("aws_cloudwatch_log_group", "name", "/ecs/awsomeshop-core-task-dev")
    assert group["retention_in_days"] == 30


def test_web_task_definition(dev: Synth) -> None:
    task, container = _task(dev, "awsomeshop-core-task-dev")
    assert (task["cpu"], task["memory"], task["network_mode"]) == ("512", "1024", "awsvpc")
    assert task["requires_compatibilities"] == ["FARGATE"]
    roles = {n: r["name"] for n, r in dev.resources("aws_iam_role").items()}
    assert roles[task["execution_role_arn"].split(".")[1]] == "awsomeshop-ecs-execution-role-dev"
    assert roles[task["task_role_arn"].split(".")[1]] == "awsomeshop-ecs-task-role-dev"
    assert container["image"] == "${aws_ecr_repository.ecr_repository.repository_url}:test-tag"
    assert container["portMappings"] == [{"containerPort": 8000, "hostPort": 8000, "protocol": "tcp"}]
    assert container["healthCheck"]["command"] == LIVENESS
    log_group, _ = dev.named("aws_cloudwatch_log_group", "name", "/ecs/awsomeshop-core-task-dev")
    assert container["logConfiguration"] == {
        "logDriver": "awslogs",
        "options": {
            "awslogs-group": f"${{aws_cloudwatch_log_group.{log_group}.name}}",
            "awslogs-region": "us-east-2",
            "awslogs-stream-prefix": "web",
        },
    }


def test_container_environment_and_secrets(dev: Synth) -> None:
    _, container = _task(dev, "awsomeshop-core-task-dev")
    env = {e["name"]: e["value"] for e in container["environment"]}
    (pool,) = dev.resources("aws_cognito_user_pool")
    (client,) = dev.resources("aws_cognito_user_pool_client")
    (proxy,) = dev.resources("aws_db_proxy")
    (alb,) = dev.resources("aws_lb")
    (cache,) = dev.resources("aws_elasticache_replication_group")
    assert env == {
        "AWS_REGION": "us-east-2",
        "LOG_LEVEL": "INFO",
        "METRICS_ENVIRONMENT": "dev",
        "COGNITO_USER_POOL_ID": f"${{aws_cognito_user_pool.{pool}.id}}",
        "COGNITO_CLIENT_ID": f"${{aws_cognito_user_pool_client.{client}.id}}",
        "S3_BUCKET_NAME": "${aws_s3_bucket.images_bucket.bucket}",
        "DB_ENGINE": "mysql",
        "SESSION_COOKIE_AGE": "28800",
        "DB_HOST": f"${{aws_db_proxy.{proxy}.endpoint}}",
        "DB_PORT": "3306",
        "DB_NAME": "awsomeshop",
        "DB_SSL_MODE": "REQUIRED",
        # The app's own database user, never the master (the migrate task's).
        "DB_SECRET_ARN": _secret_arn(dev, "awsomeshop-db-app-user-dev"),
        "TRUSTED_PROXY_COUNT": "1",
        # The order rate limit's counters: Valkey over TLS (test_cache.py).
        "REDIS_URL": f"rediss://${{aws_elasticache_replication_group.{cache}.primary_endpoint_address}}:6379/0",
        # Production serves only its host name: here the ALB's (no domain, so HTTP only).
        "APP_DOMAIN": f"${{aws_lb.{alb}.dns_name}}",
        "SECURE_SSL_REDIRECT": "false",
        # ... and localhost, the host of the port operators forward through the access host.
        "ALLOWED_HOSTS": "localhost",
        # dev has no sending domain: mail goes to the log; expiry is off (test_lifecycle.py).
        "POINTS_EXPIRY_MONTHS": "0",
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        "DEFAULT_FROM_EMAIL": "AWSomeShop <no-reply@localhost>",
    }
    app_secret = _secret_arn(dev, "awsomeshop-db-app-user-dev")
    assert {s["name"]: s["valueFrom"] for s in container["secrets"]} == {
        "DB_USER": f"{app_secret}:username::",
        "DB_PASSWORD": f"{app_secret}:password::",
        "DJANGO_SECRET_KEY": _secret_arn(dev, "awsomeshop-django-secret-key-dev"),
    }


def test_with_a_domain_and_cloudfront_the_app_serves_that_domain_over_https(options: Synth) -> None:
    _, container = _task(options, "awsomeshop-core-task-dev")
    env = {e["name"]: e["value"] for e in container["environment"]}
    assert env["APP_DOMAIN"] == "shop.example.org"
    # The browser's origin is the domain (CloudFront's alias): nothing else to trust.
    assert "CSRF_TRUSTED_ORIGINS" not in env
    assert "SECURE_SSL_REDIRECT" not in env  # production's default: on
    # An internet-facing ALB needs no forwarded local port.
    assert "ALLOWED_HOSTS" not in env


def test_migrate_task_migrates_as_the_owner_then_sets_up_the_app_user(dev: Synth) -> None:
    web_task, web = _task(dev, "awsomeshop-core-task-dev")
    task, migrate = _task(dev, "awsomeshop-migrate-task-dev")
    assert migrate["command"] == [
        "sh",
        "-c",
        "python manage.py migrate --noinput && python manage.py db_grant_app_user",
    ]
    assert migrate["image"] == web["image"]
    app_secret = _secret_arn(dev, "awsomeshop-db-app-user-dev")
    web_env = {e["name"]: e["value"] for e in web["environment"]}
    assert {e["name"]: e["value"] for e in migrate["environment"]} == {
        **web_env,
        "DB_SECRET_ARN": MASTER_SECRET,
        "DB_APP_SECRET_ARN": app_secret,
        "DB_APP_USER": "awsomeshop_app",
    }
    assert {s["name"]: s["valueFrom"] for s in migrate["secrets"]} == {
        "DB_USER": f"{MASTER_SECRET}:username::",
        "DB_PASSWORD": f"{MASTER_SECRET}:password::",
        "DJANGO_SECRET_KEY": _secret_arn(dev, "awsomeshop-django-secret-key-dev"),
    }
    roles = {n: r["name"] for n, r in dev.resources("aws_iam_role").items()}
    assert roles[task["task_role_arn"].split(".")[1]] == "awsomeshop-ecs-migrate-task-role-dev"
    assert roles[web_task["task_role_arn"].split(".")[1]] == "awsomeshop-ecs-task-role-dev"
    assert "portMappings" not in migrate
    assert migrate["logConfiguration"]["options"]["awslogs-stream-prefix"] == "migrate"
    assert task["requires_compatibilities"] == ["FARGATE"]
    # The web container never migrates: its command is the image's default (gunicorn).
    assert "command" not in web


def test_service(dev: Synth) -> None:
    _, service = dev.named("aws_ecs_service", "name", "awsomeshop-core-service-dev")
    expected = {
        "name": "awsomeshop-core-service-dev",
        "desired_count": 2,
        "deployment_maximum_percent": 200,
        "deployment_minimum_healthy_percent": 50,
        "deployment_circuit_breaker": {"enable": True, "rollback": True},
        "wait_for_steady_state": True,
        "capacity_provider_strategy": [{"capacity_provider": "FARGATE", "base": 0, "weight": 1}],
    }
    assert {k: service[k] for k in expected} == expected
    (tg,) = dev.resources("aws_lb_target_group")
    assert service["load_balancer"] == [
        {
            "target_group_arn": f"${{aws_lb_target_group.{tg}.arn}}",
            "container_name": "web",
            "container_port": 8000,
        }
    ]
    private = {
        f"${{aws_subnet.{n}.id}}"
        for n, s in dev.resources("aws_subnet").items()
        if s["tags"]["Tier"] == "private"
    }
    assert set(service["network_configuration"]["subnets"]) == private
    assert service["lifecycle"] == {"ignore_changes": ["desired_count"]}
    (listener,) = dev.resources("aws_lb_listener")
    assert f"aws_lb_listener.{listener}" in service["depends_on"]


def test_fargate_spot_option(options: Synth) -> None:
    _, service = options.named("aws_ecs_service", "name", "awsomeshop-core-service-dev")
    assert service["capacity_provider_strategy"] == [
        {"capacity_provider": "FARGATE", "base": 1, "weight": 1},
        {"capacity_provider": "FARGATE_SPOT", "base": 0, "weight": 3},
    ]


def test_a_stack_without_an_image_tag_is_refused(dev_config: EnvironmentConfig) -> None:
    with pytest.raises(ValueError, match="AWSOMESHOP_IMAGE_TAG"):
        synth(replace(dev_config, image_tag=None))


def test_the_release_script_names_what_the_stack_creates(dev: Synth, dev_config: EnvironmentConfig) -> None:
    sys.path.insert(0, str(REPO / "scripts"))
    from release import MIGRATE_CONTAINER, WEB_CONTAINER, Names  # type: ignore[import-not-found]

    names = Names.of(dev_config)
    assert dev.resources("aws_ecr_repository")["ecr_repository"]["name"] == names.repository
    ((_, cluster),) = dev.resources("aws_ecs_cluster").items()
    assert cluster["name"] == names.cluster
    # The release waits for the web service, the one behind the load balancer (the notification
    # worker is a second service in the same cluster).
    (service,) = [s for s in dev.resources("aws_ecs_service").values() if s.get("load_balancer")]
    assert service["name"] == names.service
    _, web = _task(dev, names.web_family)
    _, migrate = _task(dev, names.migrate_family)
    assert (web["name"], migrate["name"]) == (WEB_CONTAINER, MIGRATE_CONTAINER)
    # A failed release names the log group both containers write to.
    log_groups = {address: g["name"] for address, g in dev.resources("aws_cloudwatch_log_group").items()}
    for container in (web, migrate):
        reference = container["logConfiguration"]["options"]["awslogs-group"]
        address = reference.removeprefix("${aws_cloudwatch_log_group.").removesuffix(".name}")
        assert log_groups[address] == names.log_group


def test_containers_run_on_a_read_only_root_filesystem_with_a_writable_tmp(dev: Synth) -> None:
    for family, name in (("awsomeshop-core-task-dev", "web"), ("awsomeshop-migrate-task-dev", "migrate")):
        task, container = _task(dev, family)
        assert container["name"] == name
        assert container["readonlyRootFilesystem"] is True
        # /tmp (uploads spool there) is the task's own ephemeral storage; Fargate has no tmpfs.
        assert container["mountPoints"] == [
            {"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}
        ]
        assert task["volume"] == [{"name": "tmp"}]
