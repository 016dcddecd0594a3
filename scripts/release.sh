#!/usr/bin/env bash
# The one way to ship: build the committed tree's image, push it, migrate, deploy, confirm.
# Usage: scripts/release.sh ENV   (dev or prod; docs/deploy.md walks through it)
# Needs on PATH: git, docker, aws (CLI, credentials for the account), cdktf (with Terraform).
# PYTHON: the interpreter with the project's packages (default .venv/bin/python).
# RELEASE_POLL_SECONDS (10), RELEASE_TIMEOUT_SECONDS (1800): how often and how long it waits.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-.venv/bin/python}"
[ -x "$python" ] || { echo "release: $python not found; run scripts/setup.sh base first" >&2; exit 1; }
exec "$python" scripts/release.py "$@"
