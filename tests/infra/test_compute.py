"""Compute: ECR, cluster, task definitions, service, autoscaling."""

from __future__ import annotations

import json
from typing import Any

from infra_helpers import Synth

LIVENESS = [
    "CMD-SHELL",
    "python -c \"import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=3)\" || exit 1",
]
MASTER_SECRET = "${aws_db_instance.database.master_user_secret[0].secret_arn}"


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
    assert container["image"] == "${aws_ecr_repository.ecr_repository.repository_url}:latest"
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
    assert env == {
        "AWS_REGION": "us-east-2",
        "LOG_LEVEL": "INFO",
        "COGNITO_USER_POOL_ID": f"${{aws_cognito_user_pool.{pool}.id}}",
        "COGNITO_CLIENT_ID": f"${{aws_cognito_user_pool_client.{client}.id}}",
        "S3_BUCKET_NAME": "${aws_s3_bucket.images_bucket.bucket}",
        "DB_ENGINE": "mysql",
        "SESSION_COOKIE_AGE": "28800",
        "DB_HOST": f"${{aws_db_proxy.{proxy}.endpoint}}",
        "DB_PORT": "3306",
        "DB_NAME": "awsomeshop",
        "DB_SSL_MODE": "REQUIRED",
        "DB_SECRET_ARN": MASTER_SECRET,
        "TRUSTED_PROXY_COUNT": "1",
    }
    django_secret, _ = dev.named("aws_secretsmanager_secret", "name", "awsomeshop-django-secret-key-dev")
    assert {s["name"]: s["valueFrom"] for s in container["secrets"]} == {
        "DB_USER": f"{MASTER_SECRET}:username::",
        "DB_PASSWORD": f"{MASTER_SECRET}:password::",
        "DJANGO_SECRET_KEY": f"${{aws_secretsmanager_secret.{django_secret}.arn}}",
    }


def test_migrate_task_runs_migrations_with_the_same_image_and_settings(dev: Synth) -> None:
    _, web = _task(dev, "awsomeshop-core-task-dev")
    task, migrate = _task(dev, "awsomeshop-migrate-task-dev")
    assert migrate["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert migrate["image"] == web["image"]
    assert migrate["environment"] == web["environment"] and migrate["secrets"] == web["secrets"]
    assert "portMappings" not in migrate
    assert migrate["logConfiguration"]["options"]["awslogs-stream-prefix"] == "migrate"
    assert task["requires_compatibilities"] == ["FARGATE"]
    # The web container never migrates: its command is the image's default (gunicorn).
    assert "command" not in web


def test_service(dev: Synth) -> None:
    (service,) = dev.resources("aws_ecs_service").values()
    expected = {
        "name": "awsomeshop-core-service-dev",
        "desired_count": 2,
        "deployment_maximum_percent": 200,
        "deployment_minimum_healthy_percent": 50,
        "deployment_circuit_breaker": {"enable": True, "rollback": True},
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
    (service,) = options.resources("aws_ecs_service").values()
    assert service["capacity_provider_strategy"] == [
        {"capacity_provider": "FARGATE", "base": 1, "weight": 1},
        {"capacity_provider": "FARGATE_SPOT", "base": 0, "weight": 3},
    ]
