"""S3: the private product-image bucket and the bucket that collects ALB and VPC flow logs."""

from __future__ import annotations

import json
from dataclasses import dataclass

from cdktf import Token
from constructs import Construct

from infra_cdktf.aws import (
    DataAwsCallerIdentity,
    DataAwsElbServiceAccount,
    S3Bucket,
    S3BucketCorsConfiguration,
    S3BucketCorsConfigurationCorsRule,
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketOwnershipControls,
    S3BucketPolicy,
    S3BucketPublicAccessBlock,
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
)
from infra_cdktf.config import EnvironmentConfig

ALB_LOG_PREFIX = "access-logs"
FLOW_LOG_PREFIX = "vpc-flow-logs"


@dataclass(frozen=True, kw_only=True)
class StorageProps:
    config: EnvironmentConfig


def _deny_insecure_transport(bucket: S3Bucket) -> dict[str, object]:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket.arn, f"{bucket.arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def _policy(statements: list[dict[str, object]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


class Storage(Construct):
    images_bucket: S3Bucket
    images_public_access_block: S3BucketPublicAccessBlock
    images_encryption: S3BucketServerSideEncryptionConfigurationA
    images_cors: S3BucketCorsConfiguration
    images_policy: S3BucketPolicy
    logs_bucket: S3Bucket
    logs_lifecycle: S3BucketLifecycleConfiguration
    logs_policy: S3BucketPolicy

    def __init__(self, scope: Construct, id_: str, *, props: StorageProps) -> None:
        super().__init__(scope, id_)
        cfg = props.config
        account = DataAwsCallerIdentity(self, "account")

        # Bucket names are global: a prefix lets S3 append a unique suffix, which the design's
        # "{random-suffix}" asks for without another provider.
        self.images_bucket = S3Bucket(self, "images", bucket_prefix=f"{cfg.resource_name('images')}-")
        self.images_bucket.override_logical_id("images_bucket")
        self.images_public_access_block = self._private(self.images_bucket, "images")
        self.images_encryption = self._encrypt(self.images_bucket, "images")
        # No versioning and no lifecycle rules: the design keeps a small, replaceable image set.
        self.images_cors = S3BucketCorsConfiguration(
            self,
            "images_cors",
            bucket=self.images_bucket.id,
            cors_rule=[
                S3BucketCorsConfigurationCorsRule(
                    # Browsers upload with presigned URLs; the signature, not CORS, guards writes.
                    allowed_methods=["GET", "PUT", "POST", "HEAD"],
                    allowed_origins=list(cfg.upload_origins),
                    allowed_headers=["*"],
                    expose_headers=["ETag"],
                    max_age_seconds=3000,
                )
            ],
        )
        # The bucket policy names the task role, which is created after this construct:
        # limit_images_to() adds it.

        self.logs_bucket = S3Bucket(self, "logs", bucket_prefix=f"{cfg.resource_name('logs')}-")
        self.logs_bucket.override_logical_id("logs_bucket")
        self._private(self.logs_bucket, "logs")
        # ALB access logs accept only SSE-S3 on the target bucket.
        self._encrypt(self.logs_bucket, "logs")
        S3BucketOwnershipControls(
            self,
            "logs_ownership",
            bucket=self.logs_bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
        )
        self.logs_lifecycle = S3BucketLifecycleConfiguration(
            self,
            "logs_lifecycle",
            bucket=self.logs_bucket.id,
            rule=[
                S3BucketLifecycleConfigurationRule(
                    id="expire-logs",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    expiration=[
                        S3BucketLifecycleConfigurationRuleExpiration(days=cfg.alb_log_retention_days)
                    ],
                    abort_incomplete_multipart_upload=[
                        S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                            days_after_initiation=1
                        )
                    ],
                )
            ],
        )
        elb_account = DataAwsElbServiceAccount(self, "elb_account")
        alb_logs_arn = f"{self.logs_bucket.arn}/{ALB_LOG_PREFIX}/AWSLogs/{account.account_id}/*"
        flow_logs_arn = f"{self.logs_bucket.arn}/{FLOW_LOG_PREFIX}/AWSLogs/{account.account_id}/*"
        source_account = {"StringEquals": {"aws:SourceAccount": account.account_id}}
        logs_statements: list[dict[str, object]] = [
            _deny_insecure_transport(self.logs_bucket),
            {
                # Regions from before August 2022 deliver ALB logs as a regional ELB account.
                "Sid": "AlbLogsRegionalAccount",
                "Effect": "Allow",
                "Principal": {"AWS": elb_account.arn},
                "Action": ["s3:PutObject"],
                "Resource": [alb_logs_arn],
            },
            {
                # Newer regions deliver through the log-delivery service principal.
                "Sid": "AlbLogsDeliveryService",
                "Effect": "Allow",
                "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
                "Action": ["s3:PutObject"],
                "Resource": [alb_logs_arn],
            },
            {
                "Sid": "FlowLogsWrite",
                "Effect": "Allow",
                "Principal": {"Service": "delivery.logs.amazonaws.com"},
                "Action": ["s3:PutObject"],
                "Resource": [flow_logs_arn],
                "Condition": source_account,
            },
            {
                "Sid": "FlowLogsAclCheck",
                "Effect": "Allow",
                "Principal": {"Service": "delivery.logs.amazonaws.com"},
                "Action": ["s3:GetBucketAcl"],
                "Resource": [self.logs_bucket.arn],
                "Condition": source_account,
            },
        ]
        self.logs_policy = S3BucketPolicy(
            self,
            "logs_policy",
            bucket=self.logs_bucket.id,
            policy=_policy(logs_statements),
        )

    def limit_images_to(self, role_arn: str) -> S3BucketPolicy:
        """Only the app's task role may read or write image objects (presigned URLs are its own)."""
        bucket = self.images_bucket
        objects = f"{bucket.arn}/*"
        self.images_policy = S3BucketPolicy(
            self,
            "images_policy",
            bucket=bucket.id,
            policy=_policy(
                [
                    _deny_insecure_transport(bucket),
                    {
                        # Bucket administration stays with the account's administrators; the
                        # objects themselves are the app's alone.
                        "Sid": "ImagesOnlyThroughTheApp",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                        "Resource": [objects],
                        "Condition": {"ArnNotEquals": {"aws:PrincipalArn": role_arn}},
                    },
                    {
                        "Sid": "AppReadsAndWritesImages",
                        "Effect": "Allow",
                        "Principal": {"AWS": role_arn},
                        "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                        "Resource": [objects],
                    },
                ]
            ),
            depends_on=[self.images_public_access_block],
        )
        return self.images_policy

    @property
    def images_bucket_name(self) -> str:
        return Token.as_string(self.images_bucket.bucket)

    def _private(self, bucket: S3Bucket, key: str) -> S3BucketPublicAccessBlock:
        return S3BucketPublicAccessBlock(
            self,
            f"{key}_public_access_block",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )

    def _encrypt(self, bucket: S3Bucket, key: str) -> S3BucketServerSideEncryptionConfigurationA:
        return S3BucketServerSideEncryptionConfigurationA(
            self,
            f"{key}_encryption",
            bucket=bucket.id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default={"sse_algorithm": "AES256"},
                    bucket_key_enabled=True,
                )
            ],
        )
