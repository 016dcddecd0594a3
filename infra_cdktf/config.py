"""Named environments for the AWSomeShop stacks.

The figures come from the AWSomeShop infrastructure design (region, sizes, windows, retention,
scaling targets, alarm thresholds). Choices borrowed from sibling designs (NAT per AZ, Fargate
Spot, CloudFront, environment-suffixed names) are options that default to the AWSomeShop
behaviour. Each deployed environment's stable operator settings (state bucket, alarm address,
domain, options) are committed in ``environments/<name>.json`` next to this file, so a deploy
that forgets an environment variable cannot switch to local state or drop a setting. The only
per-run input is the release's image tag, AWSOMESHOP_IMAGE_TAG, which synth requires.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra_cdktf.engines import ENGINES, EngineSpec

PROJECT = "awsomeshop"
# The CloudWatch namespace the app writes its metrics to (shop/observability/metrics.py NAMESPACE).
METRICS_NAMESPACE = "AWSomeShop"
# What the app's database backends log (shop/db/backends) when the database refuses the
# credentials the app user's secret holds now: not a rotation being followed, a real failure.
# An alarm counts it and scripts/release.sh looks for it after a deploy.
LOGIN_REFUSED_MESSAGE = "database login refused with the current credentials"
# The app's liveness path (seed 004): the ALB target group and the ECS container check call it.
LIVENESS_PATH = "/healthz"


class ConfigurationError(ValueError):
    """A deployment's configuration is missing or contradictory; the message says what to set."""


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
    # The release's image tag (the git commit). No default: a forgotten tag must stop synth, not
    # point the service and the migrate task at whatever `latest` happens to be.
    image_tag: str | None = None
    # Set for the first release's deploy only (BOOTSTRAP_VARIABLE, from scripts/release.sh):
    # the one configuration that writes the app user's placeholder secret (data.py).
    bootstrap_app_db_secret: bool = False
    log_level: str = "INFO"
    log_retention_days: int = 30
    ecr_keep_images: int = 10
    # Load balancer. Liveness, not the database-backed /health: an RDS outage or failover must
    # not fail every target at once and make ECS replace every task (docs/deploy.md, Health).
    health_check_path: str = LIVENESS_PATH
    health_check_interval_seconds: int = 30
    health_check_timeout_seconds: int = 5
    healthy_threshold: int = 2
    unhealthy_threshold: int = 3
    # Long enough for in-flight gunicorn requests, far shorter than the 300 s default.
    deregistration_delay_seconds: int = 30
    # ECS sends SIGTERM after draining and SIGKILL this much later: above gunicorn's
    # graceful_timeout (gunicorn.conf.py), so in-flight requests finish (tests/infra/test_shutdown.py).
    stop_timeout_seconds: int = 30
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
    # The order rate limit's cache (infra_cdktf/cache.py): Valkey, one node plus this many
    # replicas in the other AZ (automatic failover when there is one).
    cache_engine_version: str = "7.2"
    cache_node_type: str = "cache.t4g.micro"
    cache_replicas: int = 0
    cache_maintenance_window: str = "sun:05:00-sun:06:00"
    # Storage.
    # Browser origins allowed to upload images with presigned URLs. Empty: the site's own
    # https://<domain_name> (with or without CloudFront, the one public address), or any origin
    # without a domain (an internal ALB, reached from the VPC or a forwarded local port).
    cors_allowed_origins: tuple[str, ...] = ()
    # Long-lived environment: deletion protection on the database, ALB and user pool, a final
    # snapshot, no force-deleting a registry that still holds images.
    protect_from_deletion: bool = False
    # Secrets: 0 deletes at once so a torn-down dev stack can be rebuilt under the same names.
    secret_recovery_window_days: int = 0
    # The Cognito hosted UI (company sign-in to the admin and the storefront; needs domain_name
    # for its HTTPS callbacks) lives at <prefix>.auth.<region>.amazoncognito.com. The prefix
    # must be unique in the region across every AWS account, so a fixed default would make the
    # second deployment that keeps it fail half-way through its apply. None derives
    # "rewards-shop-<env>-<account id>" at apply time (unique per account and environment);
    # a chosen prefix is checked against Cognito's rules here.
    hosted_ui_domain_prefix: str | None = None
    # Superusers allowed to sign in to the admin with a password (break glass).
    break_glass_emails: tuple[str, ...] = ()
    # Monitoring: alarms and budget alerts go to this address once its owner confirms the
    # subscription e-mail AWS sends (docs/deploy.md, First deploy).
    alarm_email: str | None = None
    # Points lifecycle (docs/deploy.md "Points expiry and notifications in AWS"). Expiry is off
    # (0) until HR announces a policy: turning it on expires old grants at the next daily run.
    points_expiry_months: int = 0
    # The domain notification e-mail is sent from (SES identity); defaults to domain_name.
    email_domain: str | None = None
    # Monthly AWS Budgets alerts on actual spend (the design's billing alerts). The highest is
    # the budget's limit; it must sit above the environment's own estimate (docs/deploy.md,
    # What it costs), or it alerts every month and means nothing.
    budget_alert_usd: tuple[int, ...] = (50, 100, 150)
    # Without a domain the ALB is internal: a small SSM-managed instance in a private subnet
    # lets an operator reach it with Session Manager port forwarding (no inbound port, no key).
    access_host: bool = True
    # Releases (scripts/release.sh): ship the image this other environment tested (its digest)
    # instead of building, and show each plan and ask before applying (unless --yes).
    promote_image_from: str | None = None
    approve_applies: bool = False
    # Signed-in session length (the design's 8 hours): Cognito refresh tokens, admin sessions.
    session_hours: int = 8
    remote_state: RemoteState | None = None
    extra_tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.hosted_ui_domain_prefix is not None:
            check_hosted_ui_prefix(self.name, self.hosted_ui_domain_prefix)
        if self.domain_name is not None and not _within(self.domain_name, self.zone_name or ""):
            raise ConfigurationError(
                f"{self.name}: domain_name {self.domain_name} is not in hosted_zone_name {self.hosted_zone_name}: "
                "the certificate's validation record and the alias go into that Route 53 zone"
            )
        if self.db_engine not in ENGINES:
            raise ValueError(f"db_engine must be one of {sorted(ENGINES)}, not {self.db_engine!r}")
        if self.cloudfront_enabled and not self.https_enabled:
            # CloudFront must reach the ALB over HTTPS, and an ALB without a certificate is internal.
            raise ValueError(
                f"{self.name}: CloudFront needs a domain (domain_name in the settings file) for HTTPS to the ALB"
            )

    @property
    def zone_name(self) -> str | None:
        """The Route 53 public hosted zone that must already exist, delegated (docs/deploy.md)."""
        return self.hosted_zone_name or self.domain_name

    @property
    def upload_origins(self) -> tuple[str, ...]:
        if self.cors_allowed_origins:
            return self.cors_allowed_origins
        return (f"https://{self.domain_name}",) if self.domain_name else ("*",)

    @property
    def internal_access_host(self) -> bool:
        return self.access_host and not self.alb_internet_facing

    def placeholders(self) -> list[str]:
        """Settings still holding the committed example values, which no real deploy can use."""
        found = []
        for key in ("alarm_email", "domain_name", "hosted_zone_name"):
            value = getattr(self, key)
            if value and _is_example(value):
                found.append(f"{key}={value}")
        for key in ("cors_allowed_origins", "break_glass_emails"):
            found += [f"{key}={v}" for v in getattr(self, key) if _is_example(v)]
        return found

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
    def sender_domain(self) -> str | None:
        return self.email_domain or self.domain_name

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


# Cognito's rules for a hosted-UI domain prefix.
_PREFIX = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_RESERVED_IN_PREFIX = ("aws", "amazon", "cognito")


def check_hosted_ui_prefix(env_name: str, prefix: str) -> None:
    if not _PREFIX.match(prefix) or any(word in prefix for word in _RESERVED_IN_PREFIX):
        raise ConfigurationError(
            f"{env_name}: hosted_ui_domain_prefix {prefix!r} is not a valid Cognito domain prefix: "
            "lowercase letters, digits and hyphens, 1-63 characters, no leading or trailing hyphen, "
            'and none of "aws", "amazon", "cognito"; leave it unset to derive a unique one'
        )


def _within(name: str, zone: str) -> bool:
    name, zone = name.rstrip(".").lower(), zone.rstrip(".").lower()
    return name == zone or name.endswith(f".{zone}")


def _is_example(value: str) -> bool:
    host = value.rsplit("@", 1)[-1].split("//", 1)[-1].split("/", 1)[0].lower()
    return any(_within(host, example) for example in ("example.com", "example.org", "example.net"))


ENVIRONMENTS: dict[str, EnvironmentConfig] = {
    # The design's $50/$100/$150 alerts sat below dev's own cost (cache, worker, RDS Proxy,
    # custom metrics): they would fire every month. Each threshold is above the estimate.
    "dev": EnvironmentConfig(name="dev", budget_alert_usd=(225, 275, 350)),
    "prod": EnvironmentConfig(
        name="prod",
        nat_gateway_per_az=True,
        db_multi_az=True,
        cache_replicas=1,
        protect_from_deletion=True,
        secret_recovery_window_days=30,
        # A placeholder from the design: operators set domain_name in environments/prod.json.
        domain_name="awsomeshop.example.com",
        hosted_zone_name="awsomeshop.example.com",
        # Above prod's own estimate (docs/deploy.md, What it costs), so an alert means something.
        budget_alert_usd=(300, 400, 500),
        promote_image_from="dev",
        approve_applies=True,
    ),
}


IMAGE_TAG_VARIABLE = "AWSOMESHOP_IMAGE_TAG"
BOOTSTRAP_VARIABLE = "AWSOMESHOP_BOOTSTRAP_APP_DB_SECRET"
# Set per run from the environment, never in a settings file.
PER_RUN_FIELDS = ("image_tag", "bootstrap_app_db_secret")
ENVIRONMENTS_DIR = Path(__file__).resolve().parent / "environments"
# Stable settings that used to be environment variables; they now live in the committed file,
# and setting one is an error rather than silently ignored.
RETIRED_VARIABLES = {
    "AWSOMESHOP_DOMAIN_NAME": "domain_name",
    "AWSOMESHOP_HOSTED_ZONE_NAME": "hosted_zone_name",
    "AWSOMESHOP_CLOUDFRONT": "cloudfront_enabled",
    "AWSOMESHOP_FARGATE_SPOT": "use_fargate_spot",
    "AWSOMESHOP_NAT_PER_AZ": "nat_gateway_per_az",
    "AWSOMESHOP_ALARM_EMAIL": "alarm_email",
    "AWSOMESHOP_STATE_BUCKET": "remote_state.bucket",
    "AWSOMESHOP_STATE_REGION": "remote_state.region",
    "AWSOMESHOP_STATE_LOCK_TABLE": "remote_state.dynamodb_table",
    "AWSOMESHOP_BREAK_GLASS_EMAILS": "break_glass_emails",
}


def _settings_file(name: str, env: Mapping[str, str]) -> Path:
    # AWSOMESHOP_ENVIRONMENTS_DIR points synth at another directory of settings files (previews,
    # the tests' every-option variant); a missing file there is an error like here.
    directory = (
        Path(env["AWSOMESHOP_ENVIRONMENTS_DIR"])
        if env.get("AWSOMESHOP_ENVIRONMENTS_DIR")
        else ENVIRONMENTS_DIR
    )
    return directory / f"{name}.json"


def apply_settings(base: EnvironmentConfig, settings: Mapping[str, Any]) -> EnvironmentConfig:
    """The committed settings of one environment over its design defaults; unknown keys fail."""
    fields = {f.name for f in dataclasses.fields(EnvironmentConfig)} - {"name", *PER_RUN_FIELDS}
    unknown = sorted(set(settings) - fields - {"local_state", "$comment"})
    if unknown:
        raise ConfigurationError(f"{base.name}: unknown setting(s) {unknown}")
    changes: dict[str, Any] = {k: v for k, v in settings.items() if k in fields}
    for key, value in changes.items():
        if isinstance(value, list):
            changes[key] = tuple(value)
    if isinstance(changes.get("remote_state"), Mapping):
        changes["remote_state"] = RemoteState(**changes["remote_state"])
    config = dataclasses.replace(base, **changes)
    if config.remote_state is None and settings.get("local_state") is not True:
        # Without this, a missing bucket setting would quietly start a second, empty local state
        # and the next apply would try to create every resource again.
        raise ConfigurationError(
            f"{base.name}: no remote_state configured; set remote_state.bucket in its settings file "
            '(or "local_state": true for a throwaway environment)'
        )
    return config


def environment_settings(name: str, env: Mapping[str, str] | None = None) -> EnvironmentConfig:
    """A named environment's design defaults with its committed settings file over them: what
    synth deploys and what the release script must address (region, names), without the tag."""
    env = os.environ if env is None else env
    if name not in ENVIRONMENTS:
        raise ConfigurationError(f"unknown environment {name!r}; known: {sorted(ENVIRONMENTS)}")
    retired = sorted(v for v in RETIRED_VARIABLES if v in env)
    if retired:
        where = ", ".join(f"{v} -> {RETIRED_VARIABLES[v]}" for v in retired)
        raise ConfigurationError(f"no longer read from the environment, set in the settings file: {where}")
    path = _settings_file(name, env)
    if not path.is_file():
        raise ConfigurationError(f"{name}: settings file {path} is missing")
    return apply_settings(ENVIRONMENTS[name], json.loads(path.read_text()))


def load_environment(name: str, env: Mapping[str, str] | None = None) -> EnvironmentConfig:
    """A named environment as deployed: design defaults, committed settings, the image tag."""
    env = os.environ if env is None else env
    config = environment_settings(name, env)
    tag = env.get(IMAGE_TAG_VARIABLE, "").strip()
    if not tag:
        raise ConfigurationError(
            f"{IMAGE_TAG_VARIABLE} is required: the image tag (git commit) to deploy; "
            "scripts/release.sh sets it. There is no `latest` fallback."
        )
    if tag == "latest":
        raise ConfigurationError(f"{IMAGE_TAG_VARIABLE}=latest is refused: deploy a commit's tag")
    return dataclasses.replace(
        config, image_tag=tag, bootstrap_app_db_secret=env.get(BOOTSTRAP_VARIABLE) == "1"
    )


def selected_environments(env: Mapping[str, str] | None = None) -> list[EnvironmentConfig]:
    """The environments to synthesize: AWSOMESHOP_ENVIRONMENTS (comma-separated) or all."""
    env = os.environ if env is None else env
    names = [n.strip() for n in env.get("AWSOMESHOP_ENVIRONMENTS", ",".join(ENVIRONMENTS)).split(",")]
    unknown = [n for n in names if n and n not in ENVIRONMENTS]
    if unknown:
        raise ConfigurationError(f"unknown environment(s) {unknown}; known: {sorted(ENVIRONMENTS)}")
    return [load_environment(n, env) for n in names if n]
