"""The apps import one way (pyproject.toml's layers contract): a violation fails the tests too."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_project_keeps_its_layers() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(f'"{v}"' for v in values) + "]"


def test_the_contract_sees_imports_inside_functions_and_under_type_checking(tmp_path: Path) -> None:
    # The project's own contract, over stand-in packages with the imports it must refuse: one
    # inside a function (a cycle dodged at call time) and one only for the type checker.
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = config["contracts"]
    (tmp_path / "pyproject.toml").write_text(
        "[tool.importlinter]\n"
        f"root_packages = {_toml_list(config['root_packages'])}\n\n"
        "[[tool.importlinter.contracts]]\n"
        f'name = "{contract["name"]}"\n'
        f'type = "{contract["type"]}"\n'
        f"layers = {_toml_list(contract['layers'])}\n"
    )
    for package in config["root_packages"]:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
        (tmp_path / package / "models.py").write_text("")
    (tmp_path / "shop" / "lookups.py").write_text(
        "def orders_of(user):\n    from orders.models import Order\n\n    return Order\n"
    )
    (tmp_path / "points" / "services.py").write_text(
        "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from catalog.models import Product\n"
    )
    # A downward import is allowed: only the two above break the contract.
    (tmp_path / "backoffice" / "admin.py").write_text("from points.models import *\n")
    result = _lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "shop is not allowed to import orders" in result.stdout
    assert "shop.lookups -> orders.models" in result.stdout
    assert "points is not allowed to import catalog" in result.stdout
    assert "points.services -> catalog.models" in result.stdout
    assert "backoffice" not in result.stdout.split("Broken contracts", 1)[1]
