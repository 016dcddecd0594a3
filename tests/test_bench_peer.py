"""The FastAPI benchmark peer's runner and pins; the peer itself needs its own virtualenv."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from bench.http.peer import peer_command, peer_ratios

ROOT = Path(__file__).resolve().parents[1]
PEERS = ROOT / "bench" / "peers"


def test_peer_runs_as_many_uvicorn_workers_as_asked_on_the_pinned_cpus() -> None:
    command = peer_command(workers=2, cpus="0", port=8501)
    assert command[:3] == ["taskset", "-c", "0"]
    assert command[command.index("--workers") + 1] == "2"
    assert command[command.index("--port") + 1] == "8501"
    assert "bench.peers.fastapi_peer.app:app" in command
    assert peer_command(workers=1, cpus="", port=8501)[0].endswith(".venv-peer/bin/python")


def test_peer_ratios_put_the_product_over_the_peer() -> None:
    figures = {
        "catalog": {"rps": 500.0, "p99_us": 30_000.0, "server_cpu_us": 2_000.0},
        "peer_catalog": {"rps": 1000.0, "p99_us": 20_000.0, "server_cpu_us": 1_000.0},
        "orders": {"rps": 100.0, "p99_us": 1.0, "server_cpu_us": 1.0},
    }
    assert peer_ratios(figures) == [
        "catalog ÷ FastAPI peer: req/s 50 %, p99 150 %, server CPU per request 200 %"
    ]


def test_peer_requirements_are_pinned_exactly_each_with_its_reason() -> None:
    lines = [
        line for line in (PEERS / "requirements.txt").read_text().splitlines() if line and line[0] != "#"
    ]
    assert lines
    for line in lines:
        assert re.fullmatch(r"[A-Za-z0-9_.-]+==[^\s#]+  # \S.*", line), line
    # --no-deps: exactly the pinned set is installed, nothing a resolver picks on the day.
    assert "--no-deps -r bench/peers/requirements.txt" in (PEERS / "setup.sh").read_text()


def test_nothing_outside_the_benchmarks_imports_the_peer() -> None:
    importers = []
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in {"bench", "tests", "node_modules", "cdktf.out"} or relative.parts[
            0
        ].startswith("."):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            if any(name.startswith("bench") for name in names):
                importers.append(str(relative))
    assert not importers
