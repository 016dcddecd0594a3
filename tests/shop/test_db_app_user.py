"""The app's own database user (manage.py db_grant_app_user), on MariaDB and PostgreSQL.

Real parts: the user is created by the command on the test server, and the shop then really runs
connected as it: an order, a grant, the cache table, sessions and the admin's login lockout all
work, while the ledger's history and the schema are out of its reach. The password's secret is
in moto's Secrets Manager server, reached by the same boto3 calls the deployment makes.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import caches
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client

from orders.models import Order
from orders.services import order_place
from points.models import PointsAccount, PointsTransaction
from points.services.grants import points_grant
from shop.db.grants import db_app_user_grant
from shop.models import User
from tests.support.cognito import free_port
from tests.support.mysql_accounts import account_name

pytestmark = [
    pytest.mark.skipif(
        connection.vendor == "sqlite",
        reason="SQLite has no database users; the MariaDB and PostgreSQL runs execute this test",
    ),
    pytest.mark.django_db(transaction=True),
]

APP_USER = account_name("aws_app")
PASSWORD = "app-Pa55word-for-tests"
LEDGER = PointsTransaction._meta.db_table
HR_PASSWORD = "hr-Secret-Passw0rd"
# MySQL: "command denied"; PostgreSQL: "permission denied" or "must be owner".
REFUSED = r"(?i)denied|must be owner"


def _drop_app_user() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "mysql":
            cursor.execute(f"DROP USER IF EXISTS '{APP_USER}'@'%%'", [])
        else:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [APP_USER])
            if cursor.fetchone():
                cursor.execute(f'DROP OWNED BY "{APP_USER}"')
                cursor.execute(f'DROP ROLE "{APP_USER}"')


@pytest.fixture
def app_user(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Created by the command itself, with the password from DB_APP_PASSWORD."""
    _drop_app_user()
    monkeypatch.setenv("DB_APP_PASSWORD", PASSWORD)
    monkeypatch.delenv("DB_APP_SECRET_ARN", raising=False)
    call_command("db_grant_app_user", "--username", APP_USER, stdout=None)
    try:
        yield APP_USER
    finally:
        connection.close()
        _drop_app_user()


@contextmanager
def connected_as(user: str, password: str) -> Iterator[None]:
    """The default connection, logged in as another database user, as the deployed app is."""
    settings_dict = connection.settings_dict
    saved = settings_dict["USER"], settings_dict["PASSWORD"]
    connection.close()
    settings_dict["USER"], settings_dict["PASSWORD"] = user, password
    try:
        yield
    finally:
        connection.close()
        settings_dict["USER"], settings_dict["PASSWORD"] = saved


def _current_user() -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT CURRENT_USER" if connection.vendor == "postgresql" else "SELECT CURRENT_USER()"
        )
        return str(cursor.fetchone()[0])


def _refused(statement: str) -> None:
    with pytest.raises(DatabaseError, match=REFUSED), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)


def test_the_app_user_runs_the_shop_but_cannot_rewrite_the_ledger_or_change_the_schema(
    app_user: str, make_user: Callable[..., User], product: Any, settings: Any
) -> None:
    employee = make_user(points=1000)
    make_user(email="hr@example.com", password=HR_PASSWORD, is_staff=True, is_superuser=True)
    settings.CACHES = {
        "default": {"BACKEND": "shop.db.cache.LockingDatabaseCache", "LOCATION": "awsomeshop_cache"}
    }
    caches["default"].clear()

    with connected_as(app_user, PASSWORD):
        assert _current_user().split("@")[0] == app_user

        order = order_place(user=employee, product_id=product.pk, quantity=2)
        points_grant(user=employee, amount=50, reason="Spot award")
        assert PointsAccount.objects.get(pk=employee.pk).balance == 1000 - 2 * product.points_cost + 50

        cache = caches["default"]
        cache.set("probe", 1, 60)
        assert cache.incr("probe") == 2
        cache.delete("probe")
        assert cache.get("probe") is None

        session = SessionStore()
        session["probe"] = "yes"
        session.create()
        assert SessionStore(session_key=session.session_key).load() == {"probe": "yes"}
        session.delete()

        # django-axes records the failure, then the successful login clears it (a DELETE),
        # writes the session and updates last_login; the dashboard reads across every app.
        client = Client()
        login = {"username": "hr@example.com", "next": "/admin/"}
        assert client.post("/admin/login/", {**login, "password": "wrong"}).status_code == 200
        assert client.post("/admin/login/", {**login, "password": HR_PASSWORD}).status_code == 302
        assert client.get("/admin/").status_code == 200

        for statement in (
            f"UPDATE {LEDGER} SET amount = amount + 1",
            f"DELETE FROM {LEDGER}",
            f"TRUNCATE TABLE {LEDGER}",
            "CREATE TABLE rewritten_history (id integer)",
            f"ALTER TABLE {LEDGER} ADD COLUMN note varchar(10)",
            "DROP TABLE awsomeshop_cache",
            "UPDATE django_migrations SET app = 'x'",
        ):
            _refused(statement)

    assert Order.objects.get(pk=order.pk).points_used == 2 * product.points_cost
    call_command("check_ledger")


def _privileges(user: str) -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        if connection.vendor == "mysql":
            cursor.execute(
                "SELECT Table_name, Table_priv FROM mysql.tables_priv WHERE User = %s AND Db = %s",
                [user, connection.settings_dict["NAME"]],
            )
            return {(t, p.upper()) for t, privs in cursor.fetchall() for p in privs.split(",") if p}
        cursor.execute(
            "SELECT table_name, privilege_type FROM information_schema.role_table_grants WHERE grantee = %s",
            [user],
        )
        return {(t, p) for t, p in cursor.fetchall()}


def test_running_it_again_changes_nothing_and_takes_back_privileges_granted_by_hand(app_user: str) -> None:
    before = _privileges(app_user)
    assert (LEDGER, "INSERT") in before and (LEDGER, "DELETE") not in before
    assert ("django_session", "DELETE") in before

    again = db_app_user_grant(username=app_user, password=PASSWORD)
    assert (again.created, again.granted, again.revoked) == (False, {}, {})
    assert _privileges(app_user) == before

    with connection.cursor() as cursor:
        host = "@'%%'" if connection.vendor == "mysql" else ""
        cursor.execute(f"GRANT UPDATE, DELETE ON {LEDGER} TO {connection.ops.quote_name(app_user)}{host}", [])
    assert (LEDGER, "DELETE") in _privileges(app_user)

    repaired = db_app_user_grant(username=app_user, password=PASSWORD)
    assert repaired.revoked == {LEDGER: frozenset({"UPDATE", "DELETE"})}
    assert _privileges(app_user) == before
    with connected_as(app_user, PASSWORD):
        _refused(f"DELETE FROM {LEDGER}")


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch, settings: Any) -> Iterator[Any]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("DB_APP_PASSWORD", raising=False)
    settings.AWS_REGION = "us-east-2"
    yield boto3.client("secretsmanager", region_name="us-east-2")
    server.stop()


def _stored(secrets: Any, arn: str) -> dict[str, str]:
    return dict(json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"]))


def _rotation_following_wrapper(password: str, secret_arn: str) -> Any:
    from shop.db.backends.mysql.base import DatabaseWrapper

    settings_dict = copy.deepcopy(connection.settings_dict)
    settings_dict.update(
        ENGINE="shop.db.backends.mysql", USER=APP_USER, PASSWORD=password, SECRET_ARN=secret_arn
    )
    return DatabaseWrapper(settings_dict, alias="app-user-rotation")


def test_the_password_is_generated_into_the_empty_secret_kept_and_rotated(secrets: Any) -> None:
    # As the infrastructure creates it: a secret with no value, so no password in its state.
    arn = secrets.create_secret(Name=f"{APP_USER}-db-app-user")["ARN"]
    _drop_app_user()
    try:
        call_command("db_grant_app_user", "--username", APP_USER, "--secret-arn", arn, stdout=None)
        first = _stored(secrets, arn)
        assert first["username"] == APP_USER and len(first["password"]) >= 32

        call_command("db_grant_app_user", "--username", APP_USER, "--secret-arn", arn, stdout=None)
        assert _stored(secrets, arn) == first  # the next release keeps the password

        with connected_as(APP_USER, first["password"]):
            assert _current_user().split("@")[0] == APP_USER

        call_command(
            "db_grant_app_user", "--username", APP_USER, "--secret-arn", arn, "--rotate-password", stdout=None
        )
        rotated = _stored(secrets, arn)
        assert rotated["password"] != first["password"]
        with connected_as(APP_USER, rotated["password"]):
            assert _current_user().split("@")[0] == APP_USER
        if connection.vendor == "mysql":  # the PostgreSQL server here trusts local logins
            with pytest.raises(DatabaseError), connected_as(APP_USER, first["password"]):
                _current_user()
            # A web task started before the rotation holds the old password; with the secret
            # named (DB_SECRET_ARN), its next connection follows (shop.db.backends.mysql).
            started_before = _rotation_following_wrapper(first["password"], arn)
            started_before.connect()
            try:
                with started_before.cursor() as cursor:
                    cursor.execute("SELECT CURRENT_USER()")
                    assert str(cursor.fetchone()[0]).split("@")[0] == APP_USER
            finally:
                started_before.close()
            assert started_before.settings_dict["PASSWORD"] == rotated["password"]
    finally:
        connection.close()
        _drop_app_user()
