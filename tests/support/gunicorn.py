"""A real gunicorn serving the project on a free loopback port, configured by gunicorn.conf.py
as the image is, for tests that need real sockets: limits, shutdown, fault drills."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


# For tests whose point is not overload: a browser test on a busy CI machine must not have a
# page answered "busy" (the worker sheds a request that cannot start within a second,
# awsomeshop/gunicorn_worker.py).
NO_SHEDDING = {"WEB_QUEUE_TIMEOUT": "30"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Gunicorn:
    process: subprocess.Popen[bytes]
    url: str
    port: int
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start_gunicorn(
    env: Mapping[str, str],
    log: Path,
    *,
    workers: int = 1,
    ready_path: str = "/health/live",
    port: int | None = None,
) -> Gunicorn:
    """gunicorn on ``port`` (a free one by default: give one when it must be known beforehand,
    as an identity provider's registered callback needs)."""
    port = port or free_port()
    full_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "awsomeshop.settings.test", **env}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "awsomeshop.wsgi:application",
                "--config",
                "gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
            ],
            cwd=ROOT,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Gunicorn(process=process, url=f"http://127.0.0.1:{port}", port=port, log=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log.read_text()[-2000:]}")
        try:
            requests.get(server.url + ready_path, timeout=5)
            return server
        except requests.RequestException:  # not listening yet, or the worker is still booting
            time.sleep(0.1)
    server.stop()
    raise RuntimeError("gunicorn did not start within 60 s")


def database_url(host: str | None = None, port: int | None = None) -> str:
    """The test database's URL (as a child process needs it), optionally via another address."""
    from urllib.parse import quote

    from django.db import connection

    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        raise RuntimeError("a server process cannot share the in-memory SQLite test database")
    scheme = "mysql" if connection.vendor == "mysql" else "postgres"
    credentials = quote(settings["USER"] or "")
    if settings["PASSWORD"]:
        credentials += ":" + quote(settings["PASSWORD"])
    default_port = 3306 if connection.vendor == "mysql" else 5432
    host = host or settings["HOST"] or "127.0.0.1"
    port = port or int(settings["PORT"] or default_port)
    return f"{scheme}://{credentials}@{host}:{port}/{settings['NAME']}"
