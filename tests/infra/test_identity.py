"""Identity: the Cognito user pool and client, and the least-privilege IAM roles."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from infra_helpers import Synth


def test_user_pool(dev: Synth) -> None:
    (pool,) = dev.resources("aws_cognito_user_pool").values()
    assert pool["name"] == "awsomeshop-users-dev"
    assert pool["username_attributes"] == ["email"]
    assert pool["auto_verified_attributes"] == ["email"]
    assert pool["password_policy"] == {
        "minimum_length": 8,
        "require_uppercase": True,
        "require_lowercase": True,
        "require_numbers": True,
        "require_symbols": False,
        "temporary_password_validity_days": 7,
    }
    assert pool["mfa_configuration"] == "OPTIONAL"
    assert pool["account_recovery_setting"] == {
        "recovery_mechanism": [{"name": "verified_email", "priority": 1}]
    }
    (attribute,) = pool["schema"]
    assert attribute["name"] == "employee_id" and attribute["attribute_data_type"] == "String"


def test_app_client(dev: Synth) -> None:
    (client,) = dev.resources("aws_cognito_user_pool_client").values()
    assert client["generate_secret"] is True
    assert sorted(client["explicit_auth_flows"]) == ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_PASSWORD_AUTH"]
    assert (
        client["access_token_validity"],
        client["id_token_validity"],
        client["refresh_token_validity"],
    ) == (1, 1, 8)
    # The design's 8-hour session: refresh tokens end it (test_review_settings.py).
    assert client["token_validity_units"] == [
        {"access_token": "hours", "id_token": "hours", "refresh_token": "hours"}
    ]


def _role_policy(synth: Synth, role: str) -> dict[str, dict[str, Any]]:
    (role_name,) = [n for n, r in synth.resources("aws_iam_role").items() if r["name"] == role]
    policies = [
        p
        for p in synth.resources("aws_iam_role_policy").values()
        if p["role"] == f"${{aws_iam_role.{role_name}.id}}"
    ]
    assert len(policies) == 1
    return {s["Sid"]: s for s in json.loads(policies[0]["policy"])["Statement"]}


def test_execution_role_pulls_this_image_writes_this_log_group_reads_these_secrets(dev: Synth) -> None:
    statements = _role_policy(dev, "awsomeshop-ecs-execution-role-dev")
    assert statements["EcrPull"]["Resource"] == ["${aws_ecr_repository.ecr_repository.arn}"]
    log_group, _ = dev.named("aws_cloudwatch_log_group", "name", "/ecs/awsomeshop-core-task-dev")
    assert statements["WriteLogs"]["Resource"] == [f"${{aws_cloudwatch_log_group.{log_group}.arn}}:*"]
    django_secret, _ = dev.named("aws_secretsmanager_secret", "name", "awsomeshop-django-secret-key-dev")
    assert statements["ReadAppSecrets"]["Resource"] == [
        "${aws_db_instance.database.master_user_secret[0].secret_arn}",
        f"${{aws_secretsmanager_secret.{django_secret}.arn}}",
    ]
    assert statements["ReadAppSecrets"]["Action"] == ["secretsmanager:GetSecretValue"]
    # No managed policy is attached: AmazonECSTaskExecutionRolePolicy grants on "*".
    assert not dev.resources("aws_iam_role_policy_attachment")


def test_task_role_reaches_this_bucket_database_and_metric_namespace(dev: Synth) -> None:
    statements = _role_policy(dev, "awsomeshop-ecs-task-role-dev")
    assert statements["ListImages"]["Resource"] == ["${aws_s3_bucket.images_bucket.arn}"]
    assert statements["ReadWriteImages"]["Resource"] == ["${aws_s3_bucket.images_bucket.arn}/*"]
    assert set(statements["ReadWriteImages"]["Action"]) == {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}
    (db_user,) = statements["DatabaseIamConnect"]["Resource"]
    assert db_user.endswith(":dbuser:${aws_db_instance.database.resource_id}/awsomeshop_admin")
    assert statements["PublishAppMetrics"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": "AWSomeShop"}
    }
    # Only the database's own secret, so the app can follow a password rotation.
    assert statements["FollowDatabasePasswordRotation"] == {
        "Sid": "FollowDatabasePasswordRotation",
        "Effect": "Allow",
        "Action": ["secretsmanager:GetSecretValue"],
        "Resource": ["${aws_db_instance.database.master_user_secret[0].secret_arn}"],
    }


# The only actions AWS offers no resource-level scope for; each must stay the sole action of
# its statement so the wildcard grants nothing else.
UNSCOPABLE_ACTIONS = {"ecr:GetAuthorizationToken", "cloudwatch:PutMetricData"}


def _all_statements(synth: Synth) -> list[dict[str, Any]]:
    statements = []
    for policy in synth.resources("aws_iam_role_policy").values():
        statements += json.loads(policy["policy"])["Statement"]
    for bucket_policy in synth.resources("aws_s3_bucket_policy").values():
        statements += json.loads(bucket_policy["policy"])["Statement"]
    return statements


def _wildcard_violations(statements: list[dict[str, Any]]) -> list[str]:
    bad = []
    for statement in statements:
        if statement["Effect"] != "Allow":
            continue
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        if any("*" in a for a in actions):
            bad.append(f"{statement.get('Sid')}: wildcard action {actions}")
        if any(r == "*" or re.fullmatch(r"arn:[^:]*:[^:]*:[^:]*:[^:]*:\*", r) for r in resources):
            if not set(actions) <= UNSCOPABLE_ACTIONS:
                bad.append(f"{statement.get('Sid')}: {actions} on {resources}")
            if "cloudwatch:PutMetricData" in actions and "Condition" not in statement:
                bad.append(f"{statement.get('Sid')}: PutMetricData without a namespace condition")
    return bad


@pytest.mark.parametrize("stack", ["dev", "prod", "options"])
def test_no_statement_grants_star_where_aws_allows_scoping(
    stack: str, request: pytest.FixtureRequest
) -> None:
    synth: Synth = request.getfixturevalue(stack)
    statements = _all_statements(synth)
    assert len(statements) >= 10
    assert _wildcard_violations(statements) == []


def test_the_wildcard_check_catches_a_broad_grant() -> None:
    broad = [
        {"Sid": "A", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"},
        {"Sid": "B", "Effect": "Allow", "Action": "s3:*", "Resource": ["arn:aws:s3:::b/*"]},
        {"Sid": "C", "Effect": "Allow", "Action": ["cloudwatch:PutMetricData"], "Resource": "*"},
        {"Sid": "D", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": "*"},
    ]
    assert [v.split(":")[0] for v in _wildcard_violations(broad)] == ["A", "B", "C"]
