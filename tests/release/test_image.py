"""The image's runtime settings that can be checked without a container engine: the pinned base,
gunicorn's configuration as the image's CMD resolves it, and the JSON access log of a real
gunicorn started with that CMD."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def _cmd() -> list[str]:
    (cmd,) = re.findall(r"^CMD (\[.+\])$", DOCKERFILE, flags=re.MULTILINE)
    return list(json.loads(cmd))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_base_image_is_pinned_by_digest() -> None:
    (base,) = re.findall(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE, flags=re.MULTILINE)
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm@sha256:[0-9a-f]{64}", base), base
    froms = re.findall(r"^FROM (.+)$", DOCKERFILE, flags=re.MULTILINE)
    assert froms == ["${PYTHON_IMAGE} AS build", "${PYTHON_IMAGE}"]


def test_gunicorn_config_of_the_image() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", *_cmd(), "--print-config"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert printed.returncode == 0, printed.stderr
    config = dict(re.findall(r"^(\w+)\s*=\s*(.*)$", printed.stdout, flags=re.MULTILINE))
    # Heartbeats in memory: the root filesystem is read-only in ECS, /tmp is disk-backed.
    assert config["worker_tmp_dir"] == "/dev/shm"
    assert config["accesslog"] == "-"
    assert "JsonAccessLogger" in config["logger_class"]
    # The worker model is the config file's, so every gunicorn started with it runs the same.
    assert config["worker_class"] == "awsomeshop.gunicorn_worker.FrontedWorker"
    assert config["threads"] == "64"


@pytest.fixture
def access_log(tmp_path: Path) -> Any:
    command = _cmd()
    port = _free_port()
    command[command.index("--bind") + 1] = f"127.0.0.1:{port}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "awsomeshop.settings.test",
        "DATABASE_URL": "sqlite:///:memory:",
        "WEB_CONCURRENCY": "1",
    }
    out = (tmp_path / "stdout").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", *command], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            requests.get(f"{base}/healthz", timeout=5)
            break
        except requests.RequestException:  # not listening yet
            if time.monotonic() > deadline or process.poll() is not None:
                pytest.fail("gunicorn did not start with the image's command")
            time.sleep(0.2)

    def lines() -> list[dict[str, Any]]:
        out.flush()
        entries = []
        for line in (tmp_path / "stdout").read_text().splitlines():
            if line.startswith("{") and '"type":"access"' in line:
                entries.append(json.loads(line))
        return entries

    yield base, lines
    process.terminate()
    process.wait(timeout=30)
    out.close()


def test_the_access_log_is_one_json_object_per_request(access_log: Any) -> None:
    base, lines = access_log
    awkward = 'probe "quoted" \\ back\\slash'
    ok = requests.get(
        f"{base}/healthz?probe=1",
        headers={"User-Agent": awkward, "X-Forwarded-For": "203.0.113.9", "X-Request-ID": "req-abc-123"},
        timeout=10,
    )
    missing = requests.get(f"{base}/no/%22such%22/%5Cpage", timeout=10)
    assert (ok.status_code, missing.status_code) == (200, 404)
    deadline = time.monotonic() + 10
    while len(entries := [e for e in lines() if e["path"] != "/healthz" or e["query"]]) < 2:
        assert time.monotonic() < deadline, lines()
        time.sleep(0.1)
    first, second = entries[-2:]
    assert first == {
        **first,
        "method": "GET",
        "path": "/healthz",
        "query": "probe=1",
        "status": 200,
        "user_agent": awkward,
        "x_forwarded_for": "203.0.113.9",
        "remote_addr": "127.0.0.1",
        "request_id": "req-abc-123",
    }
    assert first["bytes"] == len(ok.content) and first["duration_ms"] >= 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", first["time"])
    assert (second["path"], second["status"]) == ('/no/"such"/\\page', 404)
    assert second["request_id"] == missing.headers["X-Request-ID"]
