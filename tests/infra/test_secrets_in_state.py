"""What reaches Terraform state: generated secrets are written through write-only arguments."""

from __future__ import annotations

import json

from infra_helpers import Synth


def test_django_key_is_generated_in_aws_and_never_stored_in_state(dev: Synth) -> None:
    assert not dev.data("aws_secretsmanager_random_password"), "a data source's value lands in state"
    ephemeral = dev.doc["ephemeral"]["aws_secretsmanager_random_password"]
    assert ephemeral == {"django_secret_key": {"password_length": 64, "exclude_punctuation": True}}
    (version,) = [
        v for v in dev.resources("aws_secretsmanager_secret_version").values() if "django" in v["secret_id"]
    ]
    assert "secret_string" not in version
    assert (
        version["secret_string_wo"]
        == "${ephemeral.aws_secretsmanager_random_password.django_secret_key.random_password}"
    )
    assert version["secret_string_wo_version"] == 1
    assert set(dev.doc["terraform"]["required_providers"]) == {"aws"}


def test_cognito_client_secret_is_kept_in_secrets_manager(dev: Synth) -> None:
    name, secret = dev.named("aws_secretsmanager_secret", "name", "awsomeshop-cognito-client-secret-dev")
    (version,) = [
        v
        for v in dev.resources("aws_secretsmanager_secret_version").values()
        if v["secret_id"] == f"${{aws_secretsmanager_secret.{name}.id}}"
    ]
    (client,) = dev.resources("aws_cognito_user_pool_client")
    assert version["secret_string"] == f"${{aws_cognito_user_pool_client.{client}.client_secret}}"
    assert secret["recovery_window_in_days"] == 0
    outputs = dev.doc["output"]
    assert outputs["cognito_client_secret_arn"]["value"] == f"${{aws_secretsmanager_secret.{name}.arn}}"


def test_containers_get_no_cognito_client_secret(dev: Synth) -> None:
    # The API only verifies tokens; nothing in the app computes SECRET_HASH.
    for task in dev.resources("aws_ecs_task_definition").values():
        assert "cognito-client-secret" not in json.dumps(task)
