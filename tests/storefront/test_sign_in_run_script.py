"""`make run` prints the storefront's address and a one-time sign-in link for the demo employee."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _stub(path: Path, body: str) -> None:
    path.write_text(body)
    path.chmod(0o755)


def test_make_run_prints_the_storefront_and_a_sign_in_link_for_the_printed_address(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "run.sh", project / "scripts" / "run.sh")
    _stub(project / "scripts" / "setup.sh", "#!/bin/sh\nexit 0\n")
    (project / ".venv" / "bin").mkdir(parents=True)
    # manage.py stands in for itself: the link command answers with the arguments it was given,
    # a sending pass with an e-mail of the demo data.
    python = (
        '#!/bin/sh\ncase "$*" in *storefront_login_url*) echo "LINK[$*]";;'
        ' *"send_notifications --batch-size"*) echo "Subject: You received 5,000 points";;'
        " *) echo demo-token;; esac\n"
    )
    _stub(project / ".venv" / "bin" / "python", python)
    _stub(project / ".venv" / "bin" / "gunicorn", "#!/bin/sh\nexit 0\n")
    env = {k: v for k, v in os.environ.items() if k not in ("HOST", "PORT")}
    result = subprocess.run(
        ["bash", "scripts/run.sh"],
        cwd=project,
        env={**env, "PORT": "8123"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Storefront: http://127.0.0.1:8123/" in result.stdout
    link = "LINK[manage.py storefront_login_url --email alice@example.com --base-url http://127.0.0.1:8123]"
    assert link in result.stdout
    # The demo data's e-mails are kept in a file, not printed between the link and the server's log.
    assert "You received" not in result.stdout
    assert "var/demo-emails.txt" in result.stdout
    assert "You received 5,000 points" in (project / "var" / "demo-emails.txt").read_text()
    # A later run finds the demo data there and sends nothing: the first run's e-mails stay.
    _stub(
        project / ".venv" / "bin" / "python",
        python.replace('echo "Subject: You received 5,000 points"', "true"),
    )
    again = subprocess.run(
        ["bash", "scripts/run.sh"],
        cwd=project,
        env={**env, "PORT": "8123"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 0, again.stderr
    assert "You received 5,000 points" in (project / "var" / "demo-emails.txt").read_text()
