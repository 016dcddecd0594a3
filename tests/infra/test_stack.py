"""The stack as a whole: provider, tags, backends, outputs, naming."""

from __future__ import annotations

import pytest
from infra_helpers import Synth


def test_provider_pins_region_version_and_default_tags(dev: Synth, prod: Synth) -> None:
    for synth, env in ((dev, "dev"), (prod, "prod")):
        (provider,) = synth.doc["provider"]["aws"]
        assert provider["region"] == "us-east-2"
        assert provider["default_tags"] == [
            {
                "tags": {
                    "Environment": env,
                    "Project": "awsomeshop",
                    "Owner": "core-business-unit",
                    "CostScope": f"awsomeshop-{env}",
                }
            }
        ]
        assert synth.doc["terraform"]["required_providers"] == {
            "aws": {"source": "hashicorp/aws", "version": "5.100.0"}
        }


def test_no_resource_overrides_the_default_tags(dev: Synth) -> None:
    for type_, resources in dev.doc["resource"].items():
        for name, resource in resources.items():
            tags = resource.get("tags", {})
            assert not {"Environment", "Project", "Owner"} & set(tags), (
                f"{type_}.{name} overrides a default tag"
            )


def test_only_prod_is_protected_from_deletion(dev: Synth, prod: Synth) -> None:
    def protection(synth: Synth) -> tuple[object, ...]:
        (alb,) = synth.resources("aws_lb").values()
        (pool,) = synth.resources("aws_cognito_user_pool").values()
        db = synth.resources("aws_db_instance")["database"]
        repo = synth.resources("aws_ecr_repository")["ecr_repository"]
        return (
            alb["enable_deletion_protection"],
            pool["deletion_protection"],
            db["deletion_protection"],
            repo["force_delete"],
        )

    assert protection(dev) == (False, "INACTIVE", False, True)
    assert protection(prod) == (True, "ACTIVE", True, False)
    secrets = prod.resources("aws_secretsmanager_secret").values()
    assert secrets and all(secret["recovery_window_in_days"] == 30 for secret in secrets)


def test_local_state_by_default_and_s3_with_locking_when_configured(dev: Synth, options: Synth) -> None:
    assert dev.doc["terraform"]["backend"] == {"local": {"path": "terraform.awsomeshop-dev.tfstate"}}
    assert options.doc["terraform"]["backend"] == {
        "s3": {
            "bucket": "example-tf-state",
            "key": "awsomeshop/dev/terraform.tfstate",
            "region": "us-east-2",
            "encrypt": True,
            "use_lockfile": True,
        }
    }


OUTPUTS = {
    "alb_dns_name",
    "ecr_repository_url",
    "cluster_name",
    "service_name",
    "migrate_task_definition_arn",
    "task_definition_family",
    "private_subnet_ids",
    "app_security_group_id",
    "user_pool_id",
    "user_pool_client_id",
    "images_bucket_name",
    "db_proxy_endpoint",
    "cache_endpoint",
    "alerts_topic_arn",
    "expire_points_task_definition_arn",
    "notifications_worker_service_name",
    "cognito_client_secret_arn",
}


def test_outputs(dev: Synth, prod: Synth, options: Synth) -> None:
    assert set(dev.doc["output"]) == OUTPUTS | {"access_instance_id"}
    assert set(prod.doc["output"]) == OUTPUTS | {"url"}
    assert set(options.doc["output"]) == OUTPUTS | {"url", "cloudfront_domain_name"}
    assert dev.doc["output"]["private_subnet_ids"]["value"].startswith('${join(",", [aws_subnet.')


@pytest.mark.parametrize(
    ("type_", "key"),
    [
        ("aws_security_group", "name"),
        ("aws_lb", "name"),
        ("aws_lb_target_group", "name"),
        ("aws_ecs_cluster", "name"),
        ("aws_ecs_service", "name"),
        ("aws_db_instance", "identifier"),
        ("aws_db_proxy", "name"),
        ("aws_iam_role", "name"),
        ("aws_cognito_user_pool", "name"),
        ("aws_sns_topic", "name"),
        ("aws_cloudwatch_metric_alarm", "alarm_name"),
        ("aws_secretsmanager_secret", "name"),
        ("aws_elasticache_replication_group", "replication_group_id"),
        ("aws_elasticache_subnet_group", "name"),
        ("aws_ecr_repository", "name"),
    ],
)
def test_names_end_with_the_environment(prod: Synth, type_: str, key: str) -> None:
    names = [r[key] for r in prod.resources(type_).values()]
    assert names
    assert all(name.endswith("-prod") for name in names), names


def test_terraform_older_than_1_11_is_refused_up_front(dev: Synth, prod: Synth) -> None:
    # Write-only arguments (1.11) and ephemeral resources (1.10) keep generated secrets out of
    # state; older Terraform would fail on them with a confusing parse error.
    for synth in (dev, prod):
        assert synth.doc["terraform"]["required_version"] == ">= 1.11.0"
