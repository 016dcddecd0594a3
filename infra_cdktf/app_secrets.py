"""Secrets the design keeps in Secrets Manager besides the database's and the Django key."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from infra_cdktf.aws import CognitoUserPoolClient, SecretsmanagerSecret, SecretsmanagerSecretVersion
from infra_cdktf.config import EnvironmentConfig


@dataclass(frozen=True, kw_only=True)
class CognitoClientSecretProps:
    config: EnvironmentConfig
    client: CognitoUserPoolClient


class CognitoClientSecret(Construct):
    """The web app client's secret (seed 001): with a domain the storefront's OIDC client
    secret (STOREFRONT_OIDC_CLIENT_SECRET, injected by ECS), and for whatever computes
    SECRET_HASH server-side.

    Cognito generates it; the provider keeps it in the client's state regardless, so copying it
    here adds no exposure, and a replaced client updates the copy on the next apply.
    """

    secret: SecretsmanagerSecret
    version: SecretsmanagerSecretVersion

    def __init__(self, scope: Construct, id_: str, *, props: CognitoClientSecretProps) -> None:
        super().__init__(scope, id_)
        cfg = props.config
        self.secret = SecretsmanagerSecret(
            self,
            "secret",
            name=cfg.resource_name("cognito-client-secret"),
            description="Client secret of the AWSomeShop Cognito web app client",
            recovery_window_in_days=cfg.secret_recovery_window_days,
        )
        self.version = SecretsmanagerSecretVersion(
            self, "version", secret_id=self.secret.id, secret_string=props.client.client_secret
        )
