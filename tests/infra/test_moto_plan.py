"""Opt-in: `terraform plan` of dev against a local moto server (AWSOMESHOP_MOTO_ENDPOINT).

Start one with `python -m moto.server -H 127.0.0.1 -p 5055` (moto[server] is in
requirements/dev.txt) and export AWSOMESHOP_MOTO_ENDPOINT=http://127.0.0.1:5055. The provider is
pointed at it through a Terraform override file, so the stack itself is untouched.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from infra_helpers import METRICS
from infra_tools import SynthRun

pytestmark = pytest.mark.slow

# Every service the dev stack calls while planning or applying.
SERVICES = [
    "acm", "appautoscaling", "budgets", "cloudfront", "cloudwatch", "cloudwatchlogs", "cognitoidp", "ec2",
    "ecr", "events", "ecs", "elbv2", "iam", "kms", "rds", "route53", "s3", "scheduler", "secretsmanager",
    "sns", "sqs", "ssm", "sts",
]  # fmt: skip


def provider_override(endpoint: str) -> dict[str, object]:
    return {
        "provider": {
            "aws": {
                "access_key": "testing",
                "secret_key": "testing",
                "skip_credentials_validation": True,
                "skip_requesting_account_id": True,
                "skip_metadata_api_check": True,
                "s3_use_path_style": True,
                "endpoints": [dict.fromkeys(SERVICES, endpoint)],
            }
        }
    }


def test_plan_dev_against_moto(synthesized: SynthRun, terraform_env: dict[str, str], tmp_path: Path) -> None:
    endpoint = os.environ.get("AWSOMESHOP_MOTO_ENDPOINT")
    if not endpoint:
        pytest.skip("set AWSOMESHOP_MOTO_ENDPOINT to a running moto server to plan against it")
    workdir = tmp_path / "awsomeshop-dev"
    shutil.copytree(synthesized.outdir / "stacks" / "awsomeshop-dev", workdir)
    (workdir / "moto_override.tf.json").write_text(json.dumps(provider_override(endpoint)))
    # The committed settings keep state in S3; this throwaway plan keeps it next to the copy.
    (workdir / "backend_override.tf.json").write_text(json.dumps({"terraform": {"backend": {"local": {}}}}))
    terraform = terraform_env["TF_TERRAFORM"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [terraform, *args],
            cwd=workdir,
            env=terraform_env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    init = run("init", "-input=false", "-no-color")
    assert init.returncode == 0, init.stdout + init.stderr
    plan = run("plan", "-input=false", "-no-color", "-detailed-exitcode", "-out=plan.bin")
    # 2 = succeeded with changes; 0 would mean moto already holds the stack.
    assert plan.returncode == 2, plan.stdout + plan.stderr
    shown = json.loads(run("show", "-json", "plan.bin").stdout)
    actions = [tuple(change["change"]["actions"]) for change in shown["resource_changes"]]
    assert actions and set(actions) == {("create",)}
    configured = sum(len(v) for v in json.loads((workdir / "cdk.tf.json").read_text())["resource"].values())
    assert len(actions) == configured
    METRICS["terraform plan dev against moto"] = f"{len(actions)} to add, 0 to change, 0 to destroy"
