"""Modules of one topic each: none past 500 lines, the domain apps' row locks in their
lock_objects modules, and packages whose __init__ re-exports nothing."""

from __future__ import annotations

import ast
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 500
# Generated migrations and the tests are not held to the limit; the rest are not our code.
NOT_APPLICATION_CODE = {"tests", "migrations", "node_modules", "cdktf.out"}
DOMAIN_APPS = ("points", "catalog", "orders", "notifications")
LOCKING_CALLS = {"select_for_update", "lock_one"}


def _application_modules() -> list[Path]:
    found = []
    for folder, dirs, files in os.walk(ROOT):
        # Hidden folders hold the virtualenvs and tool caches: pruned, never walked.
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in NOT_APPLICATION_CODE]
        found += [Path(folder, name) for name in files if name.endswith(".py")]
    return sorted(found)


def _calls(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            found.append((node.lineno, name))
    return found


def test_no_application_module_is_longer_than_500_lines() -> None:
    modules = _application_modules()
    assert ROOT / "points" / "models.py" in modules  # the walk reaches the apps
    too_long = {
        str(path.relative_to(ROOT)): lines
        for path in modules
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not too_long, f"split these by topic (at most {MAX_LINES} lines): {too_long}"


def test_the_domain_apps_take_row_locks_only_in_their_lock_objects() -> None:
    # One place per app to read the locks an app takes, and the lock order they follow.
    outside = []
    for app in DOMAIN_APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if path.name == "lock_objects.py" or "migrations" in path.parts:
                continue
            for line, name in _calls(ast.parse(path.read_text())):
                if name in LOCKING_CALLS:
                    outside.append(f"{path.relative_to(ROOT)}:{line} {name}()")
    assert not outside, f"row locks outside lock_objects.py: {outside}"


def test_the_points_services_package_re_exports_nothing() -> None:
    # Callers import from the module that owns a function, so the package opens with a map only.
    body = ast.parse((ROOT / "points" / "services" / "__init__.py").read_text()).body
    assert len(body) == 1
    assert isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)


def test_the_back_office_admin_package_only_registers_its_modules() -> None:
    # Autodiscovery imports backoffice.admin; importing a submodule registers its admin classes.
    package = ROOT / "backoffice" / "admin"
    body = ast.parse((package / "__init__.py").read_text()).body
    imports = [node for node in body[1:] if isinstance(node, ast.ImportFrom)]
    assert len(imports) == len(body) - 1, "only imports after the docstring"
    for node in imports:
        assert node.module == "backoffice.admin"
        assert all((package / f"{alias.name}.py").is_file() and alias.asname is None for alias in node.names)
