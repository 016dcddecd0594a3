"""axe-core, the accessibility rules engine, on every storefront page at a phone's and a
laptop's width: the WCAG 2.0, 2.1 and 2.2 A and AA rules (and one best-practice rule, below)
find nothing.

axe-core is pinned in tests/browser/package-lock.json (`scripts/setup.sh dev` installs it). It
is added to each page as an init script through the DevTools protocol, which the page's
Content-Security-Policy does not govern: the pages are checked with their real policy on, so
nothing the policy would block in production (an inline style, say) passes here unnoticed.
Served by gunicorn on MariaDB or PostgreSQL (see the conftest).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from tests.storefront.tour import shop_data, stops, visit

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    # The pages are the same on every engine; the server they need cannot share in-memory
    # SQLite, so they are checked once, in the MariaDB pass (the CI budget: docs/storefront.md).
    pytest.mark.skipif(
        connection.vendor != "mysql",
        reason="the pages are the same on every engine: checked once, in the MariaDB pass",
    ),
]

AXE = Path(__file__).resolve().parents[1] / "browser" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# Best-practice rules checked beside the WCAG ones: a product card's image whose alt text repeats
# its link's text makes a screen reader say the name twice (Lighthouse counts it too).
EXTRA_RULES = ["image-redundant-alt"]
WIDTHS = {"phone": (390, 844), "laptop": (1366, 900)}


def _axe_source() -> str:
    if not AXE.exists():
        pytest.fail(
            f"axe-core is not installed at {AXE}: run 'bash scripts/setup.sh dev' "
            "(it runs npm ci in tests/browser).",
            pytrace=False,
        )
    return AXE.read_text()


def describe(page_name: str, violations: list[dict[str, Any]]) -> str:
    """One readable block per rule: what is wrong, where (selector and HTML), how to fix it."""
    lines = []
    for v in violations:
        lines.append(f"{page_name}: [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:5]:
            lines.append(f"    at {' '.join(node['target'])}: {node['html'][:160]}")
            summary = (node.get("failureSummary") or "").replace("\n", " / ")
            if summary:
                lines.append(f"       {summary[:300]}")
        if len(v["nodes"]) > 5:
            lines.append(f"    ... and {len(v['nodes']) - 5} more")
    return "\n".join(lines)


@pytest.mark.parametrize("width", list(WIDTHS))
def test_axe_finds_no_wcag_violation_on_any_storefront_page(browser, storefront_server, width):
    data = shop_data()
    w, h = WIDTHS[width]
    context = browser.new_context(viewport={"width": w, "height": h})
    context.set_default_timeout(15_000)
    context.add_init_script(script=_axe_source())
    page = context.new_page()
    failures: list[str] = []
    checked = 0
    try:
        for stop in stops(data):
            visit(page, storefront_server.url, data, stop)
            result = page.evaluate(
                "async ([tags, rules]) => await axe.run(document, {runOnly: {type: 'tag', values: tags}, "
                "rules: Object.fromEntries(rules.map((r) => [r, {enabled: true}])), resultTypes: ['violations']})",
                [WCAG_TAGS, EXTRA_RULES],
            )
            checked += 1
            if result["violations"]:
                failures.append(describe(f"{stop.name} at {w}px", result["violations"]))
    finally:
        context.close()
    assert checked == len(stops(data))
    assert not failures, "axe found WCAG violations:\n" + "\n".join(failures)
