"""Named environments for the AWSomeShop stacks.

The figures come from the AWSomeShop infrastructure design (region, sizes, windows, retention,
scaling targets, alarm thresholds). Choices borrowed from sibling designs (NAT per AZ, Fargate
Spot, CloudFront, environment-suffixed names) are options that default to the AWSomeShop
behaviour. Operators override a few values through AWSOMESHOP_* environment variables (see
``from_environment``) rather than editing this file.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from infra_cdktf.engines import ENGINES, EngineSpec

PROJECT = "awsomeshop"


@dataclass(frozen=True, kw_only=True)
class RemoteState:
    """S3 backend settings; absent means local state files next to the synthesized stack."""

    bucket: str
    region: str
    key_prefix: str = "awsomeshop"
    # Terraform >= 1.10 locks with a lock object in the bucket; a DynamoDB table is the older way.
    dynamodb_table: str | None = None


@dataclass(frozen=True, kw_only=True)
class EnvironmentConfig:
    name: str
    region: str = "us-east-2"
    owner: str = "core-business-unit"
    # Network. The ALB and the RDS subnet group each need subnets in two AZs, so even the
    # single-AZ design gets two public and two private subnets.
    vpc_cidr: str = "10.0.0.0/16"
    availability_zones: tuple[str, str] = ("us-east-2a", "us-east-2b")
    public_subnet_cidrs: tuple[str, str] = ("10.0.1.0/24", "10.0.3.0/24")
    private_subnet_cidrs: tuple[str, str] = ("10.0.2.0/24", "10.0.4.0/24")
    nat_gateway_per_az: bool = False
    # Compute.
    task_cpu: int = 512
    task_memory: int = 1024
    container_port: int = 8000
    desired_count: int = 2
    min_capacity: int = 2
    max_capacity: int = 10
    # Step scaling from the design: out when CPU > 70 % or memory > 80 % for 2 minutes, in when
    # CPU < 30 % and memory < 50 % (and requests are low) for 5 minutes, 300 s apart.
    cpu_target_percent: float = 70.0
    memory_target_percent: float = 80.0
    scale_in_cpu_percent: float = 30.0
    scale_in_memory_percent: float = 50.0
    scale_out_minutes: int = 2
    scale_in_minutes: int = 5
    scaling_cooldown_seconds: int = 300
    # Requests per task per minute: two sync gunicorn workers at ~100 ms a request saturate near
    # 1,200; waiting on Cognito or S3 raises latency, not CPU, so requests are tracked too.
    requests_per_target: int = 600
    use_fargate_spot: bool = False
    image_tag: str = "latest"
    log_level: str = "INFO"
    log_retention_days: int = 30
    ecr_keep_images: int = 10
    # Load balancer.
    health_check_path: str = "/health"
    health_check_interval_seconds: int = 30
    health_check_timeout_seconds: int = 5
    healthy_threshold: int = 2
    unhealthy_threshold: int = 3
    # Long enough for in-flight gunicorn requests, far shorter than the 300 s default.
    deregistration_delay_seconds: int = 30
    domain_name: str | None = None
    hosted_zone_name: str | None = None
    alb_log_retention_days: int = 30
    cloudfront_enabled: bool = False
    # Database.
    # "mysql" (RDS MySQL), "postgres" (RDS PostgreSQL) or "aurora-postgresql"; see infra_cdktf/engines.py.
    db_engine: str = "mysql"
    # None: the engine's default major version (engines.py), chosen for its support window.
    db_engine_version: str | None = None
    # RDS Extended Support bills per vCPU-hour once a major version leaves standard support
    # (more than this whole stack costs); off means RDS upgrades the major version instead.
    db_extended_support: bool = False
    db_instance_class: str = "db.t3.micro"
    # Aurora has no micro classes; its smallest burstable class.
    aurora_instance_class: str = "db.t4g.medium"
    db_allocated_storage_gb: int = 20
    db_max_allocated_storage_gb: int = 100
    db_storage_type: str = "gp2"
    db_multi_az: bool = False
    db_backup_retention_days: int = 30
    db_backup_window: str = "03:00-04:00"
    db_maintenance_window: str = "sun:04:00-sun:05:00"
    db_name: str = "awsomeshop"
    db_master_username: str = "awsomeshop_admin"
    # Rough default max_connections of a db.t3.micro MySQL; the alarm fires at 80 % of it.
    db_max_connections: int = 60
    # Statements slower than this land in the exported slow-query log.
    db_slow_query_seconds: float = 1.0
    # Storage.
    cors_allowed_origins: tuple[str, ...] = ("*",)
    # Long-lived environment: deletion protection on the database, ALB and user pool, a final
    # snapshot, no force-deleting a registry that still holds images.
    protect_from_deletion: bool = False
    # Secrets: 0 deletes at once so a torn-down dev stack can be rebuilt under the same names.
    secret_recovery_window_days: int = 0
    # Monitoring.
    alarm_email: str | None = None
    # Monthly AWS Budgets alerts on actual spend (the design's billing alerts).
    budget_alert_usd: tuple[int, ...] = (50, 100, 150)
    # Signed-in session length (the design's 8 hours): Cognito refresh tokens, admin sessions.
    session_hours: int = 8
    remote_state: RemoteState | None = None
    extra_tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.db_engine not in ENGINES:
            raise ValueError(f"db_engine must be one of {sorted(ENGINES)}, not {self.db_engine!r}")
        if self.cloudfront_enabled and not self.https_enabled:
            # CloudFront must reach the ALB over HTTPS, and an ALB without a certificate is internal.
            raise ValueError(
                f"{self.name}: CloudFront needs a domain (AWSOMESHOP_DOMAIN_NAME) for HTTPS to the ALB"
            )

    @property
    def engine(self) -> EngineSpec:
        return ENGINES[self.db_engine]

    @property
    def db_version(self) -> str:
        return self.db_engine_version or self.engine.default_version

    @property
    def https_enabled(self) -> bool:
        return self.domain_name is not None

    @property
    def alb_internet_facing(self) -> bool:
        # Tokens and admin passwords never cross the internet in plain text: without a domain
        # (hence a certificate) the ALB is internal, reachable only from inside the VPC.
        return self.https_enabled

    @property
    def trusted_proxy_count(self) -> int:
        # The ALB adds one X-Forwarded-For hop; CloudFront in front adds another.
        return 2 if self.cloudfront_enabled else 1

    def resource_name(self, base: str) -> str:
        """Environment-suffixed name so several environments can share one account."""
        return f"{PROJECT}-{base}-{self.name}"

    @property
    def cost_scope(self) -> str:
        """One tag value per environment and project: what the budget counts in a shared account."""
        return f"{PROJECT}-{self.name}"

    @property
    def tags(self) -> dict[str, str]:
        return {
            "Environment": self.name,
            "Project": PROJECT,
            "Owner": self.owner,
            "CostScope": self.cost_scope,
            **self.extra_tags,
        }


ENVIRONMENTS: dict[str, EnvironmentConfig] = {
    "dev": EnvironmentConfig(name="dev"),
    "prod": EnvironmentConfig(
        name="prod",
        nat_gateway_per_az=True,
        db_multi_az=True,
        protect_from_deletion=True,
        secret_recovery_window_days=30,
        # A placeholder from the design: operators set AWSOMESHOP_DOMAIN_NAME to their own.
        domain_name="awsomeshop.example.com",
        hosted_zone_name="awsomeshop.example.com",
        cors_allowed_origins=("https://awsomeshop.example.com",),
    ),
}


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def from_environment(base: EnvironmentConfig, env: Mapping[str, str] | None = None) -> EnvironmentConfig:
    """Apply the operator's AWSOMESHOP_* overrides to a named environment."""
    env = os.environ if env is None else env
    changes: dict[str, object] = {}
    if "AWSOMESHOP_IMAGE_TAG" in env:
        changes["image_tag"] = env["AWSOMESHOP_IMAGE_TAG"]
    if "AWSOMESHOP_DOMAIN_NAME" in env:
        domain = env["AWSOMESHOP_DOMAIN_NAME"] or None
        changes["domain_name"] = domain
        changes["hosted_zone_name"] = env.get("AWSOMESHOP_HOSTED_ZONE_NAME") or domain
        if domain:
            changes["cors_allowed_origins"] = (f"https://{domain}",)
    if "AWSOMESHOP_ALARM_EMAIL" in env:
        changes["alarm_email"] = env["AWSOMESHOP_ALARM_EMAIL"] or None
    if "AWSOMESHOP_CLOUDFRONT" in env:
        changes["cloudfront_enabled"] = _flag(env["AWSOMESHOP_CLOUDFRONT"])
    if "AWSOMESHOP_FARGATE_SPOT" in env:
        changes["use_fargate_spot"] = _flag(env["AWSOMESHOP_FARGATE_SPOT"])
    if "AWSOMESHOP_NAT_PER_AZ" in env:
        changes["nat_gateway_per_az"] = _flag(env["AWSOMESHOP_NAT_PER_AZ"])
    if env.get("AWSOMESHOP_STATE_BUCKET"):
        changes["remote_state"] = RemoteState(
            bucket=env["AWSOMESHOP_STATE_BUCKET"],
            region=env.get("AWSOMESHOP_STATE_REGION", base.region),
            dynamodb_table=env.get("AWSOMESHOP_STATE_LOCK_TABLE") or None,
        )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def selected_environments(env: Mapping[str, str] | None = None) -> list[EnvironmentConfig]:
    """The environments to synthesize: AWSOMESHOP_ENVIRONMENTS (comma-separated) or all."""
    env = os.environ if env is None else env
    names = [n.strip() for n in env.get("AWSOMESHOP_ENVIRONMENTS", ",".join(ENVIRONMENTS)).split(",")]
    unknown = [n for n in names if n and n not in ENVIRONMENTS]
    if unknown:
        raise ValueError(f"unknown environment(s) {unknown}; known: {sorted(ENVIRONMENTS)}")
    return [from_environment(ENVIRONMENTS[n], env) for n in names if n]
