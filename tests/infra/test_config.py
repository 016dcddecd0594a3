"""Named environments and operator overrides (no synth needed)."""

from __future__ import annotations

import pytest

from infra_cdktf.config import ENVIRONMENTS, from_environment, selected_environments


def test_dev_and_prod_exist_with_the_design_figures() -> None:
    dev, prod = ENVIRONMENTS["dev"], ENVIRONMENTS["prod"]
    assert dev.region == prod.region == "us-east-2"
    assert dev.vpc_cidr == "10.0.0.0/16"
    assert (dev.task_cpu, dev.task_memory) == (512, 1024)
    assert (dev.desired_count, dev.min_capacity, dev.max_capacity) == (2, 2, 10)
    assert (dev.db_backup_retention_days, dev.db_backup_window) == (30, "03:00-04:00")
    assert dev.db_maintenance_window == "sun:04:00-sun:05:00"
    # dev is the single-AZ, low-cost design; prod turns on the sibling designs' resilience.
    assert not dev.db_multi_az and not dev.nat_gateway_per_az and not dev.protect_from_deletion
    assert prod.db_multi_az and prod.nat_gateway_per_az and prod.protect_from_deletion
    assert not dev.cloudfront_enabled and not prod.cloudfront_enabled
    assert not dev.use_fargate_spot


def test_names_carry_the_environment_suffix() -> None:
    assert ENVIRONMENTS["dev"].resource_name("alb") == "awsomeshop-alb-dev"
    assert ENVIRONMENTS["prod"].resource_name("alb") == "awsomeshop-alb-prod"


def test_tags() -> None:
    assert ENVIRONMENTS["prod"].tags == {
        "Environment": "prod",
        "Project": "awsomeshop",
        "Owner": "core-business-unit",
        # One value per environment and project, for the budget in a shared account.
        "CostScope": "awsomeshop-prod",
    }


def test_overrides_from_the_environment() -> None:
    cfg = from_environment(
        ENVIRONMENTS["dev"],
        {
            "AWSOMESHOP_IMAGE_TAG": "abc123",
            "AWSOMESHOP_DOMAIN_NAME": "shop.example.org",
            "AWSOMESHOP_CLOUDFRONT": "true",
            "AWSOMESHOP_FARGATE_SPOT": "1",
            "AWSOMESHOP_STATE_BUCKET": "state-bucket",
        },
    )
    assert cfg.image_tag == "abc123"
    assert cfg.domain_name == cfg.hosted_zone_name == "shop.example.org"
    assert cfg.cors_allowed_origins == ("https://shop.example.org",)
    assert cfg.cloudfront_enabled and cfg.use_fargate_spot
    assert cfg.trusted_proxy_count == 2
    assert cfg.remote_state is not None and cfg.remote_state.bucket == "state-bucket"
    assert cfg.remote_state.region == "us-east-2"
    # An empty domain turns HTTPS off even for prod.
    assert from_environment(ENVIRONMENTS["prod"], {"AWSOMESHOP_DOMAIN_NAME": ""}).domain_name is None
    assert from_environment(ENVIRONMENTS["dev"], {}) == ENVIRONMENTS["dev"]


def test_environment_selection() -> None:
    assert [c.name for c in selected_environments({})] == ["dev", "prod"]
    assert [c.name for c in selected_environments({"AWSOMESHOP_ENVIRONMENTS": "prod"})] == ["prod"]
    with pytest.raises(ValueError, match="staging"):
        selected_environments({"AWSOMESHOP_ENVIRONMENTS": "dev,staging"})
