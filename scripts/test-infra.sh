#!/usr/bin/env bash
# Infrastructure tests: sets up .venv-infra (CDKTF, provider bindings, pytest) and .venv-checkov
# (checkov alone: its pins clash with everything else), then runs tests/infra. Those tests
# synthesize the stacks, check every construct's settings, run `terraform validate` with the
# real CLI and AWS provider (skipped, never passed, when either is missing) and run checkov on
# the output. Safe to run again: a venv is reinstalled only when its requirements file changed.
# Usage: scripts/test-infra.sh [extra pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

# Some machines carry pip configuration pointing at local mirrors that may be absent; pip
# warns once per package about them, which buries real errors, so those lines are dropped.
quiet_pip() {
  local py="$1" out rc=0
  shift
  out=$("$py" -m pip install -q --disable-pip-version-check "$@" 2>&1) || rc=$?
  printf '%s\n' "$out" | grep -v "is ignored: it is neither a file nor a directory" | grep -v '^$' || true
  return $rc
}

ensure_venv() {
  local dir="$1" req="$2"
  local stamp="$dir/.requirements.sha256" want
  want=$(sha256sum "$req" | cut -d' ' -f1)
  if [ ! -x "$dir/bin/python" ]; then
    echo "test-infra: creating $dir"
    python3 -m venv "$dir"
  fi
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "test-infra: installing $req into $dir"
    quiet_pip "$dir/bin/python" --upgrade "pip==25.3"
    quiet_pip "$dir/bin/python" -r "$req"
    echo "$want" > "$stamp"
  fi
}

command -v node >/dev/null 2>&1 || {
  echo "test-infra: Node.js is missing: cdktf runs on it (jsii); install Node.js 20 with npm (README, \"The two commands\")" >&2
  exit 1
}
ensure_venv .venv-infra requirements/infra.txt
ensure_venv .venv-checkov requirements/checkov.txt

# The root ruff run (scripts/test.sh) already lints these files when .venv exists; lint here
# too so this script alone is a complete check of the infrastructure code.
echo "== lint (ruff) on infra_cdktf and tests/infra"
.venv-infra/bin/ruff check infra_cdktf tests/infra
.venv-infra/bin/ruff format --check --quiet infra_cdktf tests/infra

echo "== pytest tests/infra"
export AWSOMESHOP_CHECKOV="${AWSOMESHOP_CHECKOV:-$PWD/.venv-checkov/bin/checkov}"
# Node prints a multi-line banner about its support window on every jsii start.
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1
rc=0
.venv-infra/bin/python -m pytest -c tests/infra/pytest.ini --rootdir tests/infra tests/infra "$@" || rc=$?
echo "test-infra: finished in $(( $(date +%s) - started )) s (exit $rc)"
exit $rc
