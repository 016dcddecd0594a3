"""scripts/setup.sh on a machine where another apt run holds the dpkg lock."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

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


@pytest.mark.parametrize("missing", ["node", "npm"])
def test_setup_for_the_tests_stops_at_once_without_node_and_npm(tmp_path: Path, missing: str) -> None:
    project = tmp_path / "project"
    (project / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "setup.sh", project / "scripts" / "setup.sh")
    # PATH holds only what the check needs, the other Node tool, and an apt-get that records
    # calls: nothing may be installed before the missing prerequisite is named.
    stubs = tmp_path / "bin"
    stubs.mkdir()
    dirname = shutil.which("dirname")
    assert dirname is not None
    (stubs / "dirname").symlink_to(dirname)
    log = tmp_path / "apt.log"
    _stub(stubs, "apt-get", FAKE_APT)
    present = {"node", "npm"} - {missing}
    for tool in present:
        _stub(stubs, tool, "#!/bin/sh\nexit 0\n")
    bash = shutil.which("bash")
    assert bash is not None

    result = subprocess.run(
        [bash, "scripts/setup.sh", "dev"],
        cwd=project,
        env={"PATH": str(stubs), "APT_LOG": str(log), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1
    assert f"setup: {missing} is missing" in result.stderr and "Node.js 20 with npm" in result.stderr
    assert not log.exists()
    assert not (project / ".venv").exists()


def test_readme_names_the_prerequisites_the_setup_does_not_install() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("What must be there first:", 1)[1].split("```sh", 1)[0]
    prerequisites = " ".join(section.split())  # as read, whatever the line breaks
    assert "Python 3.11" in prerequisites and "Node.js 20 with npm" in prerequisites
    # The names the infrastructure tests look for (tests/infra/infra_tools.py).
    assert "AWSOMESHOP_TF_PROVIDER_MIRROR" in prerequisites and "hashicorp/aws` 5.100.0" in prerequisites
    infra_tools = (ROOT / "tests" / "infra" / "infra_tools.py").read_text()
    assert 'MIRROR_ENV = "AWSOMESHOP_TF_PROVIDER_MIRROR"' in infra_tools
    stack = (ROOT / "infra_cdktf" / "stack.py").read_text()
    assert 'AWS_PROVIDER_VERSION = "5.100.0"' in stack
