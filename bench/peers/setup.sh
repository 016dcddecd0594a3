#!/usr/bin/env bash
# Installs the benchmark peers' own virtualenv, .venv-peer, from bench/peers/requirements.txt.
# Kept apart from .venv: the application (and CI's ruff and mypy) never sees these packages.
# Safe to run again: pip leaves pinned packages that are already installed alone.
set -euo pipefail
cd "$(dirname "$0")/../.."
python=${PYTHON:-python3.11}
if [ ! -x .venv-peer/bin/python ]; then
  "$python" -m venv .venv-peer
fi
.venv-peer/bin/python -m pip install --quiet --upgrade pip
.venv-peer/bin/python -m pip install --quiet --no-deps -r bench/peers/requirements.txt
.venv-peer/bin/python -m pip check
.venv-peer/bin/python -c "import fastapi, sqlalchemy, uvicorn; print('peer venv: fastapi', fastapi.__version__, 'sqlalchemy', sqlalchemy.__version__)"
