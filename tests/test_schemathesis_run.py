"""schemathesis, as an operator runs it: every check and every phase (examples, coverage,
fuzzing and the stateful phase that follows the schema's links) against a real gunicorn
serving a fresh database with demo data. Zero failures allowed; the examples are bounded so
the run stays under a minute.

It runs on SQLite only: what it tests is the HTTP contract (statuses, shapes, limits), and the
database work behind each endpoint is the same ORM code the MariaDB and PostgreSQL suites run,
concurrency and faults included. One engine keeps CI inside its time budget.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from tests.support.gunicorn import ROOT, start_gunicorn

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="the schemathesis run tests the HTTP contract once, on SQLite (see the module docstring)",
)

MAX_EXAMPLES = 4


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_schemathesis_all_checks_all_phases_find_nothing(tmp_path: Path, record_figure) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "awsomeshop.settings.test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'fuzz.sqlite3'}",
    }
    _manage(env, "migrate", "--noinput", "-v0")
    _manage(env, "seed_demo")
    token = _manage(env, "issue_token", "--email", "alice@example.com").splitlines()[-1]
    server = start_gunicorn({"DATABASE_URL": env["DATABASE_URL"]}, tmp_path / "gunicorn.log", workers=2)
    started = time.monotonic()
    try:
        run = subprocess.run(
            [
                str(Path(sys.executable).parent / "schemathesis"),
                "--config-file",
                str(ROOT / "tests" / "schemathesis.toml"),
                "run",
                f"{server.url}/api/schema/",
                "--checks",
                "all",
                "--phases",
                "examples,coverage,fuzzing,stateful",
                "--max-examples",
                str(MAX_EXAMPLES),
                "--seed",
                "1",
                "--generation-deterministic",
                "--workers",
                "2",
                "--header",
                f"Authorization: Bearer {token}",
                "--no-color",
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        server.stop()
    seconds = time.monotonic() - started
    output = run.stdout + run.stderr
    cases = re.search(r"(\d+) generated", output)
    record_figure(
        f"schemathesis, all checks, 4 phases, max {MAX_EXAMPLES} examples: "
        f"{cases.group(1) if cases else '?'} test cases in {seconds:.1f} s, exit {run.returncode}"
    )
    assert run.returncode == 0, output[-6000:]
