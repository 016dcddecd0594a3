"""scripts/run.sh (`make run`): it serves on the address it prints, and prints what the README promises."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _stub(path: Path, body: str) -> None:
    path.write_text(body)
    path.chmod(0o755)


def _project(tmp_path: Path) -> Path:
    """A copy of run.sh in an empty project whose setup does nothing; .venv/bin is left to stub."""
    project = tmp_path / "project"
    (project / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "run.sh", project / "scripts" / "run.sh")
    _stub(project / "scripts" / "setup.sh", "#!/bin/sh\nexit 0\n")
    (project / ".venv" / "bin").mkdir(parents=True)
    return project


def _run(tmp_path: Path, **env: str) -> tuple[str, str]:
    """Run the real script with setup, manage.py and gunicorn stubbed; return (output, gunicorn args)."""
    project = _project(tmp_path)
    _stub(project / ".venv" / "bin" / "python", "#!/bin/sh\necho demo-token\n")
    args = tmp_path / "gunicorn.args"
    _stub(project / ".venv" / "bin" / "gunicorn", f'#!/bin/sh\necho "$*" > {args}\n')
    result = subprocess.run(
        ["bash", "scripts/run.sh"],
        cwd=project,
        env={k: v for k, v in {**os.environ, **env}.items() if k not in ("HOST", "PORT") or k in env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout, args.read_text()


@pytest.mark.parametrize(
    ("env", "bind", "printed"),
    [
        ({}, "127.0.0.1:8000", "http://127.0.0.1:8000"),
        ({"PORT": "8123"}, "127.0.0.1:8123", "http://127.0.0.1:8123"),
        ({"HOST": "0.0.0.0"}, "0.0.0.0:8000", "http://127.0.0.1:8000"),
    ],
)
def test_make_run_binds_the_address_it_prints(
    tmp_path: Path, env: dict[str, str], bind: str, printed: str
) -> None:
    output, gunicorn = _run(tmp_path, **env)
    assert f"--bind {bind} " in gunicorn
    urls = set(re.findall(r"https?://[0-9.]+:\d+", output))
    assert urls == {printed}, output


def test_make_run_prints_the_readme_examples(tmp_path: Path) -> None:
    output, _ = _run(tmp_path)
    assert "/api/v1/points/transactions/" in output
    assert "Idempotency-Key: order-" in output and "/api/v1/orders/" in output
    assert "HR_USER_PASSWORD" in output
    readme = (ROOT / "README.md").read_text()
    first_mention = readme.index("create_hr_user")
    assert "HR_USER_PASSWORD" in readme[first_mention : first_mention + 400]
    assert "/api/v1/points/transactions/" in readme.split("## Registering employees")[0]


def test_make_run_starts_the_email_sender_and_stops_it_with_the_server(tmp_path: Path) -> None:
    project = _project(tmp_path)
    sender = tmp_path / "sender"
    # manage.py send_notifications records its arguments and pid, then runs until it is stopped.
    _stub(
        project / ".venv" / "bin" / "python",
        f'#!/bin/sh\nif [ "$2 $3" = "send_notifications --loop" ]; then echo "$*" > {sender}.args; '
        f'echo "$SITE_URL" > {sender}.site; '
        f"echo $$ > {sender}.pid; exec sleep 60; fi\necho demo-token\n",
    )
    # The server runs until the sender has started, then stops (as after Ctrl-C).
    _stub(
        project / ".venv" / "bin" / "gunicorn",
        f"#!/bin/sh\nfor i in $(seq 50); do [ -s {sender}.pid ] && exit 0; sleep 0.1; done\nexit 0\n",
    )
    result = subprocess.run(
        ["bash", "scripts/run.sh"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k not in ("SITE_URL", "HOST", "PORT")},
    )
    assert result.returncode == 0, result.stderr
    assert "E-mail sender: started" in result.stdout
    assert "manage.py send_notifications --loop" in (tmp_path / "sender.args").read_text()
    # Its e-mails link to the server this command started, on whatever port it serves.
    assert (tmp_path / "sender.site").read_text().strip() == "http://127.0.0.1:8000"
    pid = int((tmp_path / "sender.pid").read_text())
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.kill(pid, 9)
        pytest.fail("the e-mail sender kept running after the server stopped")


def test_make_run_prints_the_token_once_as_an_export_line(tmp_path: Path) -> None:
    output, _ = _run(tmp_path)
    # The stub prints "demo-token" for every manage.py call; in the banner it stands for the
    # token (once, on the export line) and the storefront's sign-in link.
    banner = output[output.index("AWSomeShop is starting") : output.index("E-mail sender")]
    assert banner.count("demo-token") == 2
    assert "  export TOKEN=demo-token\n" in output
    assert 'curl -H "Authorization: Bearer $TOKEN"' in output


def test_make_run_on_a_busy_port_says_how_to_choose_another(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        project = _project(tmp_path)
        ran = tmp_path / "setup-ran"
        _stub(project / "scripts" / "setup.sh", f"#!/bin/sh\ntouch {ran}\n")
        _stub(project / ".venv" / "bin" / "python", "#!/bin/sh\necho demo-token\n")
        result = subprocess.run(
            ["bash", "scripts/run.sh"],
            cwd=project,
            env={**os.environ, "PORT": str(port)},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"Port {port} on 127.0.0.1 is already in use" in result.stderr
    assert f"PORT={port + 1} make run" in result.stderr
    assert "demo-token" not in result.stdout  # nothing else was started or printed
    # Not even the setup, which takes minutes on a new machine.
    assert not ran.exists(), "the setup ran before the port was checked"


def test_stopping_make_run_stops_the_server_and_the_sender(tmp_path: Path) -> None:
    import signal

    project = _project(tmp_path)
    pids = tmp_path / "pids"
    _stub(
        project / ".venv" / "bin" / "python",
        f'#!/bin/sh\nif [ "$2 $3" = "send_notifications --loop" ]; then echo $$ >> {pids}; exec sleep 60; fi\necho demo-token\n',
    )
    _stub(project / ".venv" / "bin" / "gunicorn", f"#!/bin/sh\necho $$ >> {pids}\nexec sleep 60\n")
    script = subprocess.Popen(
        ["bash", "scripts/run.sh"],
        cwd=project,
        env={k: v for k, v in os.environ.items() if k not in ("HOST", "PORT")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        if pids.exists() and len(pids.read_text().split()) == 2:
            break
        time.sleep(0.1)
    children = [int(p) for p in pids.read_text().split()]
    script.send_signal(signal.SIGTERM)  # a supervisor, or `timeout`, stopping the command alone
    assert script.wait(timeout=10) != 0
    for pid in children:
        for _ in range(50):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            os.kill(pid, 9)
            pytest.fail(f"process {pid} kept running after make run was stopped")
