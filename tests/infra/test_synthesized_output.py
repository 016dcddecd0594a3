"""The real artefact: `python -m infra_cdktf` output, checked by Terraform and by checkov."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from infra_helpers import METRICS
from infra_tools import (
    SynthRun,
    checkov_binary,
    checkov_skips,
)

STACKS = ["awsomeshop-dev", "awsomeshop-prod"]
# (variant, stack directory): the plain synth's two stacks, dev with every option on, and the
# other database engines (in-process synth of prod on RDS PostgreSQL and dev on Aurora).
VARIANTS = {
    "dev": ("main", "awsomeshop-dev"),
    "prod": ("main", "awsomeshop-prod"),
    "options": ("options", "awsomeshop-dev"),
    "postgres": ("engine", "postgres"),
    "aurora": ("engine", "aurora"),
}


def _stack_dir(variant: str, request: pytest.FixtureRequest) -> Path:
    run_name, stack = VARIANTS[variant]
    if run_name == "engine":
        directory = request.getfixturevalue("tmp_path_factory").getbasetemp() / f"engine-{variant}"
        if not directory.exists():
            directory.mkdir()
            (directory / "cdk.tf.json").write_text(request.getfixturevalue(stack).raw)
        return directory
    fixture = "synthesized" if run_name == "main" else "synthesized_options"
    run: SynthRun = request.getfixturevalue(fixture)
    return run.outdir / "stacks" / stack


pytestmark = pytest.mark.slow


def test_synth_writes_one_terraform_config_per_environment(synthesized: SynthRun) -> None:
    manifest = json.loads((synthesized.outdir / "manifest.json").read_text())
    assert sorted(manifest["stacks"]) == STACKS
    for stack in STACKS:
        doc = json.loads((synthesized.outdir / "stacks" / stack / "cdk.tf.json").read_text())
        assert doc["provider"]["aws"][0]["default_tags"][0]["tags"]["Environment"] == stack.split("-")[1]


def test_synth_selects_environments_and_applies_overrides(synthesized_options: SynthRun) -> None:
    stacks = synthesized_options.outdir / "stacks"
    assert sorted(p.name for p in stacks.iterdir()) == ["awsomeshop-dev"]
    doc = (stacks / "awsomeshop-dev" / "cdk.tf.json").read_text()
    assert "repository_url}:v42" in doc
    assert "aws_cloudfront_distribution" in json.loads(doc)["resource"]


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_terraform_validate(
    variant: str, terraform_env: dict[str, str], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    workdir = tmp_path / variant
    shutil.copytree(_stack_dir(variant, request), workdir)
    terraform = terraform_env["TF_TERRAFORM"]
    init = subprocess.run(
        [terraform, "init", "-backend=false", "-input=false", "-no-color"],
        cwd=workdir, env=terraform_env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert init.returncode == 0, init.stdout + init.stderr
    validate = subprocess.run(
        [terraform, "validate", "-json", "-no-color"],
        cwd=workdir, env=terraform_env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    result = json.loads(validate.stdout)
    assert result["valid"] is True, json.dumps(result["diagnostics"], indent=2)
    assert result["error_count"] == 0
    version = subprocess.run([terraform, "version", "-json"], capture_output=True, text=True, check=False)
    tf = json.loads(version.stdout)["terraform_version"]
    METRICS[f"terraform validate {variant}"] = f"valid (Terraform {tf}, hashicorp/aws from the local mirror)"


@pytest.fixture(scope="module")
def checkov() -> str:
    binary = checkov_binary()
    if binary is None:
        pytest.skip("checkov not found: run scripts/test-infra.sh, which installs it into .venv-checkov")
    return binary


def test_every_skip_has_a_reason_and_a_known_environment() -> None:
    skips = checkov_skips()
    assert skips
    assert len({s.id for s in skips}) == len(skips), "one entry per check"
    for skip in skips:
        assert len(skip.reason) > 20, skip.id
        assert skip.environments is None or set(skip.environments) <= set(VARIANTS)


def _checkov_copy(directory: Path, target: Path) -> Path:
    """The stack as checkov can read it. checkov's terraform_json parser (3.3.30) fails on the
    string-valued `terraform.required_version` ("this method receives only dicts"), reports one
    parsing error and then checks nothing at all; that key configures no resource, so dropping
    it from checkov's copy hides no check (test_stack.py pins it in the real output)."""
    doc = json.loads((directory / "cdk.tf.json").read_text())
    doc["terraform"].pop("required_version", None)
    target.mkdir(parents=True, exist_ok=True)
    (target / "cdk.tf.json").write_text(json.dumps(doc))
    return target


def _checkov(checkov: str, directory: Path, skip_ids: list[str]) -> dict[str, Any]:
    command = [
        checkov,
        "-d",
        str(directory),
        "--framework",
        "terraform_json",
        "--skip-download",
        "--compact",
        "--quiet",
    ]
    if skip_ids:
        command += ["--skip-check", ",".join(skip_ids)]
    done = subprocess.run(
        [*command, "-o", "json"],
        capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CKV_NO_TELEMETRY": "1"},
    )  # fmt: skip
    report: dict[str, Any] = json.loads(done.stdout)
    assert report["summary"]["parsing_errors"] == 0
    return report


def test_checkov_passes_with_only_the_listed_skips(
    checkov: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    skips = checkov_skips()
    totals: Counter[str] = Counter()
    used: set[str] = set()
    failures: list[str] = []
    for variant in VARIANTS:
        ids = [s.id for s in skips if s.environments is None or variant in s.environments]
        directory = _checkov_copy(_stack_dir(variant, request), tmp_path / variant)
        # The verdict: checkov with the listed skips applied must report no failure.
        report = _checkov(checkov, directory, ids)
        failures += [
            f"{variant}: {c['check_id']} {c['resource']} ({c['check_name']})"
            for c in report["results"]["failed_checks"]
        ]
        totals.update({"passed": report["summary"]["passed"], "failed": report["summary"]["failed"]})
        # A second run without skips counts what they hide and finds skips that hide nothing.
        unskipped = _checkov(checkov, directory, [])
        hidden = [c for c in unskipped["results"]["failed_checks"] if c["check_id"] in ids]
        totals["skipped"] += len(hidden)
        used |= {c["check_id"] for c in hidden}
    METRICS["checkov (terraform_json, dev + prod + dev with options + postgres + aurora)"] = (
        f"{totals['passed']} passed, {totals['failed']} failed, {totals['skipped']} skipped "
        f"({len(skips)} listed skip ids)"
    )
    assert failures == []
    stale = sorted({s.id for s in skips} - used)
    assert stale == [], "skips that match nothing any more; remove them"
