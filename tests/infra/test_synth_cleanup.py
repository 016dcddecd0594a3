"""The tests' in-process synth leaves no cdktf.outdir.* folder behind in the temporary directory."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from conftest import TEST_IMAGE_TAG
from infra_helpers import synth

from infra_cdktf.config import ENVIRONMENTS


def _outdirs() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("cdktf.outdir.*"))


def test_synth_removes_its_output_folder() -> None:
    before = _outdirs()

    result = synth(replace(ENVIRONMENTS["dev"], image_tag=TEST_IMAGE_TAG))

    assert result.doc["resource"]
    assert _outdirs() - before == set()
