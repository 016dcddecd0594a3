"""Notification e-mail in AWS: the SES domain identity (DKIM, a MAIL FROM subdomain), its DNS
records when the stack knows the hosted zone, the worker's right to send from it, and the
e-mail settings the containers get (SES, or the console backend without a sending domain)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from cdktf import Fn, Token
from constructs import Construct

from infra_cdktf.aws import (
    DataAwsRoute53Zone,
    IamRolePolicy,
    Route53Record,
    Sesv2EmailIdentity,
    Sesv2EmailIdentityMailFromAttributes,
)
from infra_cdktf.config import EnvironmentConfig

SES_BACKEND = "django_ses.SESBackend"
# Without a sending domain (dev as shipped) messages are written to the task's log instead.
CONSOLE_BACKEND = "django.core.mail.backends.console.EmailBackend"
# Easy DKIM always publishes three CNAME records.
DKIM_RECORDS = 3
MAIL_FROM_SUBDOMAIN = "mail"


def records_zone(config: EnvironmentConfig) -> str | None:
    """The hosted zone that can hold the sending domain's DNS records, if the stack knows one."""
    domain, zone = config.sender_domain, config.hosted_zone_name
    if domain is None or zone is None:
        return None
    domain, zone = domain.rstrip(".").lower(), zone.rstrip(".").lower()
    return zone if domain == zone or domain.endswith(f".{zone}") else None


@dataclass(frozen=True, kw_only=True)
class MailProps:
    config: EnvironmentConfig
    task_role_id: str


class Mail(Construct):
    """The SES domain identity (DKIM, MAIL FROM) and the task role's right to send from it."""

    identity: Sesv2EmailIdentity | None
    send_policy: IamRolePolicy | None
    dkim_records: list[Route53Record]
    mail_from: Sesv2EmailIdentityMailFromAttributes | None
    environment: dict[str, str]

    def __init__(self, scope: Construct, id_: str, *, props: MailProps) -> None:
        super().__init__(scope, id_)
        cfg = props.config
        domain = cfg.sender_domain
        self.identity = None
        self.send_policy = None
        self.dkim_records = []
        self.mail_from = None
        if domain is None:
            self.environment = {
                "EMAIL_BACKEND": CONSOLE_BACKEND,
                "DEFAULT_FROM_EMAIL": "AWSomeShop <no-reply@localhost>",
            }
            return
        self.environment = {
            "EMAIL_BACKEND": SES_BACKEND,
            "DEFAULT_FROM_EMAIL": f"AWSomeShop <no-reply@{domain}>",
        }
        self.identity = Sesv2EmailIdentity(
            self,
            "identity",
            email_identity=domain,
            dkim_signing_attributes={"next_signing_key_length": "RSA_2048_BIT"},
        )
        self.send_policy = IamRolePolicy(
            self,
            "send_policy",
            name="send-notification-email",
            role=props.task_role_id,
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            # django-ses sends with SendRawEmail (SES v1) or SendEmail (v2).
                            "Sid": "SendFromTheShopDomain",
                            "Effect": "Allow",
                            "Action": ["ses:SendEmail", "ses:SendRawEmail"],
                            "Resource": [self.identity.arn],
                        }
                    ],
                }
            ),
        )
        zone_name = records_zone(cfg)
        if zone_name is None:
            # The operator publishes the DKIM records by hand (docs/deploy.md).
            return
        zone = DataAwsRoute53Zone(self, "zone", name=zone_name, private_zone=False)
        tokens = self.identity.dkim_signing_attributes.tokens
        for index in range(DKIM_RECORDS):
            token = Token.as_string(Fn.element(tokens, index))
            self.dkim_records.append(
                Route53Record(
                    self,
                    f"dkim_{index}",
                    zone_id=zone.zone_id,
                    name=f"{token}._domainkey.{domain}",
                    type="CNAME",
                    ttl=1800,
                    records=[f"{token}.dkim.amazonses.com"],
                )
            )
        # A MAIL FROM subdomain of our own aligns SPF with the From domain (DMARC); without it
        # the envelope sender is amazonses.com. Two records, no extra cost.
        mail_from_domain = f"{MAIL_FROM_SUBDOMAIN}.{domain}"
        self.mail_from = Sesv2EmailIdentityMailFromAttributes(
            self,
            "mail_from",
            email_identity=self.identity.email_identity,
            mail_from_domain=mail_from_domain,
            behavior_on_mx_failure="USE_DEFAULT_VALUE",
        )
        Route53Record(
            self,
            "mail_from_mx",
            zone_id=zone.zone_id,
            name=mail_from_domain,
            type="MX",
            ttl=1800,
            records=[f"10 feedback-smtp.{cfg.region}.amazonses.com"],
        )
        Route53Record(
            self,
            "mail_from_spf",
            zone_id=zone.zone_id,
            name=mail_from_domain,
            type="TXT",
            ttl=1800,
            records=["v=spf1 include:amazonses.com ~all"],
        )
