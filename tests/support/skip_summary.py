"""A pytest plugin: the skipped tests at the end of a run, one line per reason with its count.

pytest's `-rs` prints one line per skipped test, which buried failures under dozens of lines
saying the same thing (the server-only tests on SQLite). The short summary keeps `-rfE` for
failures and errors; this section keeps every skip visible, grouped, so a check that did not
run is still seen. Loaded by tests/conftest.py and by the infrastructure tests' pytest.ini.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest


def skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    """The reason a skip report gives, without pytest's "Skipped: " prefix."""
    longrepr: Any = report.longrepr
    # A skip's longrepr is (path, line, message); anything else is reported as it is.
    reason = str(longrepr[2]) if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return reason.removeprefix("Skipped: ").strip() or "no reason given"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    if not skipped:
        return
    counts = Counter(skip_reason(report) for report in skipped)
    terminalreporter.section(f"skipped: {len(skipped)}, by reason")
    for reason, count in counts.most_common():
        terminalreporter.write_line(f"SKIPPED [{count}] {reason}")
