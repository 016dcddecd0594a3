"""scripts/test.sh (`make test`, `make check`, `make test-sqlite`) with its tools stubbed: what
each mode runs, and what it prints."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _stub(path: Path, body: str) -> None:
    path.write_text(body)
    path.chmod(0o755)


def _project(tmp_path: Path, lint_imports: str = "#!/bin/sh\nexit 0\n") -> Path:
    """test.sh in an empty project: setup does nothing, every tool records its arguments."""
    project = tmp_path / "project"
    (project / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "test.sh", project / "scripts" / "test.sh")
    _stub(project / "scripts" / "setup.sh", "#!/bin/sh\nexit 0\n")
    bin_dir = project / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    log = tmp_path / "calls.log"
    for tool in ("python", "ruff", "mypy"):
        _stub(bin_dir / tool, f'#!/bin/sh\necho "{tool} $*" >> {log}\n')
    _stub(bin_dir / "lint-imports", lint_imports)
    return project


def _run(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "scripts/test.sh", *args],
        cwd=project,
        env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_make_test_sqlite_runs_only_the_tests_named_on_sqlite(tmp_path: Path) -> None:
    project = _project(tmp_path)

    result = _run(project, "--sqlite", "tests/points/test_points_services.py", "-x")

    assert result.returncode == 0, result.stdout + result.stderr
    calls = (tmp_path / "calls.log").read_text().splitlines()
    assert calls == [
        "python scripts/wait_for_db.py",
        "python -m pytest -q -p no:randomly tests/points/test_points_services.py -x",
    ]
    assert "sqlite: ok" in result.stdout and "mariadb" not in result.stdout


def test_make_check_runs_the_static_checks_and_no_tests(tmp_path: Path) -> None:
    project = _project(tmp_path)

    result = _run(project, "--check")

    assert result.returncode == 0, result.stdout + result.stderr
    calls = (tmp_path / "calls.log").read_text()
    assert "ruff check ." in calls and "mypy ." in calls and "makemigrations --check" in calls
    assert "pytest" not in calls
    assert "layers: ok" in result.stdout


def test_readme_shows_the_quick_loop_with_targets_that_exist() -> None:
    readme = (ROOT / "README.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    for target in ("check", "test-sqlite"):
        assert f"\n{target}:" in makefile
        assert f"`make {target}" in readme


BANNER = "#!/bin/sh\necho '╔══╗ import linter banner'\necho 'Contracts: 1 kept, 0 broken.'\nexit {rc}\n"


def test_the_import_layers_step_is_quiet_when_every_contract_is_kept(tmp_path: Path) -> None:
    project = _project(tmp_path, lint_imports=BANNER.format(rc=0))

    result = _run(project, "--check")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "banner" not in result.stdout and "Contracts:" not in result.stdout
    assert "layers: ok" in result.stdout


def test_a_broken_import_layer_prints_the_whole_report(tmp_path: Path) -> None:
    report = (
        "#!/bin/sh\necho 'Apps import only the layers below them BROKEN'\n"
        "echo 'shop.models -> points.models (l.3)'\necho 'Contracts: 0 kept, 1 broken.'\nexit 1\n"
    )
    project = _project(tmp_path, lint_imports=report)

    result = _run(project, "--check")

    assert result.returncode == 1
    assert "shop.models -> points.models (l.3)" in result.stdout
    assert "Contracts: 0 kept, 1 broken." in result.stdout and "layers: FAILED" in result.stdout
