"""Who may do what: the Cognito user directory for people, IAM roles for the containers."""

from __future__ import annotations

import json
from dataclasses import dataclass

from constructs import Construct

from infra_cdktf.aws import (
    CognitoUserPool,
    CognitoUserPoolAccountRecoverySettingRecoveryMechanism,
    CognitoUserPoolClient,
    CognitoUserPoolClientTokenValidityUnits,
    CognitoUserPoolSchema,
    DataAwsCallerIdentity,
    DataAwsPartition,
    IamRole,
    IamRolePolicy,
)
from infra_cdktf.config import EnvironmentConfig

METRICS_NAMESPACE = "AWSomeShop"


@dataclass(frozen=True, kw_only=True)
class UserDirectoryProps:
    config: EnvironmentConfig


class UserDirectory(Construct):
    user_pool: CognitoUserPool
    client: CognitoUserPoolClient

    def __init__(self, scope: Construct, id_: str, *, props: UserDirectoryProps) -> None:
        super().__init__(scope, id_)
        cfg = props.config
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
        )


@dataclass(frozen=True, kw_only=True)
class WorkloadRolesProps:
    config: EnvironmentConfig
    ecr_repository_arn: str
    log_group_arn: str
    # Exactly the secrets the containers receive: the RDS master secret and the Django key.
    secret_arns: list[str]
    # The RDS-managed master secret: the app re-reads it after a rotation (shop.db_backends).
    db_secret_arn: str
    images_bucket_arn: str
    db_resource_id: str
    db_username: str


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
                            "Resource": [props.db_secret_arn],
                        },
                        {
                            "Sid": "DatabaseIamConnect",
                            "Effect": "Allow",
                            "Action": ["rds-db:connect"],
                            "Resource": [db_user_arn],
                        },
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
