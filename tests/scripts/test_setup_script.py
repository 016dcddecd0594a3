"""scripts/setup.sh on a machine where another apt run holds the dpkg lock."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# An apt-get that behaves like a held lock: it fails at once, as the real one does, unless it
# was told to wait for the lock; it records every call.
FAKE_APT = """#!/bin/sh
echo "$*" >> "$APT_LOG"
case "$*" in
  *DPkg::Lock::Timeout=*) exit 0 ;;
esac
echo "E: Could not get lock /var/lib/dpkg/lock-frontend" >&2
exit 100
"""


def _stub(directory: Path, name: str, body: str) -> None:
    path = directory / name
    path.write_text(body)
    path.chmod(0o755)


def test_setup_waits_for_a_held_apt_lock_instead_of_failing(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "setup.sh", project / "scripts" / "setup.sh")
    (project / "requirements").mkdir()
    for name in ("base.txt", "dev.txt", "constraints.txt"):
        (project / "requirements" / name).write_text("")
    (project / "requirements.txt").write_text("")  # the runtime pins the image installs
    # A virtualenv already in place with its requirements installed: only the apt step runs.
    (project / ".venv" / "bin").mkdir(parents=True)
    _stub(project / ".venv" / "bin", "python", "#!/bin/sh\nexit 0\n")
    stamp = hashlib.sha256(b"").hexdigest()
    (project / ".venv" / ".requirements-base.sha256").write_text(stamp + "\n")

    stubs = tmp_path / "bin"
    stubs.mkdir()
    _stub(stubs, "apt-get", FAKE_APT)
    _stub(stubs, "sudo", '#!/bin/sh\nexec "$@"\n')
    _stub(stubs, "pkg-config", "#!/bin/sh\nexit 1\n")  # the MySQL headers are missing
    log = tmp_path / "apt.log"
    env = {**os.environ, "PATH": f"{stubs}:{os.environ['PATH']}", "APT_LOG": str(log)}

    result = subprocess.run(
        ["bash", "scripts/setup.sh", "base"], cwd=project, env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    calls = log.read_text().splitlines()
    assert [call.split()[2] for call in calls] == ["update", "install"]
    assert all("DPkg::Lock::Timeout=300" in call for call in calls)
