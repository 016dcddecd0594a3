"""RDS MySQL behind RDS Proxy, and the Django secret key."""

from __future__ import annotations

import json
from dataclasses import dataclass

from cdktf import Token
from constructs import Construct

from infra_cdktf.aws import (
    DataAwsSecretsmanagerRandomPassword,
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
    SecretsmanagerSecret,
    SecretsmanagerSecretVersion,
)
from infra_cdktf.config import EnvironmentConfig

# The app's own database user (db_grant_app_user creates it; the web tasks log in as it).
APP_DB_USER = "awsomeshop_app"


@dataclass(frozen=True, kw_only=True)
class DataProps:
    config: EnvironmentConfig
    private_subnet_ids: list[str]
    db_security_group_id: str
    proxy_security_group_id: str


class Data(Construct):
    subnet_group: DbSubnetGroup
    parameter_group: DbParameterGroup
    instance: DbInstance
    proxy: DbProxy
    proxy_role: IamRole
    proxy_role_policy: IamRolePolicy
    proxy_target_group: DbProxyDefaultTargetGroup
    django_secret: SecretsmanagerSecret
    django_secret_version: SecretsmanagerSecretVersion
    app_db_secret: SecretsmanagerSecret

    def __init__(self, scope: Construct, id_: str, *, props: DataProps) -> None:
        super().__init__(scope, id_)
        cfg = props.config
        self.subnet_group = DbSubnetGroup(
            self,
            "subnet_group",
            name=cfg.resource_name("db-subnets"),
            subnet_ids=props.private_subnet_ids,
        )
        # The app's migrations create a trigger that makes ledger rows append-only. With
        # automated backups RDS turns on binary logging, and then MySQL lets only SUPER create
        # triggers unless log_bin_trust_function_creators is on; the master user has no SUPER.
        self.parameter_group = DbParameterGroup(
            self,
            "parameter_group",
            name=cfg.resource_name("mysql8"),
            family=f"mysql{cfg.db_engine_version}",
            description="AWSomeShop MySQL settings",
            parameter=[
                DbParameterGroupParameter(name="log_bin_trust_function_creators", value="1"),
                # Plain-text connections are refused by the database too, not only by the proxy
                # (require_tls): the proxy reaches the instance over TLS.
                DbParameterGroupParameter(name="require_secure_transport", value="1"),
            ],
        )
        keep = cfg.protect_from_deletion
        self.instance = DbInstance(
            self,
            "instance",
            identifier=cfg.resource_name("db"),
            engine="mysql",
            engine_version=cfg.db_engine_version,
            instance_class=cfg.db_instance_class,
            allocated_storage=cfg.db_allocated_storage_gb,
            max_allocated_storage=cfg.db_max_allocated_storage_gb,
            storage_type=cfg.db_storage_type,
            storage_encrypted=True,
            db_name=cfg.db_name,
            username=cfg.db_master_username,
            # RDS generates the password and keeps it in Secrets Manager, so it never reaches
            # Terraform state; containers and the proxy read that secret.
            manage_master_user_password=True,
            db_subnet_group_name=self.subnet_group.name,
            parameter_group_name=self.parameter_group.name,
            vpc_security_group_ids=[props.db_security_group_id],
            publicly_accessible=False,
            multi_az=cfg.db_multi_az,
            backup_retention_period=cfg.db_backup_retention_days,
            backup_window=cfg.db_backup_window,
            maintenance_window=cfg.db_maintenance_window,
            copy_tags_to_snapshot=True,
            auto_minor_version_upgrade=True,
            iam_database_authentication_enabled=True,
            enabled_cloudwatch_logs_exports=["error", "slowquery"],
            deletion_protection=keep,
            skip_final_snapshot=not keep,
            final_snapshot_identifier=cfg.resource_name("db-final") if keep else None,
            apply_immediately=not keep,
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
        # stored the real password, follow it (DB_SECRET_ARN). Terraform never reads the value
        # back: the real password stays out of state.
        self.app_db_secret_placeholder = SecretsmanagerSecretVersion(
            self,
            "app_db_secret_placeholder",
            secret_id=self.app_db_secret.id,
            secret_string=json.dumps({"username": APP_DB_USER, "password": ""}),
            lifecycle={"ignore_changes": ["secret_string"]},
        )

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
            engine_family="MYSQL",
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
            db_instance_identifier=self.instance.identifier,
        )

        self.django_secret = SecretsmanagerSecret(
            self,
            "django_secret",
            name=cfg.resource_name("django-secret-key"),
            description="DJANGO_SECRET_KEY for the AWSomeShop containers",
            recovery_window_in_days=cfg.secret_recovery_window_days,
        )
        generated = DataAwsSecretsmanagerRandomPassword(
            self,
            "django_secret_value",
            password_length=64,
            exclude_punctuation=True,
        )
        self.django_secret_version = SecretsmanagerSecretVersion(
            self,
            "django_secret_version",
            secret_id=self.django_secret.id,
            secret_string=generated.random_password,
            # The data source yields a new value on every plan; the first one is kept. To
            # rotate, put a new value with `aws secretsmanager put-secret-value`.
            lifecycle={"ignore_changes": ["secret_string"]},
        )

    @property
    def master_secret_arn(self) -> str:
        return Token.as_string(self.instance.master_user_secret.get(0).secret_arn)

    @property
    def proxy_endpoint(self) -> str:
        return Token.as_string(self.proxy.endpoint)
