"""A rotated RDS master password is followed without a restart (shop.db.backends.mysql).

Real parts: a MariaDB account whose password really changes, and the secret in moto's Secrets
Manager server, reached by the same boto3 call production makes.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import boto3
import MySQLdb
import pytest
from django.db import connection

from infra_cdktf.config import LOGIN_REFUSED_MESSAGE
from shop.db.backends.mysql.base import DatabaseWrapper
from tests.support.cognito import free_port
from tests.support.mysql_accounts import account_name, temporary_account

pytestmark = [
    pytest.mark.skipif(connection.vendor != "mysql", reason="MySQL only: the MariaDB run executes this test"),
    pytest.mark.django_db(transaction=True),
]

USER = account_name("awsomeshop_rotating")
OLD, NEW = "old-Pa55:w@rd", "new-Pa55/w%rd"


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch, settings: Any) -> Iterator[Any]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings.AWS_REGION = "us-east-2"
    yield boto3.client("secretsmanager", region_name="us-east-2")
    server.stop()


@pytest.fixture
def account() -> Iterator[str]:
    with temporary_account(USER, OLD, privileges="SELECT") as user:
        yield user


def _wrapper(password: str, secret_arn: str | None) -> DatabaseWrapper:
    settings_dict = copy.deepcopy(connection.settings_dict)
    settings_dict.update(ENGINE="shop.db.backends.mysql", USER=USER, PASSWORD=password, SECRET_ARN=secret_arn)
    return DatabaseWrapper(settings_dict, alias="rotation")


def _current_user(wrapper: DatabaseWrapper) -> str:
    wrapper.connect()
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT CURRENT_USER()")
            return str(cursor.fetchone()[0])
    finally:
        wrapper.close()


def _rotate(secrets: Any, arn: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER USER '{USER}'@'%%' IDENTIFIED BY %s", [NEW])
    secrets.put_secret_value(SecretId=arn, SecretString=f'{{"username": "{USER}", "password": "{NEW}"}}')


def test_after_a_rotation_new_connections_use_the_password_the_secret_holds(
    secrets: Any, account: str
) -> None:
    arn = secrets.create_secret(
        Name="rds!db-1", SecretString=f'{{"username": "{USER}", "password": "{OLD}"}}'
    )["ARN"]
    wrapper = _wrapper(OLD, arn)
    assert _current_user(wrapper).startswith(USER)

    _rotate(secrets, arn)
    assert _current_user(wrapper).startswith(USER)
    assert wrapper.settings_dict["PASSWORD"] == NEW  # kept: the next connection needs no lookup
    assert _current_user(wrapper).startswith(USER)


def test_without_the_secret_a_rotation_locks_the_process_out(secrets: Any, account: str) -> None:
    arn = secrets.create_secret(
        Name="rds!db-2", SecretString=f'{{"username": "{USER}", "password": "{OLD}"}}'
    )["ARN"]
    _rotate(secrets, arn)
    with pytest.raises(MySQLdb.OperationalError) as refused:
        _current_user(_wrapper(OLD, None))
    assert refused.value.args[0] == 1045


def test_a_wrong_password_that_is_not_a_rotation_is_still_refused(
    secrets: Any, account: str, caplog: pytest.LogCaptureFixture
) -> None:
    arn = secrets.create_secret(
        Name="rds!db-3", SecretString=f'{{"username": "{USER}", "password": "wrong"}}'
    )["ARN"]
    with pytest.raises(MySQLdb.OperationalError) as refused:
        _current_user(_wrapper("wrong", arn))
    assert refused.value.args[0] == 1045
    # The line the release and the login-refused alarm look for (the liveness check cannot see it).
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == [LOGIN_REFUSED_MESSAGE]


def test_a_secret_that_changed_to_a_wrong_password_is_logged_as_refused(
    secrets: Any, account: str, caplog: pytest.LogCaptureFixture
) -> None:
    arn = secrets.create_secret(Name="rds!db-4", SecretString=f'{{"username": "{USER}", "password": ""}}')[
        "ARN"
    ]
    with pytest.raises(MySQLdb.OperationalError) as refused:
        _current_user(_wrapper("stale", arn))
    assert refused.value.args[0] == 1045
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == [LOGIN_REFUSED_MESSAGE]


def test_a_followed_rotation_logs_no_refusal(
    secrets: Any, account: str, caplog: pytest.LogCaptureFixture
) -> None:
    arn = secrets.create_secret(
        Name="rds!db-5", SecretString=f'{{"username": "{USER}", "password": "{OLD}"}}'
    )["ARN"]
    _rotate(secrets, arn)
    assert _current_user(_wrapper(OLD, arn)).startswith(USER)
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
