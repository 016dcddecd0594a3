"""gunicorn's JSON access log records the bytes each response really sent, files included.

Static files (whitenoise) and media files (Django's FileResponse) are file responses: given the
server's `wsgi.file_wrapper`, gunicorn's own workers send them with sendfile(), which never adds
to the count its access log reads, so every such line said `"bytes": 0`. The configuration's
post_worker_init serves the application without the wrapper (awsomeshop/gunicorn_config.py);
the fronted worker the configuration picks builds its answers in full as well, so the test also
runs gunicorn's stock workers, as a worker-class override or a benchmark would.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.gunicorn import start_gunicorn


def _access_lines(log: Path) -> list[dict[str, Any]]:
    entries = []
    for line in log.read_text().splitlines():
        if line.startswith("{") and '"type":"access"' in line:
            entries.append(json.loads(line))
    return entries


def _entry_for(log: Path, method: str, path: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        found = [e for e in _access_lines(log) if (e["method"], e["path"]) == (method, path)]
        if found:
            return found[-1]
        assert time.monotonic() < deadline, log.read_text()[-2000:]
        time.sleep(0.1)


@pytest.mark.parametrize("worker_class", [None, "gthread", "sync"], ids=["configured", "gthread", "sync"])
def test_access_log_counts_the_bytes_of_static_and_media_files(
    tmp_path: Path, worker_class: str | None
) -> None:
    media = tmp_path / "media"
    (media / "products").mkdir(parents=True)
    picture = bytes(range(256)) * 40  # 10 KB of every byte value
    (media / "products" / "picture.bin").write_bytes(picture)
    log = tmp_path / "server.log"
    env = {"MEDIA_ROOT": str(media)}
    if worker_class:
        env["GUNICORN_CMD_ARGS"] = f"--worker-class {worker_class}"  # over the configuration file's
    server = start_gunicorn(env, log)
    try:
        static = requests.get(f"{server.url}/static/admin/css/base.css", timeout=10)
        served = requests.get(f"{server.url}/media/products/picture.bin", timeout=10)
        head = requests.head(f"{server.url}/static/admin/css/base.css", timeout=10)
    finally:
        server.stop()

    assert (static.status_code, served.status_code, head.status_code) == (200, 200, 200)
    assert served.content == picture
    assert _entry_for(log, "GET", "/static/admin/css/base.css")["bytes"] == len(static.content) > 0
    assert _entry_for(log, "GET", "/media/products/picture.bin")["bytes"] == len(picture)
    # A HEAD answer carries no body: nothing sent, nothing counted.
    assert _entry_for(log, "HEAD", "/static/admin/css/base.css")["bytes"] == 0
