"""The run's summary counts skipped tests by reason, one line each, and lists no skip one by one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SAMPLE = """
import pytest

@pytest.mark.parametrize("n", range(3))
def test_needs_a_server(n):
    pytest.skip("needs a database server")

@pytest.mark.skipif(True, reason="Terraform CLI not found")
def test_validate():
    pass

def test_passes():
    pass

def test_fails():
    assert False, "a real failure"
"""


def _run_sample(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    pyproject = (ROOT / "pyproject.toml").read_text()
    # The options this repository runs with, from its own configuration.
    addopts = pyproject.split("\naddopts = ", 1)[1].split("\n", 1)[0].strip('"').split()
    command = [
        *(sys.executable, "-m", "pytest", "-c", str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path)),
        *("-p", "no:django", "-p", "no:randomly", "-p", "tests.support.skip_summary", *addopts),
        str(tmp_path / "test_sample.py"),
    ]
    return subprocess.run(
        command,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_skips_are_counted_by_reason_and_failures_still_listed(tmp_path: Path) -> None:
    result = _run_sample(tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "SKIPPED [3] needs a database server" in lines
    assert "SKIPPED [1] Terraform CLI not found" in lines
    assert any("skipped: 4, by reason" in line for line in lines)
    # No per-test skip lines (-rs), but the failure is in the short summary as before.
    assert not [line for line in lines if line.startswith("SKIPPED [1] test_sample.py")]
    assert any(line.startswith("FAILED ") and "test_fails" in line for line in lines)
    assert "4 skipped" in lines[-1] and "1 failed" in lines[-1]
