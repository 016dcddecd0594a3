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
    IamRole,
    IamRolePolicy,
    SecretsmanagerSecret,
    SecretsmanagerSecretVersion,
)
from infra_cdktf.config import METRICS_NAMESPACE, EnvironmentConfig

# The Cognito group whose members get the admin's HR role (the app's COGNITO_HR_GROUP).
HR_GROUP = "hr"
# The storefront's OIDC client (seed 002): its callback and sign-out pages, at the site root.
STOREFRONT_CALLBACK_PATH = "/signin/callback/"
STOREFRONT_SIGNED_OUT_PATH = "/signed-out/"
STOREFRONT_SCOPES = ("openid", "email", "profile")


def hosted_ui_prefix(cfg: EnvironmentConfig, account_id: str) -> str:
    """The chosen prefix, or one no other account can hold: the environment and this account's id."""
    return cfg.hosted_ui_domain_prefix or f"rewards-shop-{cfg.name}-{account_id}"


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
        # awsomeshop-web-client (seed 002): the employee storefront's confidential client, which
        # signs employees in through the hosted UI (authorization code flow with PKCE; needs the
        # domain for its HTTPS callbacks), and the client whose tokens the API verifies
        # (COGNITO_CLIENT_ID). One client for both, so a storefront session and an API call carry
        # tokens of the same audience, and the client the API already verified is kept (same
        # resource, same id: no token in use stops verifying).
        oauth: dict[str, object] = {}
        if cfg.domain_name is not None:
            oauth = {
                "allowed_oauth_flows_user_pool_client": True,
                "allowed_oauth_flows": ["code"],
                "allowed_oauth_scopes": list(STOREFRONT_SCOPES),
                "supported_identity_providers": ["COGNITO"],
                "callback_urls": [f"https://{cfg.domain_name}{STOREFRONT_CALLBACK_PATH}"],
                "default_redirect_uri": f"https://{cfg.domain_name}{STOREFRONT_CALLBACK_PATH}",
                "logout_urls": [f"https://{cfg.domain_name}{STOREFRONT_SIGNED_OUT_PATH}"],
            }
        self.client = CognitoUserPoolClient(
            self,
            "client",
            name=cfg.resource_name("web-client"),
            user_pool_id=self.user_pool.id,
            generate_secret=True,
            # Password sign-in stays for API clients and tools (docs/authentication.md); the
            # storefront itself only exchanges codes.
            explicit_auth_flows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            # Seed 002: access and ID tokens 1 hour, refresh tokens 30 days. The storefront's and
            # the admin's own sign-in still end after SESSION_COOKIE_AGE (session_hours).
            access_token_validity=1,
            id_token_validity=1,
            refresh_token_validity=30,
            token_validity_units=[
                CognitoUserPoolClientTokenValidityUnits(
                    access_token="hours", id_token="hours", refresh_token="days"
                )
            ],
            prevent_user_existence_errors="ENABLED",
            enable_token_revocation=True,
            # Users may edit their name only: custom:employee_id links a first sign-in to the
            # roster, so only the app (an administrator) may set it.
            write_attributes=["name"],
            **oauth,  # type: ignore[arg-type]
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
        account = DataAwsCallerIdentity(self, "account")
        self.hosted_ui_domain = CognitoUserPoolDomain(
            self,
            "hosted_ui_domain",
            domain=hosted_ui_prefix(cfg, account.account_id),
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
        """Container variables for company sign-in to the admin and the storefront (empty
        without a domain name); the storefront's secret is the web client's (stack.py)."""
        if self.admin_client is None or self.hosted_ui_domain is None:
            return {}
        cfg = self._config
        env = {
            "STOREFRONT_OIDC_CLIENT_ID": self.client.id,
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
    # Exactly the secrets ECS injects into the web, worker and expiry containers: the app
    # user's, the Django key, and with company sign-in the OIDC client secrets. Never the master.
    app_secret_arns: list[str]
    # The RDS-managed master secret: only the migrate task logs in as the owner with it, so only
    # the migrate task's execution role may read it (ECS injects it) and its task role too
    # (to follow a rotation).
    db_secret_arn: str
    # The app's own database user (manage.py db_grant_app_user fills it in): the other tasks log
    # in with it and re-read it after a rotation (shop.db.backends).
    app_db_secret_arn: str
    images_bucket_arn: str
    # The employees' pool: the app invites, disables and signs out the people it registers.
    user_pool_arn: str | None = None


def _assume_role_policy(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
    )


def _policy(*statements: dict[str, object]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


class WorkloadRoles(Construct):
    """One role per task and purpose. Execution roles (what ECS does before the container starts:
    pull, logs, inject secrets): the app's, shared by web, worker and expiry, which never reads
    the master secret, and the migrate task's. Task roles (what the code may call): web, worker,
    expiry and migrate each get only what their command uses."""

    execution_role: IamRole
    execution_policy: IamRolePolicy
    migrate_execution_role: IamRole
    migrate_execution_policy: IamRolePolicy
    task_role: IamRole
    task_policy: IamRolePolicy
    worker_task_role: IamRole
    worker_task_policy: IamRolePolicy
    expiry_task_role: IamRole
    expiry_task_policy: IamRolePolicy
    migrate_task_role: IamRole
    migrate_task_policy: IamRolePolicy

    def __init__(self, scope: Construct, id_: str, *, props: WorkloadRolesProps) -> None:
        super().__init__(scope, id_)
        cfg = props.config

        # The AWS managed AmazonECSTaskExecutionRolePolicy grants its actions on "*"; these
        # inline policies grant the same actions on this app's repository, log group and secrets.
        def execution_statements(secret_arns: list[str]) -> list[dict[str, object]]:
            return [
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
                    "Sid": "ReadTheContainersSecrets",
                    "Effect": "Allow",
                    "Action": ["secretsmanager:GetSecretValue"],
                    "Resource": secret_arns,
                },
            ]

        self.execution_role, self.execution_policy = self._role(
            cfg,
            "execution",
            "ecs-execution-role",
            "pull-image-write-logs-read-app-secrets",
            execution_statements(props.app_secret_arns),
        )
        # The migrate container's secrets: the app's, with the master's in place of the app
        # user's (it logs in as the owner).
        migrate_secrets = [a for a in props.app_secret_arns if a != props.app_db_secret_arn]
        self.migrate_execution_role, self.migrate_execution_policy = self._role(
            cfg,
            "migrate_execution",
            "ecs-migrate-execution-role",
            "pull-image-write-logs-read-owner-secrets",
            execution_statements([props.db_secret_arn, *migrate_secrets]),
        )

        follow_rotation = {
            "Sid": "FollowDatabasePasswordRotation",
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue"],
            "Resource": [props.app_db_secret_arn],
        }
        publish_metrics = {
            # PutMetricData has no resource type; the namespace condition is the scope.
            "Sid": "PublishAppMetrics",
            "Effect": "Allow",
            "Action": ["cloudwatch:PutMetricData"],
            "Resource": "*",
            "Condition": {"StringEquals": {"cloudwatch:namespace": METRICS_NAMESPACE}},
        }
        # The web tasks connect as the app user with its password (through RDS Proxy, whose IAM
        # authentication is off): no rds-db:connect at all, least of all as the master user.
        self.task_role, self.task_policy = self._role(
            cfg,
            "task",
            "ecs-task-role",
            "images-app-user-secret-metrics",
            [
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
                follow_rotation,
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
                publish_metrics,
            ],
        )
        # The notification worker reads and writes the outbox and reports its age; sending mail
        # is granted beside the SES identity (mail.Mail).
        self.worker_task_role, self.worker_task_policy = self._role(
            cfg,
            "worker_task",
            "ecs-worker-task-role",
            "app-user-secret-metrics",
            [follow_rotation, publish_metrics],
        )
        # The daily expiry run: the database, and its metrics.
        self.expiry_task_role, self.expiry_task_policy = self._role(
            cfg,
            "expiry_task",
            "ecs-expiry-task-role",
            "app-user-secret-metrics",
            [follow_rotation, publish_metrics],
        )

        # The one-off migrate task logs in as the owner and then sets up the app's database
        # user, whose password it generates into the app secret: so only it may write that
        # secret, and only it reads the master secret. It needs nothing else.
        self.migrate_task_role, self.migrate_task_policy = self._role(
            cfg,
            "migrate_task",
            "ecs-migrate-task-role",
            "database-owner-and-app-user-secrets",
            [
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
        )

    def _role(
        self,
        cfg: EnvironmentConfig,
        key: str,
        name: str,
        policy_name: str,
        statements: list[dict[str, object]],
    ) -> tuple[IamRole, IamRolePolicy]:
        role = IamRole(
            self,
            f"{key}_role",
            name=cfg.resource_name(name),
            assume_role_policy=_assume_role_policy("ecs-tasks.amazonaws.com"),
        )
        policy = IamRolePolicy(
            self, f"{key}_policy", name=policy_name, role=role.id, policy=_policy(*statements)
        )
        return role, policy
