"""Database engines: RDS MySQL 8.4 (default), RDS PostgreSQL and Aurora PostgreSQL from config."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from infra_helpers import Synth

from infra_cdktf.config import ENVIRONMENTS
from infra_cdktf.engines import ENGINES


def _env(synth: Synth, family: str) -> dict[str, str]:
    (task,) = [t for t in synth.resources("aws_ecs_task_definition").values() if t["family"] == family]
    (container,) = json.loads(task["container_definitions"])
    return {item["name"]: item["value"] for item in container["environment"]}


def _parameters(group: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p["value"] for p in group["parameter"]}


def test_mysql_84_without_extended_support(dev: Synth, prod: Synth) -> None:
    for synth in (dev, prod):
        db = synth.resources("aws_db_instance")["database"]
        assert (db["engine"], db["engine_version"]) == ("mysql", "8.4")
        # 8.0 left RDS standard support on 2026-07-31; Extended Support would bill per vCPU-hour.
        assert db["engine_lifecycle_support"] == "open-source-rds-extended-support-disabled"
        assert db["allow_major_version_upgrade"] is True
        # RDS MySQL has no Performance Insights on db.t3.micro.
        assert db["performance_insights_enabled"] is False


def test_mysql_parameter_group_requires_tls_and_logs_slow_queries(dev: Synth) -> None:
    (name, group) = next(iter(dev.resources("aws_db_parameter_group").items()))
    assert (group["family"], group["name"]) == ("mysql8.4", "awsomeshop-mysql8-4-dev")
    assert group["lifecycle"] == {"create_before_destroy": True}
    assert _parameters(group) == {
        "log_bin_trust_function_creators": "1",
        "require_secure_transport": "1",
        "slow_query_log": "1",
        "long_query_time": "1",
        "log_output": "FILE",
    }
    assert dev.resources("aws_db_instance")["database"]["parameter_group_name"] == (
        f"${{aws_db_parameter_group.{name}.name}}"
    )


def test_rds_export_log_groups_are_managed_with_retention_before_the_instance(dev: Synth) -> None:
    db = dev.resources("aws_db_instance")["database"]
    assert db["enabled_cloudwatch_logs_exports"] == ["error", "slowquery"]
    groups = {
        n: g
        for n, g in dev.resources("aws_cloudwatch_log_group").items()
        if g["name"].startswith("/aws/rds/")
    }
    assert {g["name"]: g["retention_in_days"] for g in groups.values()} == {
        "/aws/rds/instance/awsomeshop-db-dev/error": 30,
        "/aws/rds/instance/awsomeshop-db-dev/slowquery": 30,
    }
    assert set(db["depends_on"]) == {f"aws_cloudwatch_log_group.{n}" for n in groups}


def test_postgres_option(postgres: Synth) -> None:
    db = postgres.resources("aws_db_instance")["database"]
    assert (db["engine"], db["engine_version"], db["multi_az"]) == ("postgres", "16", True)
    assert (db["performance_insights_enabled"], db["performance_insights_retention_period"]) == (True, 7)
    assert db["enabled_cloudwatch_logs_exports"] == ["postgresql", "upgrade"]
    (group,) = postgres.resources("aws_db_parameter_group").values()
    assert group["family"] == "postgres16"
    assert _parameters(group) == {"rds.force_ssl": "1", "log_min_duration_statement": "1000"}
    (proxy,) = postgres.resources("aws_db_proxy").values()
    assert proxy["engine_family"] == "POSTGRESQL" and proxy["require_tls"] is True
    env = _env(postgres, "awsomeshop-core-task-prod")
    assert (env["DB_ENGINE"], env["DB_PORT"], env["DB_SSL_MODE"]) == ("postgres", "5432", "REQUIRED")
    ports = {r["from_port"] for r in postgres.resources("aws_vpc_security_group_ingress_rule").values()}
    assert 5432 in ports and 3306 not in ports
    alarms = {a["alarm_name"] for a in postgres.resources("aws_cloudwatch_metric_alarm").values()}
    assert {"awsomeshop-rds-cpu-high-prod", "awsomeshop-rds-free-storage-low-prod"} <= alarms


def test_aurora_postgres_option(aurora: Synth) -> None:
    assert not aurora.resources("aws_db_instance")
    cluster = aurora.resources("aws_rds_cluster")["database"]
    assert (cluster["engine"], cluster["engine_version"]) == ("aurora-postgresql", "16.4")
    assert cluster["manage_master_user_password"] is True and cluster["storage_encrypted"] is True
    assert cluster["engine_lifecycle_support"] == "open-source-rds-extended-support-disabled"
    (group,) = aurora.resources("aws_rds_cluster_parameter_group").values()
    assert group["family"] == "aurora-postgresql16"
    assert _parameters(group)["rds.force_ssl"] == "1"
    instances = list(aurora.resources("aws_rds_cluster_instance").values())
    assert len(instances) == 2  # Multi-AZ: the writer and a reader Aurora promotes on failover
    assert {i["instance_class"] for i in instances} == {"db.t4g.medium"}
    assert all(i["performance_insights_enabled"] is True for i in instances)
    (target,) = aurora.resources("aws_db_proxy_target").values()
    assert target["db_cluster_identifier"] == "${aws_rds_cluster.database.cluster_identifier}"
    assert "db_instance_identifier" not in target
    (proxy,) = aurora.resources("aws_db_proxy").values()
    assert proxy["auth"][0]["secret_arn"] == "${aws_rds_cluster.database.master_user_secret[0].secret_arn}"
    alarms = {a["alarm_name"]: a for a in aurora.resources("aws_cloudwatch_metric_alarm").values()}
    assert alarms["awsomeshop-rds-cpu-high-prod"]["dimensions"] == {
        "DBClusterIdentifier": "${aws_rds_cluster.database.cluster_identifier}"
    }
    # Aurora storage grows by itself.
    assert "awsomeshop-rds-free-storage-low-prod" not in alarms
    logs = {g["name"] for g in aurora.resources("aws_cloudwatch_log_group").values()}
    assert "/aws/rds/cluster/awsomeshop-db-prod/postgresql" in logs


def test_unknown_engine_is_refused() -> None:
    with pytest.raises(ValueError, match="db_engine must be one of"):
        replace(ENVIRONMENTS["dev"], db_engine="oracle")
    assert set(ENGINES) == {"mysql", "postgres", "aurora-postgresql"}


@pytest.mark.parametrize(
    ("fixture", "owner"),
    [("prod", "aws_db_instance"), ("postgres", "aws_db_instance"), ("aurora", "aws_rds_cluster")],
)
def test_every_engine_serves_the_web_tasks_as_the_least_privileged_app_user(
    fixture: str, owner: str, request: pytest.FixtureRequest
) -> None:
    synth: Synth = request.getfixturevalue(fixture)
    master = f"${{{owner}.database.master_user_secret[0].secret_arn}}"
    (secret_id,) = [
        n
        for n, s in synth.resources("aws_secretsmanager_secret").items()
        if s["name"] == "awsomeshop-db-app-user-prod"
    ]
    app = f"${{aws_secretsmanager_secret.{secret_id}.arn}}"
    # Terraform writes no value into it after the first release (test_data.py).
    assert not [
        v
        for v in synth.resources("aws_secretsmanager_secret_version").values()
        if v["secret_id"] == f"${{aws_secretsmanager_secret.{secret_id}.id}}"
    ]
    # The proxy logs in with either user's secret, and its role may read exactly those two.
    (proxy,) = synth.resources("aws_db_proxy").values()
    assert [(a["secret_arn"], a["auth_scheme"]) for a in proxy["auth"]] == [
        (master, "SECRETS"),
        (app, "SECRETS"),
    ]
    role = proxy["role_arn"].removeprefix("${aws_iam_role.").removesuffix(".arn}")
    (policy,) = [
        p
        for p in synth.resources("aws_iam_role_policy").values()
        if p["role"] == f"${{aws_iam_role.{role}.id}}"
    ]
    (statement,) = json.loads(policy["policy"])["Statement"]
    assert statement["Resource"] == [master, app]

    def secrets(family: str) -> dict[str, str]:
        (task,) = [t for t in synth.resources("aws_ecs_task_definition").values() if t["family"] == family]
        (container,) = json.loads(task["container_definitions"])
        return {s["name"]: s["valueFrom"] for s in container["secrets"]}

    web = secrets("awsomeshop-core-task-prod")
    assert (web["DB_USER"], web["DB_PASSWORD"]) == (f"{app}:username::", f"{app}:password::")
    assert _env(synth, "awsomeshop-core-task-prod")["DB_SECRET_ARN"] == app
    # The owner migrates, then creates the app user and stores its password in the app secret.
    migrate = secrets("awsomeshop-migrate-task-prod")
    assert (migrate["DB_USER"], migrate["DB_PASSWORD"]) == (f"{master}:username::", f"{master}:password::")
    migrate_env = _env(synth, "awsomeshop-migrate-task-prod")
    assert (migrate_env["DB_SECRET_ARN"], migrate_env["DB_APP_SECRET_ARN"]) == (master, app)


def test_the_application_dashboard_shows_the_database_of_every_engine(prod: Synth, aurora: Synth) -> None:
    # Aurora has no single instance: its connections are the cluster's.
    for synth, dimension in (
        (prod, ["DBInstanceIdentifier", "${aws_db_instance.database.identifier}"]),
        (aurora, ["DBClusterIdentifier", "${aws_rds_cluster.database.cluster_identifier}"]),
    ):
        (dashboard,) = [
            d
            for d in synth.resources("aws_cloudwatch_dashboard").values()
            if d["dashboard_name"] == "awsomeshop-application-prod"
        ]
        body = json.loads(dashboard["dashboard_body"])
        (rds,) = [m for w in body["widgets"] for m in w["properties"]["metrics"] if m[0] == "AWS/RDS"]
        assert rds[1:4] == ["DatabaseConnections", *dimension]
