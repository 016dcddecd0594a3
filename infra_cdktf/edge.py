"""What faces the internet: the ALB with its listeners and certificate, and optional CloudFront."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import Fn, TerraformStack, Token
from constructs import Construct

from infra_cdktf.aws import (
    AcmCertificate,
    AcmCertificateValidation,
    AwsProvider,
    CloudfrontDistribution,
    CloudfrontDistributionOrderedCacheBehavior,
    CloudfrontDistributionOrigin,
    CloudfrontDistributionOriginCustomHeader,
    DataAwsRoute53Zone,
    DataAwsSecretsmanagerSecretVersion,
    Lb,
    LbListener,
    LbListenerDefaultAction,
    LbListenerRule,
    LbListenerRuleAction,
    LbListenerRuleCondition,
    LbListenerRuleConditionHttpHeader,
    LbTargetGroup,
    Route53Record,
    SecretsmanagerSecret,
    SecretsmanagerSecretVersion,
)
from infra_cdktf.config import EnvironmentConfig
from infra_cdktf.storage import ALB_LOG_PREFIX


def origin_host(cfg: EnvironmentConfig) -> str:
    """The ALB's own name behind CloudFront (the domain itself belongs to the distribution)."""
    assert cfg.domain_name is not None
    return f"{ORIGIN_SUBDOMAIN}.{cfg.domain_name}"


# AWS managed policies for CloudFront: CachingDisabled (every page here is per user),
# CachingOptimized (the hashed static files, cached for as long as they say), and AllViewer
# (the viewer's Host header, the domain, reaches the ALB: its certificate covers the domain and
# the app serves it).
CACHING_DISABLED_POLICY_ID = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
CACHING_OPTIMIZED_POLICY_ID = "658327ea-f89d-4fab-a63d-7e88639e58f6"
ALL_VIEWER_POLICY_ID = "216adef6-5c7f-47e4-b989-5492eafa07d3"
# CloudFront's own hosted zone, for alias records pointing at a distribution.
CLOUDFRONT_ZONE_ID = "Z2FDTNDATAQYW2"
# Collected, content-hashed static files (WhiteNoise's manifest storage, STATIC_URL).
STATIC_PATH_PATTERN = "/static/*"
# With CloudFront the domain points at the distribution, and CloudFront reaches the ALB by
# this name (its certificate covers both).
ORIGIN_SUBDOMAIN = "origin"
# AWS managed SecurityHeadersPolicy: HSTS, nosniff, frame options, referrer policy.
SECURITY_HEADERS_POLICY_ID = "67f7725c-6f97-4210-82d7-5512b31e9d03"
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
# CloudFront adds this header with a secret value; the ALB forwards only requests carrying it.
ORIGIN_VERIFY_HEADER = "X-Origin-Verify"
ORIGIN_VERIFY_GENERATOR = "origin_verify"


@dataclass(frozen=True, kw_only=True)
class LoadBalancerProps:
    config: EnvironmentConfig
    vpc_id: str
    public_subnet_ids: list[str]
    # Where an internal ALB (no domain, hence no HTTPS) lives.
    private_subnet_ids: list[str]
    alb_security_group_id: str
    logs_bucket_name: str
    # The logs bucket policy must exist before the ALB checks it can write there.
    logs_bucket_policy: object


class LoadBalancer(Construct):
    alb: Lb
    target_group: LbTargetGroup
    http_listener: LbListener
    https_listener: LbListener | None
    certificate: AcmCertificate | None
    certificate_validation: AcmCertificateValidation | None
    alias_record: Route53Record | None
    zone: DataAwsRoute53Zone | None
    # With CloudFront: the secret header value CloudFront sends and the HTTPS listener requires.
    origin_secret: SecretsmanagerSecret | None
    origin_verify_value: str | None
    origin_verify_rule: LbListenerRule | None

    def __init__(self, scope: Construct, id_: str, *, props: LoadBalancerProps) -> None:
        super().__init__(scope, id_)
        cfg = props.config
        self.alb = Lb(
            self,
            "alb",
            name=cfg.resource_name("alb"),
            # Internet-facing only with HTTPS (a domain); otherwise internal, in private subnets.
            internal=not cfg.alb_internet_facing,
            load_balancer_type="application",
            security_groups=[props.alb_security_group_id],
            subnets=props.public_subnet_ids if cfg.alb_internet_facing else props.private_subnet_ids,
            drop_invalid_header_fields=True,
            enable_deletion_protection=cfg.protect_from_deletion,
            access_logs={"bucket": props.logs_bucket_name, "prefix": ALB_LOG_PREFIX, "enabled": True},
            depends_on=[props.logs_bucket_policy],  # type: ignore[list-item]
        )
        self.target_group = LbTargetGroup(
            self,
            "target_group",
            name=cfg.resource_name("tg"),
            # Fargate tasks register by IP (awsvpc networking).
            target_type="ip",
            port=cfg.container_port,
            protocol="HTTP",
            vpc_id=props.vpc_id,
            deregistration_delay=str(cfg.deregistration_delay_seconds),
            health_check={
                "enabled": True,
                "path": cfg.health_check_path,
                "protocol": "HTTP",
                "port": "traffic-port",
                "matcher": "200",
                "interval": cfg.health_check_interval_seconds,
                "timeout": cfg.health_check_timeout_seconds,
                "healthy_threshold": cfg.healthy_threshold,
                "unhealthy_threshold": cfg.unhealthy_threshold,
            },
        )
        forward = [LbListenerDefaultAction(type="forward", target_group_arn=self.target_group.arn)]

        self.certificate = None
        self.certificate_validation = None
        self.https_listener = None
        self.alias_record = None
        self.zone = None
        self.origin_secret = None
        self.origin_verify_value = None
        self.origin_verify_rule = None
        if cfg.domain_name is None:
            self.http_listener = LbListener(
                self,
                "http",
                load_balancer_arn=self.alb.arn,
                port=80,
                protocol="HTTP",
                default_action=forward,
            )
            return

        # The zone must exist already, public and delegated (docs/deploy.md, Prerequisites):
        # without it the plan stops here ("no matching Route 53 Hosted Zone found"); if it is not
        # delegated, the certificate's validation never completes.
        self.zone = DataAwsRoute53Zone(self, "zone", name=cfg.zone_name, private_zone=False)
        zone = self.zone
        behind_cdn = cfg.cloudfront_enabled
        self.certificate = AcmCertificate(
            self,
            "certificate",
            domain_name=cfg.domain_name,
            subject_alternative_names=[origin_host(cfg)] if behind_cdn else None,
            validation_method="DNS",
            key_algorithm="RSA_2048",
            lifecycle={"create_before_destroy": True},
        )
        # One validation record per name; the set is converted to a list to index it.
        records = []
        for index in range(2 if behind_cdn else 1):
            option = Fn.element(Fn.tolist(self.certificate.domain_validation_options), index)
            records.append(
                Route53Record(
                    self,
                    "certificate_validation_record"
                    if index == 0
                    else f"certificate_validation_record_{index}",
                    zone_id=zone.zone_id,
                    name=Token.as_string(Fn.lookup(option, "resource_record_name")),
                    type=Token.as_string(Fn.lookup(option, "resource_record_type")),
                    records=[Token.as_string(Fn.lookup(option, "resource_record_value"))],
                    ttl=60,
                    allow_overwrite=True,
                )
            )
        self.certificate_validation = AcmCertificateValidation(
            self,
            "certificate_validation",
            certificate_arn=self.certificate.arn,
            validation_record_fqdns=[r.fqdn for r in records],
        )
        self.https_listener = LbListener(
            self,
            "https",
            load_balancer_arn=self.alb.arn,
            port=443,
            protocol="HTTPS",
            ssl_policy=TLS_POLICY,
            certificate_arn=self.certificate_validation.certificate_arn,
            default_action=forward if not cfg.cloudfront_enabled else [self._forbidden()],
        )
        if cfg.cloudfront_enabled:
            self._origin_verify(cfg)
        self.http_listener = LbListener(
            self,
            "http",
            load_balancer_arn=self.alb.arn,
            port=80,
            protocol="HTTP",
            default_action=[
                LbListenerDefaultAction(
                    type="redirect",
                    redirect={"port": "443", "protocol": "HTTPS", "status_code": "HTTP_301"},
                )
            ],
        )
        # The domain itself, or behind CloudFront the origin name (the domain is CloudFront's).
        self.alias_record = Route53Record(
            self,
            "alias",
            zone_id=zone.zone_id,
            name=origin_host(cfg) if behind_cdn else cfg.domain_name,
            type="A",
            alias={"name": self.alb.dns_name, "zone_id": self.alb.zone_id, "evaluate_target_health": True},
        )

    @staticmethod
    def _forbidden() -> LbListenerDefaultAction:
        return LbListenerDefaultAction(
            type="fixed-response",
            fixed_response={
                "content_type": "application/json",
                "message_body": '{"code": "forbidden", "detail": "Use the public address."}',
                "status_code": "403",
            },
        )

    def _origin_verify(self, cfg: EnvironmentConfig) -> None:
        """A secret only CloudFront knows, generated inside AWS; the listener forwards only with it."""
        assert self.https_listener is not None
        self.origin_secret = SecretsmanagerSecret(
            self,
            "origin_secret",
            name=cfg.resource_name("origin-verify"),
            description=f"Value of the {ORIGIN_VERIFY_HEADER} header CloudFront sends to the ALB",
            recovery_window_in_days=cfg.secret_recovery_window_days,
        )
        TerraformStack.of(self).add_override(
            f"ephemeral.aws_secretsmanager_random_password.{ORIGIN_VERIFY_GENERATOR}",
            {"password_length": 48, "exclude_punctuation": True},
        )
        version = SecretsmanagerSecretVersion(
            self, "origin_secret_version", secret_id=self.origin_secret.id, secret_string_wo_version=1
        )
        version.add_override(
            "secret_string_wo",
            f"${{ephemeral.aws_secretsmanager_random_password.{ORIGIN_VERIFY_GENERATOR}.random_password}}",
        )
        # CloudFront's origin header and the listener condition are plain arguments, so this value
        # does land in state (docs/deploy.md lists it); it is read back rather than regenerated.
        current = DataAwsSecretsmanagerSecretVersion(
            self, "origin_secret_current", secret_id=self.origin_secret.id, depends_on=[version]
        )
        self.origin_verify_value = current.secret_string
        self.origin_verify_rule = LbListenerRule(
            self,
            "origin_verify_rule",
            listener_arn=self.https_listener.arn,
            priority=1,
            condition=[
                LbListenerRuleCondition(
                    http_header=LbListenerRuleConditionHttpHeader(
                        http_header_name=ORIGIN_VERIFY_HEADER, values=[current.secret_string]
                    )
                )
            ],
            action=[LbListenerRuleAction(type="forward", target_group_arn=self.target_group.arn)],
        )

    @property
    def serving_listener(self) -> LbListener | LbListenerRule:
        """What attaches the target group to the ALB; ECS refuses a target group without one."""
        if self.origin_verify_rule is not None:
            # Behind CloudFront only this rule forwards; the listener's default is a 403.
            return self.origin_verify_rule
        return self.https_listener if self.https_listener is not None else self.http_listener


@dataclass(frozen=True, kw_only=True)
class CdnProps:
    config: EnvironmentConfig
    origin_verify_value: str
    zone_id: str
    # CloudFront takes certificates from us-east-1 only.
    us_east_1: AwsProvider


class Cdn(Construct):
    """CloudFront in front of the ALB (from the sibling design); off unless configured.

    The domain points at the distribution, with a certificate for it in us-east-1, so the
    browser's address, the sign-in callbacks, the S3 upload CORS origin and the `url` output all
    name the one public address. CloudFront reaches the ALB as origin.<domain>, over HTTPS,
    with the secret origin header; static files are cached at the edge.
    """

    distribution: CloudfrontDistribution
    certificate: AcmCertificate
    certificate_validation: AcmCertificateValidation
    alias_records: list[Route53Record]

    def __init__(self, scope: Construct, id_: str, *, props: CdnProps) -> None:
        super().__init__(scope, id_)
        cfg = props.config
        # config refuses CloudFront without a domain.
        assert cfg.domain_name is not None
        domain = cfg.domain_name
        self.certificate = AcmCertificate(
            self,
            "certificate",
            provider=props.us_east_1,
            domain_name=domain,
            validation_method="DNS",
            key_algorithm="RSA_2048",
            lifecycle={"create_before_destroy": True},
        )
        option = Fn.element(Fn.tolist(self.certificate.domain_validation_options), 0)
        # ACM asks for the same record as the ALB certificate's for the same name; overwriting
        # is a no-op then, and keeps this certificate independent of the other.
        record = Route53Record(
            self,
            "certificate_validation_record",
            zone_id=props.zone_id,
            name=Token.as_string(Fn.lookup(option, "resource_record_name")),
            type=Token.as_string(Fn.lookup(option, "resource_record_type")),
            records=[Token.as_string(Fn.lookup(option, "resource_record_value"))],
            ttl=60,
            allow_overwrite=True,
        )
        self.certificate_validation = AcmCertificateValidation(
            self,
            "certificate_validation",
            provider=props.us_east_1,
            certificate_arn=self.certificate.arn,
            validation_record_fqdns=[record.fqdn],
        )
        origin_id = "alb"
        behaviour = {
            "target_origin_id": origin_id,
            "viewer_protocol_policy": "redirect-to-https",
            "origin_request_policy_id": ALL_VIEWER_POLICY_ID,
            "response_headers_policy_id": SECURITY_HEADERS_POLICY_ID,
            "compress": True,
        }
        self.distribution = CloudfrontDistribution(
            self,
            "distribution",
            enabled=True,
            comment=cfg.resource_name("cdn"),
            aliases=[domain],
            price_class="PriceClass_100",
            http_version="http2and3",
            is_ipv6_enabled=True,
            origin=[
                CloudfrontDistributionOrigin(
                    origin_id=origin_id,
                    domain_name=origin_host(cfg),
                    custom_header=[
                        CloudfrontDistributionOriginCustomHeader(
                            name=ORIGIN_VERIFY_HEADER, value=props.origin_verify_value
                        )
                    ],
                    custom_origin_config={
                        "http_port": 80,
                        "https_port": 443,
                        "origin_protocol_policy": "https-only",
                        "origin_ssl_protocols": ["TLSv1.2"],
                    },
                )
            ],
            default_cache_behavior={
                **behaviour,
                "allowed_methods": ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"],
                "cached_methods": ["GET", "HEAD"],
                "cache_policy_id": CACHING_DISABLED_POLICY_ID,
            },
            # Collected static files have content hashes in their names and a year's
            # Cache-Control (WhiteNoise): cached at the edge, the tasks serve each once.
            ordered_cache_behavior=[
                CloudfrontDistributionOrderedCacheBehavior(
                    **behaviour,  # type: ignore[arg-type]
                    path_pattern=STATIC_PATH_PATTERN,
                    allowed_methods=["GET", "HEAD"],
                    cached_methods=["GET", "HEAD"],
                    cache_policy_id=CACHING_OPTIMIZED_POLICY_ID,
                )
            ],
            restrictions={"geo_restriction": {"restriction_type": "none"}},
            viewer_certificate={
                "acm_certificate_arn": self.certificate_validation.certificate_arn,
                "ssl_support_method": "sni-only",
                "minimum_protocol_version": "TLSv1.2_2021",
            },
        )
        alias = {
            "name": self.distribution.domain_name,
            "zone_id": CLOUDFRONT_ZONE_ID,
            "evaluate_target_health": False,
        }
        self.alias_records = [
            Route53Record(
                self, f"alias_{type_.lower()}", zone_id=props.zone_id, name=domain, type=type_, alias=alias
            )
            for type_ in ("A", "AAAA")
        ]
