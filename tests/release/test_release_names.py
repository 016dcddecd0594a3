"""The release script addresses the environment synth deploys: its committed settings file
included, so a region or name set there is where the release pushes, migrates and waits."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))

from release import Release  # type: ignore[import-not-found]  # noqa: E402

from infra_cdktf.config import ENVIRONMENTS  # noqa: E402


def test_the_release_uses_the_committed_settings_region(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ENVIRONMENTS["dev"].region != "eu-west-1"
    (tmp_path / "dev.json").write_text(json.dumps({"region": "eu-west-1", "local_state": True}))
    monkeypatch.setenv("AWSOMESHOP_ENVIRONMENTS_DIR", str(tmp_path))
    release = Release("dev", poll_seconds=0, timeout_seconds=1)
    assert release.names.region == "eu-west-1"
    assert release.aws.region == "eu-west-1"
