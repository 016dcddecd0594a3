"""The runtime pins: one list (requirements.txt) that the image, setup.sh and dev.txt all use."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _requirement_lines(path: Path) -> list[str]:
    return [
        line.split("#", 1)[0].strip()
        for line in path.read_text().splitlines()
        if line.split("#", 1)[0].strip()
    ]


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in _requirement_lines(path):
        if line.startswith("-"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[^\]]+\])?==([^\s;]+)", line)
        assert match, f"{path.name}: {line!r} is not pinned exactly"
        pins[match.group(1).lower().replace("_", "-")] = match.group(3)
    return pins


def test_runtime_pins_live_in_the_top_level_file_only() -> None:
    runtime = _pins(ROOT / "requirements.txt")
    assert {"django", "gunicorn", "mysqlclient", "psycopg"} <= set(runtime)
    # base.txt only includes it: a dependency added there would be missing from the image.
    assert _requirement_lines(ROOT / "requirements" / "base.txt") == ["-r ../requirements.txt"]
    assert "-r base.txt" in _requirement_lines(ROOT / "requirements" / "dev.txt")


def test_the_image_installs_exactly_the_top_level_file() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    installs = re.findall(r"pip install[^\n]*", dockerfile)
    assert installs == [
        "pip install --no-cache-dir -r /tmp/requirements/requirements.txt -c /tmp/requirements/constraints.txt"
    ]
    assert "COPY requirements.txt requirements/constraints.txt /tmp/requirements/" in dockerfile


def test_setup_reinstalls_when_the_runtime_pins_change() -> None:
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    (stamp,) = [line for line in setup.splitlines() if line.startswith("want=")]
    assert "requirements.txt " in stamp and "requirements/constraints.txt" in stamp


def test_runtime_pins_agree_with_the_constraints() -> None:
    constraints = _pins(ROOT / "requirements" / "constraints.txt")
    for name, version in _pins(ROOT / "requirements.txt").items():
        if name in constraints:
            assert constraints[name] == version, (
                f"{name}: requirements.txt {version}, constraints {constraints[name]}"
            )
