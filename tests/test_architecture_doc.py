"""The maps stay true: every repository path that ARCHITECTURE.md's code map and the README's
"How it is built" name in backticks exists, and every package is named in the code map."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# A backticked span names a repository path when it has a slash and nothing a path here never
# has: no spaces, no URL (`/api/v1/`), no placeholder (`tests/<app>/`), no call or option.
_NOT_IN_A_PATH = re.compile(r"[\s<>()=\"'@$|]")


def section(text: str, heading: str) -> str:
    """The text under a `## heading`, its `###` subsections included, up to the next `## `."""
    match = re.search(rf"^## {re.escape(heading)}\s*$", text, flags=re.MULTILINE)
    assert match, f"no '## {heading}' section"
    rest = text[match.end() :]
    end = re.search(r"^## ", rest, flags=re.MULTILINE)
    return rest[: end.start()] if end else rest


def backticked(text: str) -> list[str]:
    """Inline code spans, fenced blocks left out."""
    outside_fences = re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)
    return re.findall(r"`([^`\n]+)`", outside_fences)


def repository_paths(spans: list[str]) -> list[str]:
    paths = []
    for span in spans:
        span = span.strip()
        if "/" not in span or span.startswith(("/", "-", "http")) or _NOT_IN_A_PATH.search(span):
            continue
        paths.append(span.split("::", 1)[0])  # a test id names its file
    return paths


def _expand_braces(path: str) -> list[str]:
    """`settings/{base,test}.py` -> both paths, as a shell would."""
    match = re.search(r"\{([^{}]*)\}", path)
    if not match:
        return [path]
    head, tail = path[: match.start()], path[match.end() :]
    return list(
        itertools.chain.from_iterable(_expand_braces(head + o + tail) for o in match.group(1).split(","))
    )


def exists(path: str) -> bool:
    for one in _expand_braces(path):
        is_dir = one.endswith("/")
        pattern = one.rstrip("/")
        found = list(ROOT.glob(pattern)) if any(c in pattern for c in "*?[") else [ROOT / pattern]
        if not any(p.exists() and (p.is_dir() or not is_dir) for p in found):
            return False
    return True


def packages() -> list[str]:
    """Top-level packages and shop's sub-packages: folders with an __init__.py."""
    top = [p.parent for p in ROOT.glob("*/__init__.py") if not p.parent.name.startswith(".")]
    shop = [p.parent for p in (ROOT / "shop").glob("*/__init__.py")]
    return sorted(p.relative_to(ROOT).as_posix() for p in top + shop)


def _architecture_code_map() -> str:
    return section((ROOT / "ARCHITECTURE.md").read_text(), "Code map")


def _readme_how_it_is_built() -> str:
    return section((ROOT / "README.md").read_text(), "How it is built")


@pytest.mark.parametrize(
    ("document", "text"),
    [
        ("ARCHITECTURE.md, Code map", _architecture_code_map),
        ("README.md, How it is built", _readme_how_it_is_built),
    ],
    ids=["architecture-code-map", "readme-how-it-is-built"],
)
def test_every_path_the_maps_name_exists(document: str, text: Callable[[], str]) -> None:
    paths = repository_paths(backticked(text()))
    assert paths, f"{document} names no path"
    missing = sorted({p for p in paths if not exists(p)})
    assert not missing, f"{document} names paths that do not exist: {missing}"


def test_every_package_is_in_the_code_map() -> None:
    named = {p.rstrip("/") for p in backticked(_architecture_code_map())}
    assert "shop" in packages()
    unnamed = [p for p in packages() if p not in named]
    assert not unnamed, f"ARCHITECTURE.md's code map does not name: {unnamed}"


def test_the_checker_reads_paths_as_the_maps_write_them(tmp_path: Path) -> None:
    spans = backticked(
        "`shop/http/` and `points/services/ledger.py`, `tests/x.py::test_y`, `awsomeshop/settings/{base,test}.py`,\n"
        "`points/migrations/0005_*`; not paths: `/api/v1/`, `tests/<app>/`, `make test`, `models.py`,\n"
        "`select_for_update()`, `DB_USER`\n```\nshop/in_a_fence.py\n```\n"
    )
    assert repository_paths(spans) == [
        "shop/http/",
        "points/services/ledger.py",
        "tests/x.py",
        "awsomeshop/settings/{base,test}.py",
        "points/migrations/0005_*",
    ]
    assert exists("awsomeshop/settings/{base,test}.py") and exists("points/migrations/0005_*")
    assert exists("tests/") and not exists("tests/__init__.py/") and not exists("shop/no_such_folder/")
    assert not exists("awsomeshop/settings/{base,no_such}.py")
