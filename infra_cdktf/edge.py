"""What faces the internet: the ALB with its listeners and certificate, and optional CloudFront."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import Fn, TerraformStack, Token
from constructs import Construct

from infra_cdktf.aws import (
    AcmCertificate,
    AcmCertificateValidation,
    CloudfrontDistribution,
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

# AWS managed policies for CloudFront: CachingDisabled (every page here is per user) and
# AllViewerExceptHostHeader (keeps the origin's own host name for TLS to the ALB).
CACHING_DISABLED_POLICY_ID = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_POLICY_ID = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
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

        zone = DataAwsRoute53Zone(
            self, "zone", name=cfg.hosted_zone_name or cfg.domain_name, private_zone=False
        )
        self.certificate = AcmCertificate(
            self,
            "certificate",
            domain_name=cfg.domain_name,
            validation_method="DNS",
            key_algorithm="RSA_2048",
            lifecycle={"create_before_destroy": True},
        )
        # One domain, one validation record; the set is converted to a list to index it.
        option = Fn.element(Fn.tolist(self.certificate.domain_validation_options), 0)
        validation_record = Route53Record(
            self,
            "certificate_validation_record",
            zone_id=zone.zone_id,
            name=Token.as_string(Fn.lookup(option, "resource_record_name")),
            type=Token.as_string(Fn.lookup(option, "resource_record_type")),
            records=[Token.as_string(Fn.lookup(option, "resource_record_value"))],
            ttl=60,
            allow_overwrite=True,
        )
        self.certificate_validation = AcmCertificateValidation(
            self,
            "certificate_validation",
            certificate_arn=self.certificate.arn,
            validation_record_fqdns=[validation_record.fqdn],
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
        self.alias_record = Route53Record(
            self,
            "alias",
            zone_id=zone.zone_id,
            name=cfg.domain_name,
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
    alb_dns_name: str
    origin_verify_value: str


class Cdn(Construct):
    """CloudFront in front of the ALB (from the sibling design); off unless configured."""

    distribution: CloudfrontDistribution

    def __init__(self, scope: Construct, id_: str, *, props: CdnProps) -> None:
        super().__init__(scope, id_)
        cfg = props.config
        # The ALB's certificate only matches the domain, so CloudFront connects by that name,
        # over HTTPS only (config refuses CloudFront without a domain).
        assert cfg.domain_name is not None
        origin_domain = cfg.domain_name
        origin_id = "alb"
        self.distribution = CloudfrontDistribution(
            self,
            "distribution",
            enabled=True,
            comment=cfg.resource_name("cdn"),
            price_class="PriceClass_100",
            http_version="http2and3",
            origin=[
                CloudfrontDistributionOrigin(
                    origin_id=origin_id,
                    domain_name=origin_domain,
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
                "target_origin_id": origin_id,
                "viewer_protocol_policy": "redirect-to-https",
                "allowed_methods": ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"],
                "cached_methods": ["GET", "HEAD"],
                "cache_policy_id": CACHING_DISABLED_POLICY_ID,
                "origin_request_policy_id": ALL_VIEWER_EXCEPT_HOST_POLICY_ID,
                "response_headers_policy_id": SECURITY_HEADERS_POLICY_ID,
                "compress": True,
            },
            restrictions={"geo_restriction": {"restriction_type": "none"}},
            viewer_certificate={"cloudfront_default_certificate": True},
        )
