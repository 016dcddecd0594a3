"""A real gunicorn process loses its database and gets it back, without a restart.

The server talks to MariaDB or PostgreSQL through a TCP proxy the test can cut; every request
goes over a real socket. While the database is away the API answers 503 in the spec's error
shape and /health reports the failing check; once it is back, requests succeed again.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from django.db import connection

from infra_cdktf.config import ENVIRONMENTS
from tests.conftest import token_for
from tests.factories import ProductFactory, UserFactory
from tests.support.markers import requires_server_db
from tests.support.tcp_proxy import TcpProxy, proxy_to_test_database

pytestmark = [requires_server_db, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    proxy = proxy_to_test_database()
    yield proxy
    proxy.stop()


@pytest.fixture
def server(proxy: TcpProxy) -> Iterator[str]:
    settings = connection.settings_dict
    scheme = "mysql" if connection.vendor == "mysql" else "postgres"
    credentials = quote(settings["USER"] or "")
    if settings["PASSWORD"]:
        credentials += ":" + quote(settings["PASSWORD"])
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "awsomeshop.settings.test",
        "DATABASE_URL": f"{scheme}://{credentials}@127.0.0.1:{proxy.port}/{settings['NAME']}",
        "DB_CONNECT_TIMEOUT": "2",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "awsomeshop.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--timeout",
            "30",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.get(f"{base}/health/live", timeout=5)
                break
            except requests.RequestException:  # not listening, or the worker is still booting
                time.sleep(0.2)
        else:
            pytest.fail("gunicorn did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_real_server_answers_503_during_an_outage_and_recovers(server, proxy):
    user = UserFactory(points=1000, cognito_sub="sub-outage")
    product = ProductFactory(points_cost=100, stock=10)
    auth = {"Authorization": f"Bearer {token_for(user)}"}

    assert requests.get(f"{server}/api/v1/me/", headers=auth, timeout=10).status_code == 200

    proxy.stop()
    health = requests.get(f"{server}/health", timeout=10)
    assert health.status_code == 503
    assert health.json()["checks"]["database"]["status"] == "error"
    assert requests.get(f"{server}/health/live", timeout=10).json() == {"status": "ok"}
    # The load balancer's target check (the path the stack configures) stays at 200, so an RDS
    # outage or failover does not make ECS replace every task.
    alb_path = ENVIRONMENTS["prod"].health_check_path
    assert requests.get(f"{server}{alb_path}", timeout=10).status_code == 200
    for response in (
        requests.get(f"{server}/api/v1/products/", headers=auth, timeout=10),
        requests.post(
            f"{server}/api/v1/orders/",
            json={"product_id": str(product.pk)},
            headers={**auth, "Idempotency-Key": "during-outage"},
            timeout=10,
        ),
    ):
        assert response.status_code == 503
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.json()["code"] == "service_unavailable"

    proxy.start()
    assert requests.get(f"{server}/health", timeout=10).status_code == 200
    order = requests.post(
        f"{server}/api/v1/orders/",
        json={"product_id": str(product.pk)},
        headers={**auth, "Idempotency-Key": "after-outage"},
        timeout=10,
    )
    assert order.status_code == 201
    assert order.json()["balance_after"] == 900
