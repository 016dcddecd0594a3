"""External tools for the slow tests: the synth command, Terraform with a local provider mirror,
and checkov. Anything missing makes the calling test skip with the reason, never pass."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from infra_helpers import REPO

from infra_cdktf.stack import AWS_PROVIDER_VERSION

MIRROR_ENV = "AWSOMESHOP_TF_PROVIDER_MIRROR"
# Terraform's documented implicit local mirror directories (CLI configuration docs).
IMPLICIT_MIRRORS = [
    Path.home() / ".terraform.d" / "plugins",
    Path.home() / ".local" / "share" / "terraform" / "plugins",
    Path("/usr/local/share/terraform/plugins"),
    Path("/usr/share/terraform/plugins"),
]
PROVIDER = Path("registry.terraform.io") / "hashicorp" / "aws" / AWS_PROVIDER_VERSION


def platform_dir() -> str:
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
    return f"{sys.platform}_{arch}"


def _has_provider(root: Path) -> bool:
    return (root / PROVIDER / platform_dir()).is_dir() or any((root / PROVIDER).glob("*.zip"))


def find_provider_mirror() -> Path | None:
    """A directory laid out as a Terraform filesystem mirror holding hashicorp/aws at our version."""
    configured = os.environ.get(MIRROR_ENV)
    if configured:
        return Path(configured) if _has_provider(Path(configured)) else None
    candidates = list(IMPLICIT_MIRRORS)
    opt = Path("/opt")
    if opt.is_dir():
        # A shallow look: /opt/<dir> and /opt/<dir>/<dir>, never a full walk.
        for child in sorted(opt.iterdir()):
            if child.is_dir():
                candidates.append(child)
                candidates += (
                    sorted(p for p in child.iterdir() if p.is_dir()) if os.access(child, os.R_OK) else []
                )
    return next((c for c in candidates if _has_provider(c)), None)


def terraform_binary() -> str | None:
    return shutil.which(os.environ.get("AWSOMESHOP_TERRAFORM", "terraform"))


def write_cli_config(mirror: Path, directory: Path) -> Path:
    """A Terraform CLI configuration that installs hashicorp/aws from the mirror, never the network."""
    config = directory / "terraformrc"
    config.write_text(
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f'    path    = "{mirror}"\n'
        '    include = ["registry.terraform.io/hashicorp/aws"]\n'
        "  }\n"
        '  direct { exclude = ["registry.terraform.io/hashicorp/aws"] }\n'
        "}\n"
    )
    return config


@dataclass(frozen=True)
class SynthRun:
    outdir: Path
    seconds: float
    peak_rss_mb: float


def run_synth(outdir: Path, env: dict[str, str] | None = None) -> SynthRun:
    """`python -m infra_cdktf` in a child, measured from a wrapper so nothing else is counted."""
    probe = (
        "import json, resource, subprocess, sys, time\n"
        "start = time.monotonic()\n"
        "rc = subprocess.call([sys.executable, '-m', 'infra_cdktf'])\n"
        "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(json.dumps({'rc': rc, 'seconds': time.monotonic() - start, 'maxrss_kb': usage.ru_maxrss}))\n"
    )
    child_env = {**os.environ, "CDKTF_OUTDIR": str(outdir), **(env or {})}
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    import json

    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "{}"
    result = json.loads(last)
    if result.get("rc") != 0:
        raise AssertionError(f"synth failed:\n{done.stdout}\n{done.stderr}")
    # ru_maxrss of the children is the largest single descendant (Python or the Node jsii host).
    return SynthRun(outdir=outdir, seconds=result["seconds"], peak_rss_mb=result["maxrss_kb"] / 1024)


@dataclass(frozen=True)
class Skip:
    id: str
    reason: str
    environments: tuple[str, ...] | None


def checkov_skips() -> list[Skip]:
    data = tomllib.loads((REPO / "infra_cdktf" / "checkov-skips.toml").read_text())
    skips = []
    for entry in data["skip"]:
        envs = entry.get("environments")
        skips.append(Skip(id=entry["id"], reason=entry["reason"], environments=tuple(envs) if envs else None))
    return skips


def checkov_binary() -> str | None:
    configured = os.environ.get("AWSOMESHOP_CHECKOV")
    if configured:
        return configured if Path(configured).exists() else None
    local = REPO / ".venv-checkov" / "bin" / "checkov"
    return str(local) if local.exists() else shutil.which("checkov")
