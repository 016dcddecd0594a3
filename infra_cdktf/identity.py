"""Who may do what: the Cognito user directory for people, IAM roles for the containers."""

from __future__ import annotations

import json
from dataclasses import dataclass

from constructs import Construct

from infra_cdktf.aws import (
    CognitoUserGroup,
    CognitoUserPool,
    CognitoUserPoolAccountRecoverySettingRecoveryMechanism,
    CognitoUserPoolClient,
    CognitoUserPoolClientTokenValidityUnits,
    CognitoUserPoolDomain,
    CognitoUserPoolSchema,
    DataAwsCallerIdentity,
    DataAwsPartition,
    IamRole,
    IamRolePolicy,
    SecretsmanagerSecret,
    SecretsmanagerSecretVersion,
)
from infra_cdktf.config import METRICS_NAMESPACE, EnvironmentConfig

# The Cognito group whose members get the admin's HR role (the app's COGNITO_HR_GROUP).
HR_GROUP = "hr"


@dataclass(frozen=True, kw_only=True)
class UserDirectoryProps:
    config: EnvironmentConfig


class UserDirectory(Construct):
    user_pool: CognitoUserPool
    client: CognitoUserPoolClient
    hr_group: CognitoUserGroup
    # HR's company sign-in to the admin; only with a domain name (Cognito needs an HTTPS callback).
    hosted_ui_domain: CognitoUserPoolDomain | None = None
    admin_client: CognitoUserPoolClient | None = None
    admin_client_secret: SecretsmanagerSecret | None = None

    def __init__(self, scope: Construct, id_: str, *, props: UserDirectoryProps) -> None:
        super().__init__(scope, id_)
        cfg = props.config
        self._config = cfg
        self.user_pool = CognitoUserPool(
            self,
            "user_pool",
            name=cfg.resource_name("users"),
            username_attributes=["email"],
            auto_verified_attributes=["email"],
            password_policy={
                "minimum_length": 8,
                "require_uppercase": True,
                "require_lowercase": True,
                "require_numbers": True,
                "require_symbols": False,
                "temporary_password_validity_days": 7,
            },
            mfa_configuration="OPTIONAL",
            # OPTIONAL MFA needs at least one factor; authenticator apps cost nothing (SMS does).
            software_token_mfa_configuration={"enabled": True},
            account_recovery_setting={
                "recovery_mechanism": [
                    CognitoUserPoolAccountRecoverySettingRecoveryMechanism(name="verified_email", priority=1)
                ]
            },
            schema=[
                CognitoUserPoolSchema(
                    name="employee_id",
                    attribute_data_type="String",
                    mutable=True,
                    required=False,
                    string_attribute_constraints={"min_length": "1", "max_length": "64"},
                )
            ],
            deletion_protection="ACTIVE" if cfg.protect_from_deletion else "INACTIVE",
            # No self sign-up: only the app (registering an employee) creates users, and Cognito
            # emails each one this invitation with a temporary password.
            admin_create_user_config={
                "allow_admin_create_user_only": True,
                "invite_message_template": {
                    "email_subject": "Your AWSomeShop account",
                    "email_message": (
                        "HR registered you for AWSomeShop, the employee rewards shop. Sign in with "
                        "{username} and the temporary password {####}; you will choose your own."
                    ),
                    "sms_message": "AWSomeShop: sign in with {username} and temporary password {####}.",
                },
            },
        )
        self.client = CognitoUserPoolClient(
            self,
            "client",
            name=cfg.resource_name("web-client"),
            user_pool_id=self.user_pool.id,
            generate_secret=True,
            explicit_auth_flows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            access_token_validity=1,
            id_token_validity=1,
            # The design's 8-hour session: after that the employee signs in again.
            refresh_token_validity=cfg.session_hours,
            token_validity_units=[
                CognitoUserPoolClientTokenValidityUnits(
                    access_token="hours", id_token="hours", refresh_token="hours"
                )
            ],
            prevent_user_existence_errors="ENABLED",
            enable_token_revocation=True,
            # Users may edit their name only: custom:employee_id links a first sign-in to the
            # roster, so only the app (an administrator) may set it.
            write_attributes=["name"],
        )
        self.hr_group = CognitoUserGroup(
            self,
            "hr_group",
            name=HR_GROUP,
            user_pool_id=self.user_pool.id,
            description="HR staff: members sign in to the AWSomeShop admin with the HR role",
        )
        if cfg.domain_name is not None:
            self._admin_sign_in(cfg, cfg.domain_name)

    def _admin_sign_in(self, cfg: EnvironmentConfig, domain_name: str) -> None:
        """The hosted UI and a confidential app client for the admin's OIDC code flow (PKCE)."""
        self.hosted_ui_domain = CognitoUserPoolDomain(
            self,
            "hosted_ui_domain",
            domain=cfg.hosted_ui_domain_prefix or f"rewards-shop-hr-{cfg.name}",
            user_pool_id=self.user_pool.id,
        )
        self.admin_client = CognitoUserPoolClient(
            self,
            "admin_client",
            name=cfg.resource_name("admin-client"),
            user_pool_id=self.user_pool.id,
            generate_secret=True,
            allowed_oauth_flows_user_pool_client=True,
            allowed_oauth_flows=["code"],
            allowed_oauth_scopes=["openid", "email", "profile"],
            supported_identity_providers=["COGNITO"],
            callback_urls=[f"https://{domain_name}/oidc/callback/"],
            default_redirect_uri=f"https://{domain_name}/oidc/callback/",
            logout_urls=[f"https://{domain_name}/admin/login/"],
            # The hosted UI signs people in; the app only exchanges codes, never passwords.
            explicit_auth_flows=["ALLOW_REFRESH_TOKEN_AUTH"],
            access_token_validity=1,
            id_token_validity=1,
            refresh_token_validity=1,
            token_validity_units=[
                CognitoUserPoolClientTokenValidityUnits(
                    access_token="hours", id_token="hours", refresh_token="days"
                )
            ],
            prevent_user_existence_errors="ENABLED",
            enable_token_revocation=True,
        )
        # ECS injects secrets only from Secrets Manager (or SSM), so the generated client
        # secret is copied into a secret of its own that the execution role may read.
        self.admin_client_secret = SecretsmanagerSecret(
            self,
            "admin_client_secret",
            name=cfg.resource_name("admin-oidc-client-secret"),
            description="ADMIN_OIDC_CLIENT_SECRET: the admin's Cognito app client secret",
            recovery_window_in_days=cfg.secret_recovery_window_days,
        )
        SecretsmanagerSecretVersion(
            self,
            "admin_client_secret_version",
            secret_id=self.admin_client_secret.id,
            secret_string=self.admin_client.client_secret,
        )

    @property
    def app_environment(self) -> dict[str, str]:
        """Container variables for HR's company sign-in (empty without a domain name)."""
        if self.admin_client is None or self.hosted_ui_domain is None:
            return {}
        cfg = self._config
        env = {
            "ADMIN_OIDC_CLIENT_ID": self.admin_client.id,
            "COGNITO_DOMAIN": f"{self.hosted_ui_domain.domain}.auth.{cfg.region}.amazoncognito.com",
            "COGNITO_HR_GROUP": HR_GROUP,
        }
        if cfg.break_glass_emails:
            env["ADMIN_BREAK_GLASS_EMAILS"] = ",".join(cfg.break_glass_emails)
        return env

    @property
    def app_secrets(self) -> dict[str, str]:
        if self.admin_client_secret is None:
            return {}
        return {"ADMIN_OIDC_CLIENT_SECRET": self.admin_client_secret.arn}

    @property
    def secret_arns(self) -> list[str]:
        """The secrets above, for the execution role's read list (no wildcard)."""
        return [self.admin_client_secret.arn] if self.admin_client_secret is not None else []


@dataclass(frozen=True, kw_only=True)
class WorkloadRolesProps:
    config: EnvironmentConfig
    ecr_repository_arn: str
    log_group_arn: str
    # Exactly the secrets the containers receive: the RDS master secret and the Django key
    # (and, with company sign-in, the admin client's secret).
    secret_arns: list[str]
    # The RDS-managed master secret: only the migrate task logs in as the owner with it.
    db_secret_arn: str
    # The app's own database user (manage.py db_grant_app_user fills it in): the web tasks log
    # in with it and re-read it after a rotation (shop.db_backends).
    app_db_secret_arn: str
    images_bucket_arn: str
    db_resource_id: str
    db_username: str
    # The employees' pool: the app invites, disables and signs out the people it registers.
    user_pool_arn: str | None = None


def _assume_role_policy(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
    )


class WorkloadRoles(Construct):
    execution_role: IamRole
    execution_policy: IamRolePolicy
    task_role: IamRole
    task_policy: IamRolePolicy
    migrate_task_role: IamRole
    migrate_task_policy: IamRolePolicy

    def __init__(self, scope: Construct, id_: str, *, props: WorkloadRolesProps) -> None:
        super().__init__(scope, id_)
        cfg = props.config
        account = DataAwsCallerIdentity(self, "account")
        partition = DataAwsPartition(self, "partition")

        # The AWS managed AmazonECSTaskExecutionRolePolicy grants its actions on "*"; this
        # inline policy grants the same actions on this app's repository, log group and secrets.
        self.execution_role = IamRole(
            self,
            "execution_role",
            name=cfg.resource_name("ecs-execution-role"),
            assume_role_policy=_assume_role_policy("ecs-tasks.amazonaws.com"),
        )
        self.execution_policy = IamRolePolicy(
            self,
            "execution_policy",
            name="pull-image-write-logs-read-secrets",
            role=self.execution_role.id,
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            # The registry login token is account-wide: AWS offers no resource scope.
                            "Sid": "EcrLogin",
                            "Effect": "Allow",
                            "Action": ["ecr:GetAuthorizationToken"],
                            "Resource": "*",
                        },
                        {
                            "Sid": "EcrPull",
                            "Effect": "Allow",
                            "Action": [
                                "ecr:BatchCheckLayerAvailability",
                                "ecr:GetDownloadUrlForLayer",
                                "ecr:BatchGetImage",
                            ],
                            "Resource": [props.ecr_repository_arn],
                        },
                        {
                            "Sid": "WriteLogs",
                            "Effect": "Allow",
                            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                            "Resource": [f"{props.log_group_arn}:*"],
                        },
                        {
                            "Sid": "ReadAppSecrets",
                            "Effect": "Allow",
                            "Action": ["secretsmanager:GetSecretValue"],
                            "Resource": props.secret_arns,
                        },
                    ],
                }
            ),
        )

        self.task_role = IamRole(
            self,
            "task_role",
            name=cfg.resource_name("ecs-task-role"),
            assume_role_policy=_assume_role_policy("ecs-tasks.amazonaws.com"),
        )
        db_user_arn = (
            f"arn:{partition.partition}:rds-db:{cfg.region}:{account.account_id}:dbuser:"
            f"{props.db_resource_id}/{props.db_username}"
        )
        self.task_policy = IamRolePolicy(
            self,
            "task_policy",
            name="images-database-metrics",
            role=self.task_role.id,
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "ListImages",
                            "Effect": "Allow",
                            "Action": ["s3:ListBucket"],
                            "Resource": [props.images_bucket_arn],
                        },
                        {
                            "Sid": "ReadWriteImages",
                            "Effect": "Allow",
                            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                            "Resource": [f"{props.images_bucket_arn}/*"],
                        },
                        {
                            "Sid": "FollowDatabasePasswordRotation",
                            "Effect": "Allow",
                            "Action": ["secretsmanager:GetSecretValue"],
                            "Resource": [props.app_db_secret_arn],
                        },
                        {
                            "Sid": "DatabaseIamConnect",
                            "Effect": "Allow",
                            "Action": ["rds-db:connect"],
                            "Resource": [db_user_arn],
                        },
                        *(
                            [
                                {
                                    "Sid": "ManageEmployeeSignIns",
                                    "Effect": "Allow",
                                    "Action": [
                                        "cognito-idp:AdminCreateUser",
                                        "cognito-idp:AdminDisableUser",
                                        "cognito-idp:AdminEnableUser",
                                        "cognito-idp:AdminUserGlobalSignOut",
                                    ],
                                    "Resource": [props.user_pool_arn],
                                }
                            ]
                            if props.user_pool_arn
                            else []
                        ),
                        {
                            # PutMetricData has no resource type; the namespace condition is the scope.
                            "Sid": "PublishAppMetrics",
                            "Effect": "Allow",
                            "Action": ["cloudwatch:PutMetricData"],
                            "Resource": "*",
                            "Condition": {"StringEquals": {"cloudwatch:namespace": METRICS_NAMESPACE}},
                        },
                    ],
                }
            ),
        )

        # The one-off migrate task logs in as the owner and then sets up the app's database
        # user, whose password it generates into the app secret: so only it may write that
        # secret, and only it reads the master secret. It needs nothing else.
        self.migrate_task_role = IamRole(
            self,
            "migrate_task_role",
            name=cfg.resource_name("ecs-migrate-task-role"),
            assume_role_policy=_assume_role_policy("ecs-tasks.amazonaws.com"),
        )
        self.migrate_task_policy = IamRolePolicy(
            self,
            "migrate_task_policy",
            name="database-owner-and-app-user-secrets",
            role=self.migrate_task_role.id,
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "FollowMasterPasswordRotation",
                            "Effect": "Allow",
                            "Action": ["secretsmanager:GetSecretValue"],
                            "Resource": [props.db_secret_arn],
                        },
                        {
                            "Sid": "SetAppUserPassword",
                            "Effect": "Allow",
                            "Action": ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"],
                            "Resource": [props.app_db_secret_arn],
                        },
                    ],
                }
            ),
        )
