"""No two modules of the project import each other, however indirectly: no import cycles.

A cycle means one of its modules can be imported half-built, and it hides which module owns
what. Imports inside functions and under TYPE_CHECKING count: moving an import into a function
dodges the error at import time but keeps the two modules tied (STYLE.md: pass a callback or
send a signal instead). The graph is grimp's, the one import-linter checks the layers on.
"""

from __future__ import annotations

import tomllib
from collections import deque
from collections.abc import Iterable
from itertools import pairwise
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["root_packages"]


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's components, iteratively (a recursive walk would hit Python's depth limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def _shortest_loop(graph: dict[str, set[str]], start: str, within: set[str]) -> list[str]:
    """The shortest path start -> ... -> start inside one component, to show what ties it."""
    previous: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for child in sorted(graph[node] & within):
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return [*reversed(path), start]
            if child not in previous:
                previous[child] = node
                queue.append(child)
    raise AssertionError(f"{start} is in a cycle but no loop back to it was found")


def import_cycles(packages: Iterable[str]) -> list[str]:
    """Each import cycle among the packages' modules, described with the lines that import."""
    imports = grimp.build_graph(*packages, cache_dir=None)
    graph = {
        module: set(imports.find_modules_directly_imported_by(module)) & imports.modules
        for module in imports.modules
    }
    cycles = []
    for component in _strongly_connected(graph):
        if len(component) < 2:
            continue
        loop = _shortest_loop(graph, component[0], set(component))
        steps = []
        for importer, imported in pairwise(loop):
            lines = sorted(
                d["line_number"] for d in imports.get_import_details(importer=importer, imported=imported)
            )
            steps.append(f"  {importer} -> {imported} (line {', '.join(map(str, lines))})")
        cycles.append(f"{len(component)} modules: {', '.join(component)}\n" + "\n".join(steps))
    return cycles


def test_the_project_has_no_import_cycles() -> None:
    cycles = import_cycles(PACKAGES)
    assert not cycles, "Import cycles:\n" + "\n\n".join(cycles)


def test_the_checker_finds_a_cycle_made_by_an_import_inside_a_function(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "cycle_example"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text(
        "def create():\n    from cycle_example.services import create\n\n    return create\n"
    )
    (package / "services.py").write_text("from cycle_example.sync import schedule\n")
    (package / "sync.py").write_text("from cycle_example.models import create\n\nschedule = create\n")
    (package / "views.py").write_text(
        "from cycle_example.services import schedule\n"
    )  # imports the cycle, not in it
    monkeypatch.syspath_prepend(str(tmp_path))

    (cycle,) = import_cycles(["cycle_example"])

    assert cycle.splitlines() == [
        "3 modules: cycle_example.models, cycle_example.services, cycle_example.sync",
        "  cycle_example.models -> cycle_example.services (line 2)",
        "  cycle_example.services -> cycle_example.sync (line 1)",
        "  cycle_example.sync -> cycle_example.models (line 1)",
    ]
