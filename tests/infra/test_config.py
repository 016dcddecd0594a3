"""Named environments and operator overrides (no synth needed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from infra_helpers import REPO

from infra_cdktf.config import (
    ENVIRONMENTS,
    ConfigurationError,
    RemoteState,
    apply_settings,
    load_environment,
    selected_environments,
)


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


RELEASE = {"AWSOMESHOP_IMAGE_TAG": "abc123def456"}


def test_named_environments_come_from_the_committed_settings_files() -> None:
    dev, prod = (load_environment(name, RELEASE) for name in ("dev", "prod"))
    assert dev.image_tag == prod.image_tag == "abc123def456"
    # Remote state is committed, so forgetting a variable cannot start an empty local state.
    for cfg in (dev, prod):
        assert cfg.remote_state is not None and cfg.remote_state.bucket
        assert cfg.alarm_email
    assert prod.domain_name == prod.hosted_zone_name == "awsomeshop.example.com"
    # Uploads come from the site's own origin (derived from the domain unless set).
    assert prod.upload_origins == ("https://awsomeshop.example.com",)
    # The design figures stay the dataclass defaults.
    assert (dev.task_cpu, prod.db_multi_az) == (512, True)


@pytest.mark.parametrize("tag", [None, "", "  ", "latest"])
def test_synth_refuses_to_run_without_a_release_tag(tag: str | None) -> None:
    env = {} if tag is None else {"AWSOMESHOP_IMAGE_TAG": tag}
    with pytest.raises(ConfigurationError, match="AWSOMESHOP_IMAGE_TAG"):
        selected_environments(env)


def test_retired_variables_are_refused_not_ignored() -> None:
    with pytest.raises(ConfigurationError, match=r"AWSOMESHOP_STATE_BUCKET -> remote_state\.bucket"):
        load_environment("dev", {**RELEASE, "AWSOMESHOP_STATE_BUCKET": "other"})
    with pytest.raises(ConfigurationError, match="AWSOMESHOP_DOMAIN_NAME -> domain_name"):
        load_environment("prod", {**RELEASE, "AWSOMESHOP_DOMAIN_NAME": ""})
    with pytest.raises(ConfigurationError, match="AWSOMESHOP_BREAK_GLASS_EMAILS -> break_glass_emails"):
        load_environment("prod", {**RELEASE, "AWSOMESHOP_BREAK_GLASS_EMAILS": "ops@example.org"})


def test_a_settings_file_without_remote_state_is_refused(tmp_path: Path) -> None:
    env = {**RELEASE, "AWSOMESHOP_ENVIRONMENTS_DIR": str(tmp_path)}
    with pytest.raises(ConfigurationError, match=r"settings file .*dev\.json is missing"):
        load_environment("dev", env)
    (tmp_path / "dev.json").write_text(json.dumps({"alarm_email": "ops@example.org"}))
    with pytest.raises(ConfigurationError, match="no remote_state"):
        load_environment("dev", env)
    (tmp_path / "dev.json").write_text(json.dumps({"local_state": True}))
    assert load_environment("dev", env).remote_state is None
    (tmp_path / "dev.json").write_text(json.dumps({"local_state": True, "domian_name": "typo.example"}))
    with pytest.raises(ConfigurationError, match="domian_name"):
        load_environment("dev", env)


def test_settings_override_the_design_defaults() -> None:
    cfg = apply_settings(
        ENVIRONMENTS["dev"],
        {
            # CloudFront reaches the ALB over HTTPS, so it comes with a domain.
            "domain_name": "shop.example.org",
            "cloudfront_enabled": True,
            "cors_allowed_origins": ["https://shop.example.org"],
            "remote_state": {"bucket": "b", "region": "eu-west-1", "dynamodb_table": "locks"},
        },
    )
    assert cfg.domain_name == "shop.example.org" and cfg.alb_internet_facing
    assert cfg.cloudfront_enabled and cfg.trusted_proxy_count == 2
    assert cfg.cors_allowed_origins == ("https://shop.example.org",)
    assert cfg.remote_state == RemoteState(bucket="b", region="eu-west-1", dynamodb_table="locks")


def test_environment_selection() -> None:
    assert [c.name for c in selected_environments(RELEASE)] == ["dev", "prod"]
    assert [c.name for c in selected_environments({**RELEASE, "AWSOMESHOP_ENVIRONMENTS": "prod"})] == ["prod"]
    with pytest.raises(ValueError, match="staging"):
        selected_environments({**RELEASE, "AWSOMESHOP_ENVIRONMENTS": "dev,staging"})


def test_the_synth_command_names_the_missing_tag() -> None:
    env = {k: v for k, v in os.environ.items() if k != "AWSOMESHOP_IMAGE_TAG"}
    done = subprocess.run(
        [sys.executable, "-m", "infra_cdktf"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0
    assert "AWSOMESHOP_IMAGE_TAG is required" in done.stderr


def test_a_domain_outside_its_hosted_zone_is_refused() -> None:
    from dataclasses import replace

    prod = ENVIRONMENTS["prod"]
    with pytest.raises(ConfigurationError, match=r"is not in hosted_zone_name example\.org"):
        replace(prod, domain_name="shop.example.com", hosted_zone_name="example.org")
    # The domain itself, or a name inside the zone, is fine; without a zone name the domain is the zone.
    assert (
        replace(prod, domain_name="shop.example.org", hosted_zone_name="example.org").zone_name
        == "example.org"
    )
    assert replace(prod, domain_name="example.org", hosted_zone_name=None).zone_name == "example.org"


def test_example_values_are_reported_as_placeholders() -> None:
    """The release refuses these (tests/release); synth accepts them, for the tests' sake."""
    committed = load_environment("prod", {"AWSOMESHOP_IMAGE_TAG": "t"})
    assert "domain_name=awsomeshop.example.com" in committed.placeholders()
    own = apply_settings(
        ENVIRONMENTS["prod"],
        {
            "local_state": True,
            "domain_name": "rewards.acme.test",
            "hosted_zone_name": "acme.test",
            "alarm_email": "ops@acme.test",
        },
    )
    assert own.placeholders() == []
    assert own.upload_origins == ("https://rewards.acme.test",)


def test_prod_promotes_devs_image_and_asks_before_applying() -> None:
    dev, prod = ENVIRONMENTS["dev"], ENVIRONMENTS["prod"]
    assert (prod.promote_image_from, prod.approve_applies) == ("dev", True)
    assert (dev.promote_image_from, dev.approve_applies) == (None, False)
