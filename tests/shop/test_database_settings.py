"""The database settings the AWS deployment uses: DB_* parts instead of DATABASE_URL, and TLS.

The TLS tests start a throwaway MariaDB server that requires TLS, with a certificate from a CA
made here, and connect to it through the production settings in a separate process, exactly as
a container would.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import environ
import MySQLdb
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from awsomeshop.settings.database import SYSTEM_CA_BUNDLE, database_url, mysql_tls_options

ROOT = Path(__file__).resolve().parents[2]
# Every character a generated password may hold that means something in a URL.
AWKWARD_PASSWORD = "p@ss:w/rd%20?#&=+ x'\""


def test_database_url_wins_over_the_parts() -> None:
    env = {"DATABASE_URL": "postgres://a@b/c", "DB_HOST": "db", "DB_USER": "u", "DB_PASSWORD": "p"}
    assert database_url(env) == "postgres://a@b/c"


def test_parts_compose_a_mysql_url_that_round_trips_any_password() -> None:
    url = database_url({"DB_HOST": "proxy.example", "DB_USER": "admin@x", "DB_PASSWORD": AWKWARD_PASSWORD})
    config = environ.Env.db_url_config(url)
    assert config["ENGINE"] == "django.db.backends.mysql"
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("proxy.example", 3306, "awsomeshop")
    assert config["USER"] == "admin@x"
    assert config["PASSWORD"] == AWKWARD_PASSWORD


def test_parts_take_port_and_name() -> None:
    env = {"DB_HOST": "h", "DB_PORT": "3307", "DB_NAME": "shop", "DB_USER": "u", "DB_PASSWORD": "p"}
    config = environ.Env.db_url_config(database_url(env))
    assert (config["PORT"], config["NAME"]) == (3307, "shop")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "Set DATABASE_URL"),
        ({"DB_HOST": "h", "DB_USER": "u"}, "DB_PASSWORD must be set"),
        ({"DB_HOST": "h"}, "DB_USER and DB_PASSWORD must be set"),
        ({"DB_HOST": "h", "DB_USER": "u", "DB_PASSWORD": "p", "DB_PORT": "x"}, "DB_PORT must be a number"),
    ],
)
def test_incomplete_parts_are_refused_with_a_clear_message(env: dict[str, str], message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        database_url(env)


def test_tls_options() -> None:
    assert mysql_tls_options({}) == {}
    assert mysql_tls_options({"DB_SSL_MODE": "disabled"}) == {}
    assert mysql_tls_options({"DB_SSL_MODE": "REQUIRED"}) == {
        "ssl_mode": "REQUIRED",
        "ssl": {"ca": SYSTEM_CA_BUNDLE},
    }
    assert mysql_tls_options({"DB_SSL_MODE": "verify_identity", "DB_SSL_CA": "/ca.pem"}) == {
        "ssl_mode": "VERIFY_IDENTITY",
        "ssl": {"ca": "/ca.pem"},
    }
    with pytest.raises(ImproperlyConfigured, match="DB_SSL_MODE must be one of"):
        mysql_tls_options({"DB_SSL_MODE": "on"})


# --- A real MariaDB server that requires TLS -------------------------------------------------


@dataclass(frozen=True)
class TlsServer:
    port: int
    ca: Path
    user: str
    password: str


def _write_certificates(directory: Path) -> None:
    now = datetime.datetime.now(datetime.UTC)

    def certificate(
        subject: str, key: rsa.RSAPrivateKey, signer: rsa.RSAPrivateKey, serial: int, ca: bool
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "AWSomeShop test CA")]))
            .public_key(key.public_key())
            .serial_number(serial)
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
        return builder.sign(signer, hashes.SHA256())

    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    server_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = serialization.Encoding.PEM
    (directory / "ca.pem").write_bytes(
        certificate("AWSomeShop test CA", ca_key, ca_key, 1, ca=True).public_bytes(pem)
    )
    (directory / "server.pem").write_bytes(
        certificate("127.0.0.1", server_key, ca_key, 2, ca=False).public_bytes(pem)
    )
    (directory / "server-key.pem").write_bytes(
        server_key.private_bytes(
            pem, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
    )


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsServer]:
    if settings.DATABASES["default"]["ENGINE"] != "shop.db.backends.mysql":
        pytest.skip("MySQL TLS settings: the MariaDB run executes this test")
    server_binary = shutil.which("mariadbd") or shutil.which("mysqld", path="/usr/sbin:/usr/local/sbin")
    install = shutil.which("mariadb-install-db")
    if not server_binary or not install:
        pytest.skip("needs the MariaDB server binaries (mariadbd, mariadb-install-db) to start a TLS server")
    directory = tmp_path_factory.mktemp("tls-mariadb")
    _write_certificates(directory)
    data = directory / "data"
    subprocess.run(
        [
            install,
            "--no-defaults",
            f"--datadir={data}",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            "--user=root",
        ],
        check=True,
        capture_output=True,
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [
            server_binary,
            "--no-defaults",
            f"--datadir={data}",
            "--user=root",
            f"--port={port}",
            "--bind-address=127.0.0.1",
            f"--socket={directory / 'mysqld.sock'}",
            "--skip-log-bin",
            "--innodb-buffer-pool-size=16M",
            f"--ssl-ca={directory / 'ca.pem'}",
            f"--ssl-cert={directory / 'server.pem'}",
            f"--ssl-key={directory / 'server-key.pem'}",
            "--require-secure-transport=ON",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        tls = {"ssl_mode": "REQUIRED", "ssl": {"ca": str(directory / "ca.pem")}}
        deadline = time.monotonic() + 30
        while True:
            try:
                admin = MySQLdb.connect(host="127.0.0.1", port=port, user="root", **tls)
                break
            except MySQLdb.OperationalError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
        cursor = admin.cursor()
        cursor.execute("CREATE DATABASE awsomeshop CHARACTER SET utf8mb4")
        cursor.execute("CREATE USER 'shop'@'127.0.0.1' IDENTIFIED BY %s", (AWKWARD_PASSWORD,))
        cursor.execute("GRANT ALL ON awsomeshop.* TO 'shop'@'127.0.0.1'")
        admin.close()
        yield TlsServer(port=port, ca=directory / "ca.pem", user="shop", password=AWKWARD_PASSWORD)
    finally:
        process.terminate()
        process.wait(timeout=30)


PROBE = """
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
    print(cursor.fetchone()[1])
"""


def _connect_as_the_container_would(server: TlsServer, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DATABASE_URL", "DB_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="awsomeshop.settings.production",
        DJANGO_SECRET_KEY="only-for-this-test",
        DB_HOST="127.0.0.1",
        DB_PORT=str(server.port),
        DB_USER=server.user,
        DB_PASSWORD=server.password,
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


def test_production_settings_connect_over_verified_tls(tls_server: TlsServer) -> None:
    result = _connect_as_the_container_would(tls_server, DB_SSL_MODE="REQUIRED", DB_SSL_CA=str(tls_server.ca))
    assert result.returncode == 0, result.stderr
    cipher = result.stdout.strip()
    assert cipher.startswith("TLS_"), f"connection is not encrypted: Ssl_cipher={cipher!r}"


def test_a_server_certificate_from_an_unknown_ca_is_refused(tls_server: TlsServer) -> None:
    # The system bundle does not hold this test's CA: the client must refuse, not carry on.
    result = _connect_as_the_container_would(tls_server, DB_SSL_MODE="REQUIRED")
    assert result.returncode != 0
    assert "certificate" in result.stderr.lower()


def test_without_tls_settings_the_server_refuses_the_connection(tls_server: TlsServer) -> None:
    # What require_tls on the RDS Proxy guards against: a container missing DB_SSL_MODE.
    result = _connect_as_the_container_would(tls_server)
    assert result.returncode != 0
