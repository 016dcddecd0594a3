"""Data construct: RDS MySQL, RDS Proxy, the master secret and the Django secret key."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from infra_helpers import REPO, Synth, synth

from infra_cdktf.config import ENVIRONMENTS, EnvironmentConfig

MASTER_SECRET = "${aws_db_instance.database.master_user_secret[0].secret_arn}"


def test_database_settings_from_the_design(dev: Synth) -> None:
    db = dev.resources("aws_db_instance")["database"]
    expected = {
        "engine": "mysql",
        "engine_version": "8.4",
        "instance_class": "db.t3.micro",
        "allocated_storage": 20,
        "storage_type": "gp2",
        "storage_encrypted": True,
        "publicly_accessible": False,
        "backup_retention_period": 30,
        "backup_window": "03:00-04:00",
        "maintenance_window": "sun:04:00-sun:05:00",
        "manage_master_user_password": True,
        "db_name": "awsomeshop",
        "copy_tags_to_snapshot": True,
    }
    assert {k: db.get(k) for k in expected} == expected
    assert db["max_allocated_storage"] > db["allocated_storage"]
    # No password is ever written into the configuration (or the state).
    assert "password" not in db


def test_dev_is_single_az_and_disposable(dev: Synth) -> None:
    db = dev.resources("aws_db_instance")["database"]
    assert db["multi_az"] is False
    assert db["deletion_protection"] is False
    assert db["skip_final_snapshot"] is True


def test_prod_is_multi_az_protected_and_keeps_a_final_snapshot(prod: Synth) -> None:
    db = prod.resources("aws_db_instance")["database"]
    assert db["multi_az"] is True
    assert db["deletion_protection"] is True
    assert db["skip_final_snapshot"] is False
    assert db["final_snapshot_identifier"] == "awsomeshop-db-final-prod"


def test_subnet_group_spans_both_private_subnets(dev: Synth) -> None:
    (group,) = dev.resources("aws_db_subnet_group").values()
    private = {
        f"${{aws_subnet.{n}.id}}"
        for n, s in dev.resources("aws_subnet").items()
        if s["tags"]["Tier"] == "private"
    }
    assert set(group["subnet_ids"]) == private and len(private) == 2
    assert dev.resources("aws_db_instance")["database"]["db_subnet_group_name"].endswith(".name}")


def test_proxy_uses_the_master_secret_over_tls(dev: Synth) -> None:
    (proxy,) = dev.resources("aws_db_proxy").values()
    assert proxy["engine_family"] == "MYSQL"
    assert proxy["require_tls"] is True
    app_secret = f"${{aws_secretsmanager_secret.{_secret(dev, 'awsomeshop-db-app-user-dev')}.arn}}"
    assert proxy["auth"] == [
        {
            "auth_scheme": "SECRETS",
            "secret_arn": MASTER_SECRET,
            "iam_auth": "DISABLED",
            "description": "RDS-managed master credentials",
        },
        {
            "auth_scheme": "SECRETS",
            "secret_arn": app_secret,
            "iam_auth": "DISABLED",
            "description": "The app's least-privileged database user",
        },
    ]
    (role_name,) = [
        n for n, r in dev.resources("aws_iam_role").items() if r["name"] == "awsomeshop-rds-proxy-role-dev"
    ]
    assert proxy["role_arn"] == f"${{aws_iam_role.{role_name}.arn}}"
    trust = json.loads(dev.resources("aws_iam_role")[role_name]["assume_role_policy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "rds.amazonaws.com"}
    (policy,) = [
        p
        for p in dev.resources("aws_iam_role_policy").values()
        if p["role"] == f"${{aws_iam_role.{role_name}.id}}"
    ]
    (statement,) = json.loads(policy["policy"])["Statement"]
    assert statement["Resource"] == [MASTER_SECRET, app_secret]
    (target,) = dev.resources("aws_db_proxy_target").values()
    assert target["db_instance_identifier"] == "${aws_db_instance.database.identifier}"


def _secret(synth: Synth, name: str) -> str:
    (logical_id,) = [n for n, s in synth.resources("aws_secretsmanager_secret").items() if s["name"] == name]
    return logical_id


def test_only_the_first_release_writes_the_app_user_placeholder(
    dev: Synth, dev_config: EnvironmentConfig
) -> None:
    import json as _json

    app_secret = _secret(dev, "awsomeshop-db-app-user-dev")

    def versions(synth: Synth) -> dict[str, dict[str, object]]:
        return {
            n: v
            for n, v in synth.resources("aws_secretsmanager_secret_version").items()
            if app_secret in str(v["secret_id"])
        }

    # The first release (scripts/release.sh sets the bootstrap variable): the user name and no
    # password, so its tasks can start; the migrate task's db_grant_app_user then stores the real
    # password, which Terraform never reads back.
    first = synth(replace(dev_config, bootstrap_app_db_secret=True))
    ((address, version),) = versions(first).items()
    assert address == "data_app_db_secret_placeholder_5FBBE15C"  # the address existing states hold
    assert _json.loads(str(version["secret_string"])) == {"username": "awsomeshop_app", "password": ""}
    assert version["lifecycle"] == {"ignore_changes": ["secret_string"]}
    # Every other configuration has no version at all: no apply can write an empty password
    # back as the current version.
    assert versions(dev) == {}
    assert "awsomeshop_app" not in json.dumps(dev.resources("aws_secretsmanager_secret_version"))


def test_the_bootstrap_variable_comes_from_the_release_not_the_settings_file() -> None:
    from infra_cdktf.config import ConfigurationError, apply_settings, load_environment

    variables = {
        "AWSOMESHOP_IMAGE_TAG": "abc",
        "AWSOMESHOP_ENVIRONMENTS_DIR": str(REPO / "infra_cdktf" / "environments"),
    }
    assert load_environment("dev", variables).bootstrap_app_db_secret is False
    bootstrap = {**variables, "AWSOMESHOP_BOOTSTRAP_APP_DB_SECRET": "1"}
    assert load_environment("dev", bootstrap).bootstrap_app_db_secret is True
    with pytest.raises(ConfigurationError, match="unknown setting"):
        apply_settings(ENVIRONMENTS["dev"], {"local_state": True, "bootstrap_app_db_secret": True})
