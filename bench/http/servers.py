"""The servers under test as processes: a free port, started and ready, their CPU time, stopped.

Shared by the product's gunicorn and the FastAPI peer (bench/http/peer.py), so both are started,
timed and stopped the same way. Imports nothing from Django: the peer's runner uses it too.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def launch(
    command: list[str], *, env: dict[str, str], log: Path, port: int, host: str
) -> subprocess.Popen[bytes]:
    """Start `command` in a session of its own and wait until /health/live answers 200 on `port`."""
    proc = subprocess.Popen(
        command,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"The server exited; see {log}:\n{log.read_text()[-3000:]}")
        try:
            ready = urllib.request.Request(f"http://127.0.0.1:{port}/health/live", headers={"Host": host})
            with urllib.request.urlopen(ready, timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.2)
    stop_server(proc)
    raise SystemExit("The server did not answer within 60 s.")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def server_cpu_seconds(proc: subprocess.Popen[bytes]) -> float:
    """User + system CPU time of the server's live processes (master and workers, one session).

    A steadier figure than req/s on a shared machine: what the server itself spent, whatever
    else ran beside it. Workers that exited meanwhile are not counted (none do in a run).
    """
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == proc.pid:  # the session id (start_new_session: the master's pid)
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks
