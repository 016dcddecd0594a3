"""DB_ENGINE: the AWS deployment's DB_* parts name PostgreSQL as well as MySQL.

The connection tests start the production settings in a separate process, as a container
would, against the PostgreSQL server the suite already uses.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import environ
import pytest
from django.core.exceptions import ImproperlyConfigured

from awsomeshop.settings.database import SYSTEM_CA_BUNDLE, database_url, postgres_tls_options

ROOT = Path(__file__).resolve().parents[2]
PARTS = {"DB_HOST": "proxy.example", "DB_USER": "u", "DB_PASSWORD": "p:@/%"}


def test_postgres_parts_compose_a_postgres_url_on_5432() -> None:
    config = environ.Env.db_url_config(database_url({**PARTS, "DB_ENGINE": "postgres"}))
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("proxy.example", 5432, "awsomeshop")
    assert config["PASSWORD"] == "p:@/%"


def test_engine_defaults_to_mysql_and_unknown_engines_are_refused() -> None:
    assert database_url(PARTS).startswith("mysql://")
    assert database_url({**PARTS, "DB_ENGINE": "MySQL"}).startswith("mysql://")
    with pytest.raises(ImproperlyConfigured, match="DB_ENGINE must be one of"):
        database_url({**PARTS, "DB_ENGINE": "oracle"})


def test_postgres_tls_options() -> None:
    assert postgres_tls_options({}) == {}
    assert postgres_tls_options({"DB_SSL_MODE": "disabled"}) == {}
    assert postgres_tls_options({"DB_SSL_MODE": "preferred"}) == {"sslmode": "prefer"}
    assert postgres_tls_options({"DB_SSL_MODE": "REQUIRED"}) == {
        "sslmode": "verify-full",
        "sslrootcert": SYSTEM_CA_BUNDLE,
    }
    assert (
        postgres_tls_options({"DB_SSL_MODE": "REQUIRED", "DB_SSL_CA": "/ca.pem"})["sslrootcert"] == "/ca.pem"
    )
    with pytest.raises(ImproperlyConfigured):
        postgres_tls_options({"DB_SSL_MODE": "sometimes"})


PROBE = """
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("SELECT 1")
print(connection.vendor)
"""


def _postgres_server() -> tuple[str, str, str, str]:
    url = urlsplit(os.environ.get("POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    return url.hostname or "127.0.0.1", str(url.port or 5432), url.username or "postgres", url.password or "x"


def _connect_as_the_container_would(**extra: str) -> subprocess.CompletedProcess[str]:
    host, port, user, password = _postgres_server()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DATABASE_URL", "DB_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="awsomeshop.settings.production",
        DJANGO_SECRET_KEY="only-for-this-test",
        DB_ENGINE="postgres",
        DB_HOST=host,
        DB_PORT=port,
        DB_NAME="postgres",
        DB_USER=user,
        DB_PASSWORD=password,
        **extra,
    )
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_settings_reach_postgresql_by_parts() -> None:
    result = _connect_as_the_container_would()
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "postgresql"


def test_required_tls_is_not_silently_dropped() -> None:
    # The test server speaks no TLS (or has no certificate from the system CAs): with TLS
    # required the client must refuse to connect rather than fall back to plain text.
    result = _connect_as_the_container_would(DB_SSL_MODE="REQUIRED")
    assert result.returncode != 0
    assert "ssl" in result.stderr.lower() or "certificate" in result.stderr.lower()
