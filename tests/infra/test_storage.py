"""Storage construct: the private image bucket and the log bucket."""

from __future__ import annotations

import json

from infra_helpers import Synth


def _policy(synth: Synth, bucket: str) -> dict:
    (policy,) = [
        p
        for p in synth.resources("aws_s3_bucket_policy").values()
        if p["bucket"] == f"${{aws_s3_bucket.{bucket}.id}}"
    ]
    return json.loads(policy["policy"])


def test_image_bucket_is_private_encrypted_unversioned(dev: Synth) -> None:
    images = dev.resources("aws_s3_bucket")["images_bucket"]
    assert images["bucket_prefix"] == "awsomeshop-images-dev-"
    ref = "${aws_s3_bucket.images_bucket.id}"
    assert dev.has(
        "aws_s3_bucket_public_access_block",
        {
            "bucket": ref,
            "block_public_acls": True,
            "block_public_policy": True,
            "ignore_public_acls": True,
            "restrict_public_buckets": True,
        },
    )
    assert dev.has(
        "aws_s3_bucket_server_side_encryption_configuration",
        {
            "bucket": ref,
            "rule": [
                {
                    "apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"},
                    "bucket_key_enabled": True,
                }
            ],
        },
    )
    # The design keeps versioning and lifecycle rules off for images.
    assert not dev.resources("aws_s3_bucket_versioning")
    lifecycle_buckets = {r["bucket"] for r in dev.resources("aws_s3_bucket_lifecycle_configuration").values()}
    assert ref not in lifecycle_buckets


def test_image_bucket_cors_for_web_uploads(dev: Synth, prod: Synth) -> None:
    (cors,) = dev.resources("aws_s3_bucket_cors_configuration").values()
    (rule,) = cors["cors_rule"]
    assert set(rule["allowed_methods"]) == {"GET", "PUT", "POST", "HEAD"}
    (prod_cors,) = prod.resources("aws_s3_bucket_cors_configuration").values()
    assert prod_cors["cors_rule"][0]["allowed_origins"] == ["https://awsomeshop.example.com"]


def test_image_bucket_policy_denies_plain_http(dev: Synth) -> None:
    # The task-role statements are asserted in test_review_settings.py.
    statement = _policy(dev, "images_bucket")["Statement"][0]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_log_bucket_expires_after_30_days(dev: Synth) -> None:
    (lifecycle,) = dev.resources("aws_s3_bucket_lifecycle_configuration").values()
    assert lifecycle["bucket"] == "${aws_s3_bucket.logs_bucket.id}"
    (rule,) = lifecycle["rule"]
    assert rule["status"] == "Enabled"
    assert rule["expiration"] == [{"days": 30}]


def test_log_bucket_policy_lets_only_log_delivery_write(dev: Synth) -> None:
    statements = {s["Sid"]: s for s in _policy(dev, "logs_bucket")["Statement"]}
    assert set(statements) == {
        "DenyInsecureTransport",
        "AlbLogsRegionalAccount",
        "AlbLogsDeliveryService",
        "FlowLogsWrite",
        "FlowLogsAclCheck",
    }
    (elb_account,) = dev.data("aws_elb_service_account")
    assert statements["AlbLogsRegionalAccount"]["Principal"] == {
        "AWS": f"${{data.aws_elb_service_account.{elb_account}.arn}}"
    }
    assert statements["AlbLogsDeliveryService"]["Principal"] == {
        "Service": "logdelivery.elasticloadbalancing.amazonaws.com"
    }
    for sid in ("AlbLogsRegionalAccount", "AlbLogsDeliveryService"):
        assert statements[sid]["Action"] == ["s3:PutObject"]
        (resource,) = statements[sid]["Resource"]
        assert "/access-logs/AWSLogs/" in resource
