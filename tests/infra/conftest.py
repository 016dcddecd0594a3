"""Shared fixtures: synthesized stacks, each built once per session because synth is slow."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from typing import Any

import pytest
from infra_helpers import METRICS, Synth, synth
from infra_tools import (
    MIRROR_ENV,
    SynthRun,
    find_provider_mirror,
    run_synth,
    terraform_binary,
    write_cli_config,
)

from infra_cdktf.config import ENVIRONMENTS, EnvironmentConfig, RemoteState

# An explicit tag: synth has no default one (a release passes its commit).
TEST_IMAGE_TAG = "test-tag"


@pytest.fixture(scope="session")
def dev() -> Synth:
    return synth(replace(ENVIRONMENTS["dev"], image_tag=TEST_IMAGE_TAG))


@pytest.fixture(scope="session")
def prod() -> Synth:
    return synth(replace(ENVIRONMENTS["prod"], image_tag=TEST_IMAGE_TAG))


@pytest.fixture(scope="session")
def dev_config() -> EnvironmentConfig:
    return replace(ENVIRONMENTS["dev"], image_tag=TEST_IMAGE_TAG)


@pytest.fixture(scope="session")
def options() -> Synth:
    """dev with every option on: HTTPS, CloudFront, Fargate Spot, NAT per AZ, remote state."""
    config = replace(
        ENVIRONMENTS["dev"],
        image_tag=TEST_IMAGE_TAG,
        domain_name="shop.example.org",
        hosted_zone_name="example.org",
        cloudfront_enabled=True,
        use_fargate_spot=True,
        nat_gateway_per_az=True,
        alarm_email="ops@example.org",
        remote_state=RemoteState(bucket="example-tf-state", region="us-east-2"),
    )
    return synth(config)


@pytest.fixture(scope="session")
def postgres() -> Synth:
    """prod on RDS PostgreSQL Multi-AZ (seed 004)."""
    return synth(replace(ENVIRONMENTS["prod"], image_tag=TEST_IMAGE_TAG, db_engine="postgres"))


@pytest.fixture(scope="session")
def aurora() -> Synth:
    """prod on Aurora PostgreSQL (seed 003): a writer and a reader in another AZ."""
    return synth(replace(ENVIRONMENTS["prod"], image_tag=TEST_IMAGE_TAG, db_engine="aurora-postgresql"))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if METRICS:
        terminalreporter.section("infrastructure figures")
        for key, value in METRICS.items():
            terminalreporter.write_line(f"{key}: {value}")


# What a release passes; everything else comes from the committed settings files.
RELEASE_VARIABLES = {"AWSOMESHOP_IMAGE_TAG": "0123456789ab"}


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> SynthRun:
    run = run_synth(tmp_path_factory.mktemp("cdktf.out"), RELEASE_VARIABLES)
    METRICS["synth (python -m infra_cdktf, dev + prod)"] = (
        f"{run.seconds:.1f} s, peak RSS {run.peak_rss_mb:.0f} MB"
    )
    return run


# The synth command with every option switched on through a settings directory of its own: the
# dev stack with HTTPS, CloudFront, Fargate Spot, NAT per AZ and remote state.
OPTION_SETTINGS = {
    "domain_name": "shop.example.org",
    "hosted_zone_name": "example.org",
    "cors_allowed_origins": ["https://shop.example.org"],
    "cloudfront_enabled": True,
    "use_fargate_spot": True,
    "nat_gateway_per_az": True,
    "alarm_email": "ops@example.org",
    "remote_state": {"bucket": "example-tf-state", "region": "us-east-2"},
}


@pytest.fixture(scope="session")
def synthesized_options(tmp_path_factory: pytest.TempPathFactory) -> SynthRun:
    settings = tmp_path_factory.mktemp("environments")
    (settings / "dev.json").write_text(json.dumps(OPTION_SETTINGS))
    variables = {
        "AWSOMESHOP_ENVIRONMENTS": "dev",
        "AWSOMESHOP_ENVIRONMENTS_DIR": str(settings),
        "AWSOMESHOP_IMAGE_TAG": "v42",
    }
    return run_synth(tmp_path_factory.mktemp("cdktf.out.options"), variables)


@pytest.fixture(scope="session")
def terraform_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    terraform = terraform_binary()
    if terraform is None:
        pytest.skip("Terraform CLI not found on PATH (set AWSOMESHOP_TERRAFORM to its path)")
    mirror = find_provider_mirror()
    if mirror is None:
        pytest.skip(
            f"no local mirror of hashicorp/aws found; set {MIRROR_ENV} to a directory holding "
            "registry.terraform.io/hashicorp/aws/<version>/<os_arch>"
        )
    config = write_cli_config(mirror, tmp_path_factory.mktemp("terraform-cli"))
    return {
        **os.environ,
        "TF_CLI_CONFIG_FILE": str(config),
        "TF_IN_AUTOMATION": "1",
        "CHECKPOINT_DISABLE": "1",
        "TF_TERRAFORM": terraform,
    }
