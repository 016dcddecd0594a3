"""Shared fixtures: synthesized stacks, each built once per session because synth is slow."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from infra_helpers import METRICS, Synth, synth

from infra_cdktf.config import ENVIRONMENTS, EnvironmentConfig, RemoteState


@pytest.fixture(scope="session")
def dev() -> Synth:
    return synth(ENVIRONMENTS["dev"])


@pytest.fixture(scope="session")
def prod() -> Synth:
    return synth(ENVIRONMENTS["prod"])


@pytest.fixture(scope="session")
def dev_config() -> EnvironmentConfig:
    return ENVIRONMENTS["dev"]


@pytest.fixture(scope="session")
def options() -> Synth:
    """dev with every option on: HTTPS, CloudFront, Fargate Spot, NAT per AZ, remote state."""
    config = replace(
        ENVIRONMENTS["dev"],
        domain_name="shop.example.org",
        hosted_zone_name="example.org",
        cloudfront_enabled=True,
        use_fargate_spot=True,
        nat_gateway_per_az=True,
        alarm_email="ops@example.org",
        remote_state=RemoteState(bucket="example-tf-state", region="us-east-2"),
    )
    return synth(config)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if METRICS:
        terminalreporter.section("infrastructure figures")
        for key, value in METRICS.items():
            terminalreporter.write_line(f"{key}: {value}")
