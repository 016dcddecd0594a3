"""Where the database settings come from.

Two ways to name the database, checked in this order:

1. ``DATABASE_URL``: ``sqlite:///path``, ``mysql://user:pass@host:3306/name`` or
   ``postgres://...``. Development, tests and most deployments use this.
2. The parts ``DB_ENGINE`` (``mysql``, the default, or ``postgres``), ``DB_HOST``, ``DB_PORT``
   (3306 or 5432 by engine), ``DB_NAME`` (awsomeshop), ``DB_USER`` and ``DB_PASSWORD``. The AWS deployment uses this: RDS keeps the master credentials in
   a Secrets Manager secret that it generates (and may rotate) itself, and ECS injects its
   ``username`` and ``password`` keys as separate variables. Composing a URL in the container
   keeps the password out of Terraform state and out of the task definition.

``DB_SSL_MODE=REQUIRED`` (MySQL only) makes the client use TLS and verify the server against the
CA bundle in ``DB_SSL_CA`` (the system bundle by default: RDS Proxy presents a certificate from a
public CA). MariaDB's client library, which the container image links, falls back to plain text
when the server offers no TLS whatever ``ssl_mode`` says, so the deployment also sets
``require_tls`` on the proxy: a plain-text connection is refused at the server side too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from django.core.exceptions import ImproperlyConfigured

SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
SSL_MODES = {"DISABLED", "PREFERRED", "REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY"}
# DB_ENGINE -> (URL scheme, default port).
ENGINES = {"mysql": ("mysql", "3306"), "postgres": ("postgres", "5432")}


def database_url(environ: Mapping[str, str]) -> str:
    """The database URL named by ``DATABASE_URL`` or composed from the ``DB_*`` parts."""
    url = environ.get("DATABASE_URL", "").strip()
    if url:
        return url
    host = environ.get("DB_HOST", "").strip()
    if not host:
        raise ImproperlyConfigured(
            "Set DATABASE_URL (e.g. mysql://user:password@host:3306/awsomeshop), "
            "or DB_HOST with DB_USER and DB_PASSWORD."
        )
    missing = [name for name in ("DB_USER", "DB_PASSWORD") if not environ.get(name)]
    if missing:
        raise ImproperlyConfigured(f"DB_HOST is set, so {' and '.join(missing)} must be set too.")
    engine = environ.get("DB_ENGINE", "").strip().lower() or "mysql"
    if engine not in ENGINES:
        raise ImproperlyConfigured(f"DB_ENGINE must be one of {sorted(ENGINES)}, not {engine!r}.")
    scheme, default_port = ENGINES[engine]
    port = environ.get("DB_PORT", "").strip() or default_port
    if not port.isdigit():
        raise ImproperlyConfigured(f"DB_PORT must be a number, not {port!r}.")
    name = environ.get("DB_NAME", "").strip() or "awsomeshop"
    # Generated passwords contain any printable character; quote them so ':' '@' '/' '%' survive.
    user = quote(environ["DB_USER"], safe="")
    password = quote(environ["DB_PASSWORD"], safe="")
    return f"{scheme}://{user}:{password}@{host}:{port}/{quote(name, safe='')}"


def postgres_tls_options(environ: Mapping[str, str]) -> dict[str, Any]:
    """Connection OPTIONS for TLS to PostgreSQL from the same ``DB_SSL_MODE``/``DB_SSL_CA``.

    ``REQUIRED`` and stricter verify the server's certificate and name against the CA bundle
    (``verify-full``): RDS Proxy presents a certificate from a public CA.
    """
    mode = environ.get("DB_SSL_MODE", "").strip().upper()
    if not mode or mode == "DISABLED":
        return {}
    if mode not in SSL_MODES:
        raise ImproperlyConfigured(f"DB_SSL_MODE must be one of {sorted(SSL_MODES)}, not {mode!r}.")
    if mode == "PREFERRED":
        return {"sslmode": "prefer"}
    return {"sslmode": "verify-full", "sslrootcert": environ.get("DB_SSL_CA", "").strip() or SYSTEM_CA_BUNDLE}


def mysql_tls_options(environ: Mapping[str, str]) -> dict[str, Any]:
    """Connection OPTIONS for TLS to MySQL, from ``DB_SSL_MODE`` and ``DB_SSL_CA``."""
    mode = environ.get("DB_SSL_MODE", "").strip().upper()
    if not mode or mode == "DISABLED":
        return {}
    if mode not in SSL_MODES:
        raise ImproperlyConfigured(f"DB_SSL_MODE must be one of {sorted(SSL_MODES)}, not {mode!r}.")
    if mode == "PREFERRED":
        return {"ssl_mode": mode}
    # Passing a CA is what makes MariaDB's client library start TLS at all.
    return {"ssl_mode": mode, "ssl": {"ca": environ.get("DB_SSL_CA", "").strip() or SYSTEM_CA_BUNDLE}}


# RDS Proxy closes a client connection idle for longer than its idle_client_timeout (the
# deployment sets 1800 s); a worker's persistent connection is retired well before that.
DEFAULT_CONN_MAX_AGE = 300
MAX_CONN_MAX_AGE = 1800


def connection_persistence(environ: Mapping[str, str]) -> dict[str, Any]:
    """``CONN_MAX_AGE`` and ``CONN_HEALTH_CHECKS`` from ``DB_CONN_MAX_AGE`` and ``DB_CONN_HEALTH_CHECKS``.

    Each worker (each thread, were threaded workers used) keeps one connection for up to DB_CONN_MAX_AGE
    seconds instead of connecting per request: behind RDS Proxy that saves a TLS handshake,
    the login and Django's session set-up on every request, and the proxy lends the database
    connection behind it to other clients between transactions. DB_CONN_HEALTH_CHECKS (on by
    default) pings a reused connection once per request before using it, so a connection the
    proxy or a database failover closed is replaced instead of failing that request; one that
    answered a statement within the last second is not pinged (shop.db.backends:
    ANSWERED_RECENTLY_SECONDS). 0 turns persistence off; values above the proxy's idle timeout
    are refused.
    """
    raw = environ.get("DB_CONN_MAX_AGE", "").strip()
    age = DEFAULT_CONN_MAX_AGE
    if raw:
        if not raw.isdigit() or int(raw) > MAX_CONN_MAX_AGE:
            raise ImproperlyConfigured(
                f"DB_CONN_MAX_AGE must be a whole number of seconds from 0 to {MAX_CONN_MAX_AGE}, not {raw!r}."
            )
        age = int(raw)
    checks = environ.get("DB_CONN_HEALTH_CHECKS", "").strip().lower()
    if checks not in ("", "true", "false", "1", "0"):
        raise ImproperlyConfigured(f"DB_CONN_HEALTH_CHECKS must be true or false, not {checks!r}.")
    return {"CONN_MAX_AGE": age, "CONN_HEALTH_CHECKS": checks not in ("false", "0")}


def _seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number of seconds, not {raw!r}.") from None
    if value < 0:
        raise ImproperlyConfigured(f"{name} must not be negative.")
    return value


def database_timeouts(environ: Mapping[str, str]) -> dict[str, float]:
    """How long any one wait on the database may last, in seconds (0 means no limit).

    A database that stops answering without closing the connection (a failover in progress,
    a partition, a hung proxy) would otherwise hold a worker until gunicorn kills it. With
    these, every API call ends within ``connect + read`` seconds (8 by default) with a 503.
    """
    return {
        "connect": _seconds(environ, "DB_CONNECT_TIMEOUT", 3) or 3,
        "read": _seconds(environ, "DB_READ_TIMEOUT", 5),
        "write": _seconds(environ, "DB_WRITE_TIMEOUT", 5),
        # Just under the read timeout, so that a slow statement is cancelled by the server
        # (the connection stays usable) before the client gives up on the connection.
        "statement": _seconds(environ, "DB_STATEMENT_TIMEOUT", 4),
    }


def mysql_timeout_options(environ: Mapping[str, str]) -> dict[str, Any]:
    """mysqlclient's socket timeouts: connect, and every read and write after it."""
    timeouts = database_timeouts(environ)
    options: dict[str, Any] = {"connect_timeout": max(1, round(timeouts["connect"]))}
    for name in ("read", "write"):
        if timeouts[name]:
            options[f"{name}_timeout"] = max(1, round(timeouts[name]))
    return options


def postgres_timeout_options(environ: Mapping[str, str]) -> dict[str, Any]:
    """libpq's connect timeout and TCP keepalives, and a server-side statement timeout.

    The client-side wait for each answer (``DB_READ_TIMEOUT``) is enforced by the
    ``shop.db.backends.postgresql`` engine: libpq itself has no read timeout, and keepalives
    only notice a dead peer, not a live one that stopped answering.
    """
    timeouts = database_timeouts(environ)
    options: dict[str, Any] = {
        "connect_timeout": max(1, round(timeouts["connect"])),
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 5,
        "keepalives_count": 3,
    }
    if timeouts["read"]:
        # Unacknowledged data for this long means the peer is gone (Linux).
        options["tcp_user_timeout"] = round(timeouts["read"] * 1000)
    if timeouts["statement"]:
        options["options"] = f"-c statement_timeout={round(timeouts['statement'] * 1000)}"
    return options
