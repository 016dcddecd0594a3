"""The FastAPI peer under the HTTP benchmark: its scenarios, its server command, its ratios.

The peer (bench/peers/fastapi_peer) is the design documents' architecture built as well as we
can. It runs from its own virtualenv (`bash bench/peers/setup.sh`), with as many uvicorn
workers as the product has gunicorn workers (and the same --cpus pinning), on the same
database, tables, data set and Cognito tokens, driven by the same wrk script.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from bench.http.servers import free_port, launch

ROOT = Path(__file__).resolve().parent.parent.parent
PEER_PYTHON = ROOT / ".venv-peer" / "bin" / "python"
# (peer scenario, the product's scenario it is compared with, the ratio's name)
PAIRS = [
    ("peer_catalog", "catalog", "catalog ÷ FastAPI peer"),
    ("peer_orders", "orders", "orders ÷ FastAPI peer"),
]


def peer_command(*, workers: int, cpus: str, port: int) -> list[str]:
    command = [
        str(PEER_PYTHON),
        "-m",
        "uvicorn",
        "bench.peers.fastapi_peer.app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        # The peer writes its own JSON access log line per request (as the product's gunicorn does).
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    return ["taskset", "-c", cpus, *command] if cpus else command


def start_peer(
    *, workers: int, cpus: str, port: int, log: Path, host: str
) -> tuple[subprocess.Popen[bytes], int]:
    if not PEER_PYTHON.exists():
        raise SystemExit("The FastAPI peer's virtualenv is missing: run bash bench/peers/setup.sh")
    port = port or free_port()
    # The same database as the product (DATABASE_URL) and the COGNITO_* settings local_cognito set.
    env = dict(os.environ, PEER_DATABASE_URL=os.environ["DATABASE_URL"], PYTHONPATH=str(ROOT))
    command = peer_command(workers=workers, cpus=cpus, port=port)
    return launch(command, env=env, log=log, port=port, host=host), port


def peer_ratios(results: dict[str, dict[str, Any]]) -> list[str]:
    """The product against the peer: req/s (above 100 % the product is faster) and p99 (below 100 %)."""
    lines = []
    for peer, ours, name in PAIRS:
        if peer in results and ours in results:
            a, b = results[ours], results[peer]
            lines.append(
                f"{name}: req/s {100 * a['rps'] / b['rps']:.0f} %, p99 {100 * a['p99_us'] / b['p99_us']:.0f} %, "
                f"server CPU per request {100 * a['server_cpu_us'] / b['server_cpu_us']:.0f} %"
            )
    return lines
