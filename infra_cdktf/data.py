"""The database (RDS MySQL, RDS PostgreSQL or Aurora PostgreSQL) behind RDS Proxy, and the Django key."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cdktf import TerraformStack, Token
from constructs import Construct

from infra_cdktf.aws import (
    CloudwatchLogGroup,
    DbInstance,
    DbParameterGroup,
    DbParameterGroupParameter,
    DbProxy,
    DbProxyAuth,
    DbProxyDefaultTargetGroup,
    DbProxyTarget,
    DbSubnetGroup,
    IamRole,
    IamRolePolicy,
    RdsCluster,
    RdsClusterInstance,
    RdsClusterParameterGroup,
    RdsClusterParameterGroupParameter,
    SecretsmanagerSecret,
    SecretsmanagerSecretVersion,
)
from infra_cdktf.config import EnvironmentConfig

# The app's own database user (db_grant_app_user creates it; the web tasks log in as it).
APP_DB_USER = "awsomeshop_app"
DJANGO_KEY_GENERATOR = "django_secret_key"
APP_DB_PLACEHOLDER_ID = "data_app_db_secret_placeholder_5FBBE15C"


@dataclass(frozen=True, kw_only=True)
class DataProps:
    config: EnvironmentConfig
    private_subnet_ids: list[str]
    db_security_group_id: str
    proxy_security_group_id: str


class Data(Construct):
    subnet_group: DbSubnetGroup
    parameter_group: DbParameterGroup
    # One of the two, by engine: an RDS instance, or an Aurora cluster with its instances.
    instance: DbInstance | None
    cluster: RdsCluster | None
    cluster_parameter_group: RdsClusterParameterGroup
    cluster_instances: list[RdsClusterInstance]
    # RDS log exports, by log name.
    log_groups: dict[str, CloudwatchLogGroup]
    proxy: DbProxy
    proxy_role: IamRole
    proxy_role_policy: IamRolePolicy
    proxy_target_group: DbProxyDefaultTargetGroup
    django_secret: SecretsmanagerSecret
    django_secret_version: SecretsmanagerSecretVersion
    app_db_secret: SecretsmanagerSecret
    # Only in the first release's configuration (cfg.bootstrap_app_db_secret).
    app_db_secret_placeholder: SecretsmanagerSecretVersion | None

    def __init__(self, scope: Construct, id_: str, *, props: DataProps) -> None:
        super().__init__(scope, id_)
        cfg = props.config
        self.spec = cfg.engine
        self.subnet_group = DbSubnetGroup(
            self,
            "subnet_group",
            name=cfg.resource_name("db-subnets"),
            subnet_ids=props.private_subnet_ids,
        )
        spec = cfg.engine
        version = cfg.db_version
        family = spec.family(version)
        parameters = spec.parameters(slow_query_seconds=cfg.db_slow_query_seconds)
        keep = cfg.protect_from_deletion
        # A major-version change needs a group of the new family while the old one is in use.
        group_name = cfg.resource_name(family.replace(".", "-"))
        lifecycle_support = (
            "open-source-rds-extended-support"
            if cfg.db_extended_support
            else "open-source-rds-extended-support-disabled"
        )
        identifier = cfg.resource_name("db")
        self.instance = None
        self.cluster = None
        self.log_groups = {}
        self._log_groups(cfg, f"/aws/rds/{'cluster' if spec.cluster else 'instance'}/{identifier}")
        # What an RDS instance and an Aurora cluster share, under the same argument names.
        common: dict[str, Any] = {
            "engine": spec.engine,
            "engine_version": version,
            "engine_lifecycle_support": lifecycle_support,
            "allow_major_version_upgrade": True,
            # RDS generates the password and keeps it in Secrets Manager, so it never reaches
            # Terraform state; containers and the proxy read that secret.
            "manage_master_user_password": True,
            "db_subnet_group_name": self.subnet_group.name,
            "vpc_security_group_ids": [props.db_security_group_id],
            "storage_encrypted": True,
            "backup_retention_period": cfg.db_backup_retention_days,
            "copy_tags_to_snapshot": True,
            "iam_database_authentication_enabled": True,
            "enabled_cloudwatch_logs_exports": list(spec.log_exports),
            "deletion_protection": keep,
            "skip_final_snapshot": not keep,
            "final_snapshot_identifier": cfg.resource_name("db-final") if keep else None,
            "apply_immediately": not keep,
            # The export log groups exist first, with retention, or RDS creates them forever.
            "depends_on": list(self.log_groups.values()),
        }
        if spec.cluster:
            self._aurora(cfg, family, group_name, parameters, identifier, common)
        else:
            self.parameter_group = DbParameterGroup(
                self,
                "parameter_group",
                name=group_name,
                family=family,
                description=f"AWSomeShop {spec.engine} settings",
                parameter=[DbParameterGroupParameter(name=n, value=v) for n, v in parameters.items()],
                lifecycle={"create_before_destroy": True},
            )
            self.instance = DbInstance(
                self,
                "instance",
                identifier=identifier,
                instance_class=cfg.db_instance_class,
                allocated_storage=cfg.db_allocated_storage_gb,
                max_allocated_storage=cfg.db_max_allocated_storage_gb,
                storage_type=cfg.db_storage_type,
                db_name=cfg.db_name,
                username=cfg.db_master_username,
                parameter_group_name=self.parameter_group.name,
                publicly_accessible=False,
                multi_az=cfg.db_multi_az,
                backup_window=cfg.db_backup_window,
                maintenance_window=cfg.db_maintenance_window,
                auto_minor_version_upgrade=True,
                performance_insights_enabled=spec.performance_insights,
                performance_insights_retention_period=7 if spec.performance_insights else None,
                **common,
            )
            self.instance.override_logical_id("database")

        # The app's own database user (no DDL, the ledger append-only). Created empty: the
        # migrate task's `manage.py db_grant_app_user` generates the password into it, so the
        # password never reaches Terraform state.
        self.app_db_secret = SecretsmanagerSecret(
            self,
            "app_db_secret",
            name=cfg.resource_name("db-app-user"),
            description="Credentials of the AWSomeShop app's database user (set by db_grant_app_user)",
            recovery_window_in_days=cfg.secret_recovery_window_days,
        )
        # A placeholder with the user name and no password, so that the web tasks of the very
        # first release can start (ECS needs the secret's keys to exist) and pass their liveness
        # check before the migrate task has run; until then they answer 503 and, once it has
        # stored the real password, follow it (DB_SECRET_ARN). Only the first release's deploy
        # writes it (scripts/release.sh sets AWSOMESHOP_BOOTSTRAP_APP_DB_SECRET); every other
        # configuration leaves the version out, so no later apply can write an empty password
        # back as the current version (as one would if the tracked version disappeared: provider
        # issue #37302). The next apply "destroys" the placeholder from state: the provider then
        # only removes its non-current staging labels and never takes AWSCURRENT off a version,
        # so the real password stays current (docs/deploy.md, The app's database user).
        self.app_db_secret_placeholder = None
        if cfg.bootstrap_app_db_secret:
            self.app_db_secret_placeholder = SecretsmanagerSecretVersion(
                self,
                "app_db_secret_placeholder",
                secret_id=self.app_db_secret.id,
                secret_string=json.dumps({"username": APP_DB_USER, "password": ""}),
                lifecycle={"ignore_changes": ["secret_string"]},
            )
            # The address environments deployed before this change hold in their state.
            self.app_db_secret_placeholder.override_logical_id(APP_DB_PLACEHOLDER_ID)

        self.proxy_role = IamRole(
            self,
            "proxy_role",
            name=cfg.resource_name("rds-proxy-role"),
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "rds.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )
        self.proxy_role_policy = IamRolePolicy(
            self,
            "proxy_role_policy",
            name="read-database-secrets",
            role=self.proxy_role.id,
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "ReadDatabaseSecrets",
                            "Effect": "Allow",
                            "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                            "Resource": [self.master_secret_arn, self.app_db_secret.arn],
                        }
                    ],
                }
            ),
        )
        self.proxy = DbProxy(
            self,
            "proxy",
            name=cfg.resource_name("db-proxy"),
            engine_family=spec.proxy_engine_family,
            role_arn=self.proxy_role.arn,
            vpc_subnet_ids=props.private_subnet_ids,
            vpc_security_group_ids=[props.proxy_security_group_id],
            require_tls=True,
            idle_client_timeout=1800,
            auth=[
                DbProxyAuth(
                    auth_scheme="SECRETS",
                    secret_arn=self.master_secret_arn,
                    iam_auth="DISABLED",
                    description="RDS-managed master credentials",
                ),
                # The web tasks connect as the app's own user; the proxy needs its secret too.
                DbProxyAuth(
                    auth_scheme="SECRETS",
                    secret_arn=self.app_db_secret.arn,
                    iam_auth="DISABLED",
                    description="The app's least-privileged database user",
                ),
            ],
        )
        self.proxy_target_group = DbProxyDefaultTargetGroup(
            self,
            "proxy_target_group",
            db_proxy_name=self.proxy.name,
            connection_pool_config={
                "max_connections_percent": 90,
                "max_idle_connections_percent": 50,
                "connection_borrow_timeout": 30,
            },
        )
        DbProxyTarget(
            self,
            "proxy_target",
            db_proxy_name=self.proxy.name,
            target_group_name=self.proxy_target_group.name,
            db_instance_identifier=self.instance.identifier if self.instance is not None else None,
            db_cluster_identifier=self.cluster.cluster_identifier if self.cluster is not None else None,
        )

        self.django_secret = SecretsmanagerSecret(
            self,
            "django_secret",
            name=cfg.resource_name("django-secret-key"),
            description="DJANGO_SECRET_KEY for the AWSomeShop containers",
            recovery_window_in_days=cfg.secret_recovery_window_days,
        )
        # Secrets Manager generates the key during apply through an ephemeral resource (Terraform
        # >= 1.10) and it is written with a write-only argument (>= 1.11), so the value is in
        # neither the plan nor the state. cdktf 0.21 predates both, hence the raw overrides.
        stack = TerraformStack.of(self)
        stack.add_override(
            f"ephemeral.aws_secretsmanager_random_password.{DJANGO_KEY_GENERATOR}",
            {"password_length": 64, "exclude_punctuation": True},
        )
        self.django_secret_version = SecretsmanagerSecretVersion(
            self,
            "django_secret_version",
            secret_id=self.django_secret.id,
            # Written once; to rotate, put a new value with `aws secretsmanager put-secret-value`
            # (or raise the version number, which writes a freshly generated key).
            secret_string_wo_version=1,
        )
        self.django_secret_version.add_override(
            "secret_string_wo",
            f"${{ephemeral.aws_secretsmanager_random_password.{DJANGO_KEY_GENERATOR}.random_password}}",
        )

    @property
    def master_secret_arn(self) -> str:
        owner = self.instance if self.instance is not None else self.cluster
        assert owner is not None
        return Token.as_string(owner.master_user_secret.get(0).secret_arn)

    @property
    def db_resource_id(self) -> str:
        """What IAM database authentication scopes rds-db:connect to."""
        if self.instance is not None:
            return Token.as_string(self.instance.resource_id)
        assert self.cluster is not None
        return Token.as_string(self.cluster.cluster_resource_id)

    @property
    def alarm_dimensions(self) -> dict[str, str]:
        if self.instance is not None:
            return {"DBInstanceIdentifier": Token.as_string(self.instance.identifier)}
        assert self.cluster is not None
        return {"DBClusterIdentifier": Token.as_string(self.cluster.cluster_identifier)}

    @property
    def port(self) -> int:
        return self.spec.port

    def _log_groups(self, cfg: EnvironmentConfig, prefix: str) -> None:
        for name in cfg.engine.log_exports:
            self.log_groups[name] = CloudwatchLogGroup(
                self,
                f"log_group_{name}",
                name=f"{prefix}/{name}",
                retention_in_days=cfg.log_retention_days,
            )

    def _aurora(
        self,
        cfg: EnvironmentConfig,
        family: str,
        group_name: str,
        parameters: dict[str, str],
        identifier: str,
        common: dict[str, Any],
    ) -> None:
        """Aurora PostgreSQL (the sibling design): a writer, plus a reader in another AZ for Multi-AZ."""
        spec = cfg.engine
        keep = cfg.protect_from_deletion
        self.cluster_parameter_group = RdsClusterParameterGroup(
            self,
            "cluster_parameter_group",
            name=group_name,
            family=family,
            description="AWSomeShop Aurora PostgreSQL settings",
            parameter=[RdsClusterParameterGroupParameter(name=n, value=v) for n, v in parameters.items()],
            lifecycle={"create_before_destroy": True},
        )
        self.cluster = RdsCluster(
            self,
            "cluster",
            cluster_identifier=identifier,
            database_name=cfg.db_name,
            master_username=cfg.db_master_username,
            db_cluster_parameter_group_name=self.cluster_parameter_group.name,
            preferred_backup_window=cfg.db_backup_window,
            preferred_maintenance_window=cfg.db_maintenance_window,
            **common,
        )
        self.cluster.override_logical_id("database")
        self.cluster_instances = [
            RdsClusterInstance(
                self,
                f"cluster_instance_{index}",
                identifier=cfg.resource_name(f"db-{index}"),
                cluster_identifier=self.cluster.id,
                engine=spec.engine,
                engine_version=self.cluster.engine_version,
                instance_class=cfg.aurora_instance_class,
                db_subnet_group_name=self.subnet_group.name,
                publicly_accessible=False,
                auto_minor_version_upgrade=True,
                performance_insights_enabled=spec.performance_insights,
                performance_insights_retention_period=7,
                apply_immediately=not keep,
            )
            for index in range(2 if cfg.db_multi_az else 1)
        ]

    @property
    def proxy_endpoint(self) -> str:
        return Token.as_string(self.proxy.endpoint)
