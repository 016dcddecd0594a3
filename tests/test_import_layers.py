"""The apps and shop's folders import one way (pyproject.toml's contracts): a violation fails the tests."""

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


CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def test_the_project_keeps_its_layers() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(CONFIG['contracts'])} kept, 0 broken" in result.stdout


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(f'"{v}"' for v in values) + "]"


def test_the_contract_sees_imports_inside_functions_and_under_type_checking(tmp_path: Path) -> None:
    # The project's own contract, over stand-in packages with the imports it must refuse: one
    # inside a function (a cycle dodged at call time) and one only for the type checker.
    config = CONFIG
    (contract,) = [c for c in config["contracts"] if c["name"] == "Apps import only the layers below them"]
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


def _toml_value(value: str | list[str]) -> str:
    return _toml_list(value) if isinstance(value, list) else f'"{value}"'


def test_shop_folders_import_downwards_and_models_import_no_services(tmp_path: Path) -> None:
    # All of the project's contracts, over stand-in packages with two upward imports inside
    # functions: the database helpers reaching for the employees, and the user model calling
    # the service that creates users (the circle models -> services -> models).
    lines = ["[tool.importlinter]", f"root_packages = {_toml_list(CONFIG['root_packages'])}", ""]
    for contract in CONFIG["contracts"]:
        lines.append("[[tool.importlinter.contracts]]")
        lines.extend(f"{key} = {_toml_value(value)}" for key, value in contract.items())
        lines.append("")
    (tmp_path / "pyproject.toml").write_text("\n".join(lines))
    for package in CONFIG["root_packages"]:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
        (tmp_path / package / "models.py").write_text("")
        (tmp_path / package / "services.py").write_text("")
    for folder in ("access", "admin_kit", "identity", "auth", "db", "http", "observability"):
        (tmp_path / "shop" / folder).mkdir()
        (tmp_path / "shop" / folder / "__init__.py").write_text("")
    (tmp_path / "shop" / "signals.py").write_text("")
    (tmp_path / "shop" / "identity" / "services.py").write_text("from shop.models import *\n")
    (tmp_path / "shop" / "db" / "transactions.py").write_text(
        "def employees():\n    from shop.identity import services\n\n    return services\n"
    )
    (tmp_path / "shop" / "models.py").write_text(
        "def create_user():\n    from shop.identity.services import user_create\n\n    return user_create\n"
    )
    # Downward imports are allowed: sign-in may use the employees, the HTTP edge the metrics.
    (tmp_path / "shop" / "access" / "sign_in.py").write_text("from shop.identity import services\n")
    (tmp_path / "shop" / "http" / "errors.py").write_text("from shop import observability\n")
    result = _lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    broken = result.stdout.split("Broken contracts", 1)[1]
    layers, forbidden = broken.split("Models import no services", 1)
    assert "shop.db is not allowed to import shop.identity:" in layers
    assert "shop.db.transactions -> shop.identity.services" in layers
    assert "shop.models is not allowed to import shop.identity:" in layers
    assert "shop.models is not allowed to import shop.identity.services:" in forbidden
    assert "shop.access" not in broken and "shop.http" not in broken
