#!/usr/bin/env bash
# The one way to ship: build (dev) or promote (prod) the committed tree's image, migrate with
# the new release's task definition, deploy, confirm every rollout.
# Usage: scripts/release.sh ENV [--yes] [--previous COMMIT]   (docs/deploy.md walks through it)
# Needs on PATH: git, docker (with buildx), aws (CLI, credentials for the account), cdktf and
# terraform (>= 1.11). PYTHON: the interpreter with the project's packages (default
# .venv/bin/python). INFRA_VENV: the venv cdktf's `python -m infra_cdktf` runs in (default
# .venv-infra; scripts/test-infra.sh creates it); the release puts its bin/ first on PATH for
# cdktf. RELEASE_POLL_SECONDS (10), RELEASE_TIMEOUT_SECONDS (1800): how often and how long it waits.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-.venv/bin/python}"
[ -x "$python" ] || { echo "release: $python not found; run scripts/setup.sh base first" >&2; exit 1; }
exec "$python" scripts/release.py "$@"
