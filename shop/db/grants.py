"""The app's own database user: data changes on its tables, no DDL, the ledger append-only.

The deployed app does not connect as the database owner. Migrations run as the owner (the RDS
master user) in a one-off task, which then calls `db_app_user_grant` (via `manage.py
db_grant_app_user`) to create or update the app's user with exactly these privileges:

- every table: SELECT, INSERT, UPDATE, DELETE;
- append-only tables (models with ``append_only = True``, i.e. the ledger): SELECT, INSERT;
- ``django_migrations``: SELECT (only the owner migrates);
- nothing else: no CREATE, ALTER, DROP, TRUNCATE, TRIGGER, no privilege on other databases.

Running it again converges on the same state (new tables get their grants, privileges granted
by hand are revoked). On MySQL, where GRANT and REVOKE are not transactional, missing privileges
are granted before extra ones are revoked, so a running app never loses a privilege it needs
during a release. On PostgreSQL it all happens in one transaction.

The password comes from the caller (see `app_user_password`): it never passes through Terraform.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import ClientError
from django.apps import apps
from django.conf import settings
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

logger = logging.getLogger(__name__)

DML = frozenset({"SELECT", "INSERT", "UPDATE", "DELETE"})
APPEND_ONLY = frozenset({"SELECT", "INSERT"})
READ_ONLY = frozenset({"SELECT"})
MIGRATIONS_TABLE = "django_migrations"
# MySQL account host: the app connects through RDS Proxy, whose address is not fixed.
MYSQL_HOST = "%"


class GrantError(Exception):
    """The app user cannot be set up as asked (unsupported engine, bad name)."""


@dataclass(frozen=True)
class GrantResult:
    created: bool
    granted: dict[str, frozenset[str]]
    revoked: dict[str, frozenset[str]]


def _append_only_tables() -> set[str]:
    return {m._meta.db_table for m in apps.get_models() if getattr(m, "append_only", False)}


def app_user_privileges(*, tables: list[str]) -> dict[str, frozenset[str]]:
    """The privileges the app user should hold, table by table."""
    append_only = _append_only_tables()
    wanted: dict[str, frozenset[str]] = {}
    for table in tables:
        if table == MIGRATIONS_TABLE:
            wanted[table] = READ_ONLY
        elif table in append_only:
            wanted[table] = APPEND_ONLY
        else:
            wanted[table] = DML
    return wanted


def _check_name(username: str) -> None:
    # Names are interpolated as identifiers (no placeholders for them in GRANT); keep them plain.
    if not username or len(username) > 32 or not all(c.isalnum() or c == "_" for c in username):
        raise GrantError(f"database user name must be 1-32 letters, digits or '_', not {username!r}")


def db_app_user_grant(*, username: str, password: str, using: str = "default") -> GrantResult:
    """Create or update the app's database user and set its privileges; run as the owner."""
    _check_name(username)
    if not password:
        raise GrantError("the app user's password is empty")
    connection = connections[using]
    with connection.cursor() as cursor:
        tables = sorted(connection.introspection.table_names(cursor))
    wanted = app_user_privileges(tables=tables)
    if connection.vendor == "mysql":
        return _mysql(connection, username, password, wanted)
    if connection.vendor == "postgresql":
        return _postgresql(connection, username, password, wanted)
    raise GrantError(f"{connection.vendor} has no database users; nothing to grant")


def _mysql(
    connection: BaseDatabaseWrapper, username: str, password: str, wanted: dict[str, frozenset[str]]
) -> GrantResult:
    qn = connection.ops.quote_name
    database = connection.settings_dict["NAME"]
    # '%%': the cursor formats with %, and '%' is the any-host mask.
    account = f"'{username}'@'{MYSQL_HOST}%'"
    granted: dict[str, frozenset[str]] = {}
    revoked: dict[str, frozenset[str]] = {}
    with connection.cursor() as cursor:

        def run(statement: str, params: list[Any]) -> None:
            # Always with a parameter list, so the driver formats '%%' to '%' consistently.
            cursor.execute(statement, params)

        run("SELECT 1 FROM mysql.user WHERE User = %s AND Host = %s", [username, MYSQL_HOST])
        created = cursor.fetchone() is None
        run(f"CREATE USER IF NOT EXISTS {account} IDENTIFIED BY %s", [password])
        run(f"ALTER USER {account} IDENTIFIED BY %s", [password])
        run(
            "SELECT Table_name, Table_priv FROM mysql.tables_priv WHERE User = %s AND Host = %s AND Db = %s",
            [username, MYSQL_HOST, database],
        )
        held = {
            name: frozenset(p.upper() for p in str(privs).split(",") if p)
            for name, privs in cursor.fetchall()
        }
        # Grant first, revoke after: the app keeps what it needs throughout.
        for table, privileges in wanted.items():
            missing = privileges - held.get(table, frozenset())
            if missing:
                run(f"GRANT {', '.join(sorted(missing))} ON {qn(database)}.{qn(table)} TO {account}", [])
                granted[table] = missing
        for table, privileges in held.items():
            extra = privileges - wanted.get(table, frozenset())
            if extra and table in wanted:
                run(f"REVOKE {', '.join(sorted(extra))} ON {qn(database)}.{qn(table)} FROM {account}", [])
                revoked[table] = extra
        # Database-wide privileges would override the table grants (e.g. a GRANT ALL ON db.*).
        run("SELECT Db FROM mysql.db WHERE User = %s AND Host = %s", [username, MYSQL_HOST])
        for (db,) in cursor.fetchall():
            if str(db).replace("\\_", "_").replace("\\%", "%") == database:
                run(f"REVOKE ALL PRIVILEGES ON {qn(str(db))}.* FROM {account}", [])
                revoked["*"] = frozenset({"ALL"})
    return GrantResult(created=created, granted=granted, revoked=revoked)


def _postgresql(
    connection: BaseDatabaseWrapper, username: str, password: str, wanted: dict[str, frozenset[str]]
) -> GrantResult:
    from psycopg import sql

    qn = connection.ops.quote_name
    role = qn(username)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [username])
        created = cursor.fetchone() is None
        # Utility statements take no parameters; the password goes in as a quoted literal.
        literal = sql.Literal(password).as_string(connection.connection)
        verb = "CREATE" if created else "ALTER"
        cursor.execute(
            f"{verb} ROLE {role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {literal}"
        )
        cursor.execute("SELECT current_database(), current_schema()")
        database, schema = cursor.fetchone()
        cursor.execute(f"GRANT CONNECT ON DATABASE {qn(database)} TO {role}")
        cursor.execute(f"REVOKE CREATE ON SCHEMA {qn(schema)} FROM {role}")
        cursor.execute(f"GRANT USAGE ON SCHEMA {qn(schema)} TO {role}")
        cursor.execute(
            "SELECT table_name, privilege_type FROM information_schema.role_table_grants "
            "WHERE grantee = %s AND table_schema = %s",
            [username, schema],
        )
        held: dict[str, set[str]] = {}
        for table, privilege in cursor.fetchall():
            held.setdefault(table, set()).add(privilege)
        # One transaction: revoking everything and granting the wanted set is seen atomically.
        cursor.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA {qn(schema)} FROM {role}")
        for table, privileges in wanted.items():
            cursor.execute(f"GRANT {', '.join(sorted(privileges))} ON {qn(table)} TO {role}")
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {qn(schema)} TO {role}")
    granted = {t: p - frozenset(held.get(t, set())) for t, p in wanted.items()}
    revoked = {t: frozenset(p) - wanted.get(t, frozenset()) for t, p in held.items()}
    return GrantResult(
        created=created,
        granted={t: p for t, p in granted.items() if p},
        revoked={t: p for t, p in revoked.items() if p},
    )


def _secrets_client() -> Any:
    return boto3.client("secretsmanager", region_name=settings.AWS_REGION)


def _generate_password() -> str:
    # Letters, digits, '-' and '_': valid in MySQL, PostgreSQL, RDS Proxy and a URL unquoted.
    return secrets.token_urlsafe(32)


def app_user_password(*, secret_arn: str, username: str, rotate: bool = False) -> tuple[str, bool]:
    """The app user's password from its Secrets Manager secret, and whether it is new.

    The secret is created empty by the infrastructure (so the password is never in Terraform
    state); the first run generates a password, later runs reuse it. ``rotate`` generates a new
    one. A new password must be stored with `app_user_password_store` once the database has it.
    """
    if not rotate:
        try:
            value = _secrets_client().get_secret_value(SecretId=secret_arn)
        except ClientError as exc:
            # An empty secret has no AWSCURRENT version yet.
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
        else:
            stored = json.loads(value.get("SecretString") or "{}")
            if stored.get("password") and stored.get("username") == username:
                return str(stored["password"]), False
    return _generate_password(), True


def app_user_password_store(*, secret_arn: str, username: str, password: str) -> None:
    """Puts the credentials in the keys ECS, RDS Proxy and the app's rotation follow-up read."""
    _secrets_client().put_secret_value(
        SecretId=secret_arn, SecretString=json.dumps({"username": username, "password": password})
    )
