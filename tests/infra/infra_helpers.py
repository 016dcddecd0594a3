"""Helpers for the infrastructure tests: synthesize a stack and look inside the result."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
# jsii prints a banner about Node's support window on every start; it says nothing about us.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from cdktf import Testing  # noqa: E402

from infra_cdktf.config import EnvironmentConfig  # noqa: E402
from infra_cdktf.stack import AwsomeShopStack  # noqa: E402

# Figures gathered by the slow tests, printed at the end of the run.
METRICS: dict[str, str] = {}


@dataclass(frozen=True)
class Synth:
    """One synthesized stack: the raw JSON (for cdktf's matchers) and the parsed document."""

    raw: str
    doc: dict[str, Any]

    def resources(self, type_: str) -> dict[str, dict[str, Any]]:
        return dict(self.doc.get("resource", {}).get(type_, {}))

    def data(self, type_: str) -> dict[str, dict[str, Any]]:
        return dict(self.doc.get("data", {}).get(type_, {}))

    def named(self, type_: str, key: str, value: str) -> tuple[str, dict[str, Any]]:
        """The one resource of a type whose attribute `key` equals `value`, with its address."""
        found = [(name, res) for name, res in self.resources(type_).items() if res.get(key) == value]
        assert len(found) == 1, f"expected one {type_} with {key}={value!r}, found {[n for n, _ in found]}"
        return found[0]

    def ref(self, type_: str, key: str, value: str, attribute: str = "id") -> str:
        name, _ = self.named(type_, key, value)
        return f"${{{type_}.{name}.{attribute}}}"

    def has(self, type_: str, properties: dict[str, Any]) -> bool:
        return bool(Testing.to_have_resource_with_properties(self.raw, type_, properties))


def synth(config: EnvironmentConfig) -> Synth:
    # Testing.app() without an outdir makes a cdktf.outdir.* folder in the temporary directory
    # for every app and never removes it: give it one that is removed here.
    with tempfile.TemporaryDirectory(prefix="awsomeshop-synth-") as outdir:
        app = Testing.app(outdir=outdir)
        stack = AwsomeShopStack(app, config=config)
        raw = Testing.synth(stack)
    return Synth(raw=raw, doc=json.loads(raw))
