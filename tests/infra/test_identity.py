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
    assert client["name"] == "awsomeshop-web-client-dev"
    assert client["generate_secret"] is True
    assert sorted(client["explicit_auth_flows"]) == ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_PASSWORD_AUTH"]
    # Seed 002: access and ID tokens 1 hour, refresh tokens 30 days (the sign-in sessions
    # themselves end after SESSION_COOKIE_AGE, test_review_settings.py).
    assert (
        client["access_token_validity"],
        client["id_token_validity"],
        client["refresh_token_validity"],
    ) == (1, 1, 30)
    assert client["token_validity_units"] == [
        {"access_token": "hours", "id_token": "hours", "refresh_token": "days"}
    ]
    # Without a domain there is no hosted UI, so no OAuth flow (Cognito needs HTTPS callbacks).
    assert "allowed_oauth_flows" not in client


def test_the_storefront_signs_in_with_the_web_client_the_api_verifies(prod: Synth) -> None:
    web_name, web = prod.named("aws_cognito_user_pool_client", "name", "awsomeshop-web-client-prod")
    assert web["generate_secret"] is True
    assert web["allowed_oauth_flows_user_pool_client"] is True
    assert web["allowed_oauth_flows"] == ["code"]
    assert web["allowed_oauth_scopes"] == ["openid", "email", "profile"]
    assert web["supported_identity_providers"] == ["COGNITO"]
    assert web["callback_urls"] == ["https://awsomeshop.example.com/signin/callback/"]
    assert web["default_redirect_uri"] == "https://awsomeshop.example.com/signin/callback/"
    assert web["logout_urls"] == ["https://awsomeshop.example.com/signed-out/"]
    assert (web["access_token_validity"], web["id_token_validity"], web["refresh_token_validity"]) == (
        1,
        1,
        30,
    )
    task = next(
        t
        for t in prod.resources("aws_ecs_task_definition").values()
        if t["family"] == "awsomeshop-core-task-prod"
    )
    (container,) = json.loads(task["container_definitions"])
    env = {e["name"]: e["value"] for e in container["environment"]}
    secrets = {s["name"]: s["valueFrom"] for s in container["secrets"]}
    # The same client for the storefront's sign-in and the API's token check.
    assert (
        env["STOREFRONT_OIDC_CLIENT_ID"]
        == env["COGNITO_CLIENT_ID"]
        == f"${{aws_cognito_user_pool_client.{web_name}.id}}"
    )
    assert env["COGNITO_DOMAIN"].endswith(".auth.us-east-2.amazoncognito.com")
    # Its secret reaches the task only through Secrets Manager, read by the execution role.
    client_secret = _secret_arn(prod, "awsomeshop-cognito-client-secret-prod")
    assert secrets["STOREFRONT_OIDC_CLIENT_SECRET"] == client_secret
    assert (
        client_secret
        in _role_policy(prod, "awsomeshop-ecs-execution-role-prod")["ReadTheContainersSecrets"]["Resource"]
    )
    assert "STOREFRONT_OIDC_CLIENT_SECRET" not in json.dumps(container["environment"])


def test_without_a_domain_the_storefront_gets_no_oidc_settings(dev: Synth) -> None:
    task = next(
        t
        for t in dev.resources("aws_ecs_task_definition").values()
        if t["family"] == "awsomeshop-core-task-dev"
    )
    assert "STOREFRONT_OIDC" not in task["container_definitions"]


def _secret_arn(synth: Synth, name: str) -> str:
    (logical_id,) = [n for n, s in synth.resources("aws_secretsmanager_secret").items() if s["name"] == name]
    return f"${{aws_secretsmanager_secret.{logical_id}.arn}}"


def _role_policy(synth: Synth, role: str, policy: str | None = None) -> dict[str, dict[str, Any]]:
    (role_name,) = [n for n, r in synth.resources("aws_iam_role").items() if r["name"] == role]
    policies = [
        p
        for p in synth.resources("aws_iam_role_policy").values()
        if p["role"] == f"${{aws_iam_role.{role_name}.id}}" and policy in (None, p["name"])
    ]
    assert len(policies) == 1
    return {s["Sid"]: s for s in json.loads(policies[0]["policy"])["Statement"]}


def test_execution_role_pulls_this_image_writes_this_log_group_reads_these_secrets(dev: Synth) -> None:
    statements = _role_policy(dev, "awsomeshop-ecs-execution-role-dev")
    assert statements["EcrPull"]["Resource"] == ["${aws_ecr_repository.ecr_repository.arn}"]
    log_group, _ = dev.named("aws_cloudwatch_log_group", "name", "/ecs/awsomeshop-core-task-dev")
    assert statements["WriteLogs"]["Resource"] == [f"${{aws_cloudwatch_log_group.{log_group}.arn}}:*"]
    # The web, worker and expiry containers' secrets: never the master's.
    assert statements["ReadTheContainersSecrets"]["Resource"] == [
        _secret_arn(dev, "awsomeshop-db-app-user-dev"),
        _secret_arn(dev, "awsomeshop-django-secret-key-dev"),
    ]
    assert statements["ReadTheContainersSecrets"]["Action"] == ["secretsmanager:GetSecretValue"]
    # No managed policy is attached to a task role: AmazonECSTaskExecutionRolePolicy grants on "*".
    assert all("ecs" not in a["role"] for a in dev.resources("aws_iam_role_policy_attachment").values())


def test_only_the_migrate_tasks_execution_role_reads_the_master_secret(dev: Synth) -> None:
    master = "${aws_db_instance.database.master_user_secret[0].secret_arn}"
    statements = _role_policy(dev, "awsomeshop-ecs-migrate-execution-role-dev")
    assert statements["ReadTheContainersSecrets"]["Resource"] == [
        master,
        _secret_arn(dev, "awsomeshop-django-secret-key-dev"),
    ]
    readers = {
        r["name"]
        for r_name, r in dev.resources("aws_iam_role").items()
        for p in dev.resources("aws_iam_role_policy").values()
        if p["role"] == f"${{aws_iam_role.{r_name}.id}}" and master in p["policy"]
    }
    # ECS injecting it, the task following a rotation, RDS Proxy logging in with it.
    assert readers == {
        "awsomeshop-ecs-migrate-execution-role-dev",
        "awsomeshop-ecs-migrate-task-role-dev",
        "awsomeshop-rds-proxy-role-dev",
    }
    roles = {n: r["name"] for n, r in dev.resources("aws_iam_role").items()}
    used = {
        t["family"]: (roles[t["execution_role_arn"].split(".")[1]], roles[t["task_role_arn"].split(".")[1]])
        for t in dev.resources("aws_ecs_task_definition").values()
    }
    assert used == {
        "awsomeshop-core-task-dev": ("awsomeshop-ecs-execution-role-dev", "awsomeshop-ecs-task-role-dev"),
        "awsomeshop-migrate-task-dev": (
            "awsomeshop-ecs-migrate-execution-role-dev",
            "awsomeshop-ecs-migrate-task-role-dev",
        ),
        "awsomeshop-worker-task-dev": (
            "awsomeshop-ecs-execution-role-dev",
            "awsomeshop-ecs-worker-task-role-dev",
        ),
        "awsomeshop-expire-points-task-dev": (
            "awsomeshop-ecs-execution-role-dev",
            "awsomeshop-ecs-expiry-task-role-dev",
        ),
    }


def test_task_role_reaches_this_bucket_and_metric_namespace_but_no_database_iam_login(dev: Synth) -> None:
    statements = _role_policy(dev, "awsomeshop-ecs-task-role-dev", "images-app-user-secret-metrics")
    assert statements["ListImages"]["Resource"] == ["${aws_s3_bucket.images_bucket.arn}"]
    assert statements["ReadWriteImages"]["Resource"] == ["${aws_s3_bucket.images_bucket.arn}/*"]
    assert set(statements["ReadWriteImages"]["Action"]) == {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}
    # The app logs in with the app user's password through the proxy: no rds-db:connect, and
    # certainly not as the master user.
    assert not [p for p in dev.resources("aws_iam_role_policy").values() if "rds-db:" in p["policy"]]
    assert statements["PublishAppMetrics"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": "AWSomeShop"}
    }
    # Only the app user's own secret, so the app can follow a password rotation; never the
    # master secret (the web tasks are not the database owner).
    assert statements["FollowDatabasePasswordRotation"] == {
        "Sid": "FollowDatabasePasswordRotation",
        "Effect": "Allow",
        "Action": ["secretsmanager:GetSecretValue"],
        "Resource": [_secret_arn(dev, "awsomeshop-db-app-user-dev")],
    }
    assert "master_user_secret" not in json.dumps(statements)


def test_worker_and_expiry_roles_reach_the_database_secret_and_metrics_only(dev: Synth) -> None:
    for role in ("awsomeshop-ecs-worker-task-role-dev", "awsomeshop-ecs-expiry-task-role-dev"):
        statements = _role_policy(dev, role, "app-user-secret-metrics")
        assert set(statements) == {"FollowDatabasePasswordRotation", "PublishAppMetrics"}
        assert statements["FollowDatabasePasswordRotation"]["Resource"] == [
            _secret_arn(dev, "awsomeshop-db-app-user-dev")
        ]


def test_only_the_migrate_task_reads_the_master_secret_and_writes_the_app_user_secret(dev: Synth) -> None:
    statements = _role_policy(dev, "awsomeshop-ecs-migrate-task-role-dev")
    app_secret = _secret_arn(dev, "awsomeshop-db-app-user-dev")
    assert statements == {
        "FollowMasterPasswordRotation": {
            "Sid": "FollowMasterPasswordRotation",
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue"],
            "Resource": ["${aws_db_instance.database.master_user_secret[0].secret_arn}"],
        },
        "SetAppUserPassword": {
            "Sid": "SetAppUserPassword",
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"],
            "Resource": [app_secret],
        },
    }
    writers = [
        p["role"]
        for p in dev.resources("aws_iam_role_policy").values()
        if "secretsmanager:PutSecretValue" in p["policy"]
    ]
    assert len(writers) == 1


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


def test_only_administrators_create_users_and_cognito_sends_the_invitation(dev: Synth) -> None:
    (pool,) = dev.resources("aws_cognito_user_pool").values()
    config = pool["admin_create_user_config"]
    assert config["allow_admin_create_user_only"] is True  # self sign-up is off
    template = config["invite_message_template"]
    # Cognito rejects an invitation template without both placeholders.
    for message in (template["email_message"], template["sms_message"]):
        assert "{username}" in message and "{####}" in message
    assert template["email_subject"]


def test_users_cannot_rewrite_their_employee_id(dev: Synth) -> None:
    (client,) = dev.resources("aws_cognito_user_pool_client").values()
    assert client["write_attributes"] == ["name"]


def test_task_role_manages_sign_ins_of_this_pool_only(dev: Synth) -> None:
    statements = _role_policy(dev, "awsomeshop-ecs-task-role-dev")
    (pool,) = dev.resources("aws_cognito_user_pool")
    assert statements["ManageEmployeeSignIns"] == {
        "Sid": "ManageEmployeeSignIns",
        "Effect": "Allow",
        "Action": [
            "cognito-idp:AdminCreateUser",
            "cognito-idp:AdminDisableUser",
            "cognito-idp:AdminEnableUser",
            "cognito-idp:AdminUserGlobalSignOut",
        ],
        "Resource": [f"${{aws_cognito_user_pool.{pool}.arn}}"],
    }


# HR's company sign-in to the admin: the HR group, the hosted UI, the admin's app client.

RESERVED_IN_DOMAIN_PREFIX = ("aws", "amazon", "cognito")


def _web_container(synth: Synth) -> dict[str, Any]:
    (task,) = [
        t
        for t in synth.resources("aws_ecs_task_definition").values()
        if t["family"].startswith("awsomeshop-core")
    ]
    (container,) = json.loads(task["container_definitions"])
    return container


def test_the_pool_has_the_hr_group(dev: Synth, prod: Synth) -> None:
    for synth in (dev, prod):
        (group,) = synth.resources("aws_cognito_user_group").values()
        (pool,) = synth.resources("aws_cognito_user_pool")
        assert group["name"] == "hr"
        assert group["user_pool_id"] == f"${{aws_cognito_user_pool.{pool}.id}}"


def test_without_a_domain_there_is_no_admin_client_and_the_task_gets_no_sign_in_settings(dev: Synth) -> None:
    assert len(dev.resources("aws_cognito_user_pool_client")) == 1
    assert not dev.resources("aws_cognito_user_pool_domain")
    container = _web_container(dev)
    names = {e["name"] for e in container["environment"]} | {s["name"] for s in container["secrets"]}
    assert not names & {"ADMIN_OIDC_CLIENT_ID", "ADMIN_OIDC_CLIENT_SECRET", "COGNITO_DOMAIN"}


def test_admin_client_uses_the_code_flow_with_a_secret_and_our_callback(prod: Synth, options: Synth) -> None:
    for synth, domain in ((prod, "awsomeshop.example.com"), (options, "shop.example.org")):
        _, client = synth.named(
            "aws_cognito_user_pool_client",
            "name",
            f"awsomeshop-admin-client-{'prod' if synth is prod else 'dev'}",
        )
        assert client["generate_secret"] is True
        assert client["allowed_oauth_flows_user_pool_client"] is True
        assert client["allowed_oauth_flows"] == ["code"]  # no implicit flow
        assert sorted(client["allowed_oauth_scopes"]) == ["email", "openid", "profile"]
        assert client["supported_identity_providers"] == ["COGNITO"]
        assert client["callback_urls"] == [f"https://{domain}/oidc/callback/"]
        assert client["logout_urls"] == [f"https://{domain}/admin/login/"]
        assert client["explicit_auth_flows"] == ["ALLOW_REFRESH_TOKEN_AUTH"]  # no password flows
        assert client["prevent_user_existence_errors"] == "ENABLED"


def test_hosted_ui_domain_prefix_is_unique_per_account_and_environment(prod: Synth) -> None:
    (domain,) = prod.resources("aws_cognito_user_pool_domain").values()
    # No fixed default another deployment could already hold: the account id is part of it.
    (account,) = [n for n in prod.data("aws_caller_identity") if n.startswith("identity_")]
    assert domain["domain"] == f"rewards-shop-prod-${{data.aws_caller_identity.{account}.account_id}}"
    # What it resolves to is valid for Cognito: an account id is 12 digits.
    prefix = domain["domain"].replace(f"${{data.aws_caller_identity.{account}.account_id}}", "123456789012")
    assert re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", prefix)
    assert not any(word in prefix for word in RESERVED_IN_DOMAIN_PREFIX)


def test_a_chosen_hosted_ui_prefix_is_used_and_checked_against_cognitos_rules() -> None:
    from dataclasses import replace

    from infra_cdktf.config import ENVIRONMENTS, ConfigurationError
    from infra_cdktf.identity import hosted_ui_prefix

    chosen = replace(ENVIRONMENTS["prod"], hosted_ui_domain_prefix="acme-rewards-prod")
    assert hosted_ui_prefix(chosen, "123456789012") == "acme-rewards-prod"
    for bad in ("Acme", "acme_rewards", "-acme", "acme-", "my-aws-shop", "amazon-x", "cognito1", "a" * 64):
        with pytest.raises(ConfigurationError, match="not a valid Cognito domain prefix"):
            replace(ENVIRONMENTS["prod"], hosted_ui_domain_prefix=bad)


def test_admin_client_secret_reaches_the_task_through_secrets_manager_only(prod: Synth) -> None:
    secret_name, secret = prod.named(
        "aws_secretsmanager_secret", "name", "awsomeshop-admin-oidc-client-secret-prod"
    )
    secret_arn = f"${{aws_secretsmanager_secret.{secret_name}.arn}}"
    (version,) = [
        v
        for v in prod.resources("aws_secretsmanager_secret_version").values()
        if v["secret_id"] == f"${{aws_secretsmanager_secret.{secret_name}.id}}"
    ]
    client_name, _ = prod.named("aws_cognito_user_pool_client", "name", "awsomeshop-admin-client-prod")
    assert version["secret_string"] == f"${{aws_cognito_user_pool_client.{client_name}.client_secret}}"
    assert secret["recovery_window_in_days"] == 30

    container = _web_container(prod)
    secrets = {s["name"]: s["valueFrom"] for s in container["secrets"]}
    assert secrets["ADMIN_OIDC_CLIENT_SECRET"] == secret_arn
    env = {e["name"]: e["value"] for e in container["environment"]}
    assert env["ADMIN_OIDC_CLIENT_ID"] == f"${{aws_cognito_user_pool_client.{client_name}.id}}"
    (domain_name,) = prod.resources("aws_cognito_user_pool_domain")
    assert env["COGNITO_DOMAIN"] == (
        f"${{aws_cognito_user_pool_domain.{domain_name}.domain}}.auth.us-east-2.amazoncognito.com"
    )
    assert env["COGNITO_HR_GROUP"] == "hr"
    assert not any(value == secret_arn or "client_secret" in value for value in env.values())

    # The execution role reads exactly this secret besides the app user's, Django's and the
    # storefront's client secret (the migrate task's own execution role reads the master's).
    statements = _role_policy(prod, "awsomeshop-ecs-execution-role-prod")
    assert statements["ReadTheContainersSecrets"]["Resource"] == [
        _secret_arn(prod, "awsomeshop-db-app-user-prod"),
        _secret_arn(prod, "awsomeshop-django-secret-key-prod"),
        secret_arn,
        _secret_arn(prod, "awsomeshop-cognito-client-secret-prod"),
    ]


def test_settings_file_sets_the_domain_prefix_and_break_glass_accounts() -> None:
    from infra_cdktf.config import ENVIRONMENTS, apply_settings

    cfg = apply_settings(
        ENVIRONMENTS["prod"],
        {
            "hosted_ui_domain_prefix": "acme-rewards-hr",
            "break_glass_emails": ["ops-root@example.com"],
            "local_state": True,
        },
    )
    assert cfg.hosted_ui_domain_prefix == "acme-rewards-hr"
    assert cfg.break_glass_emails == ("ops-root@example.com",)
