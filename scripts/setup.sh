#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian machine: system headers for mysqlclient,
# a virtualenv in .venv, and the pinned Python dependencies. Safe to run again: each step is
# skipped when already done. Usage: scripts/setup.sh [dev|base]
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-dev}"

# The test tools need Node.js (the browser tests' axe-core, and the jsii runtime behind cdktf
# in the infrastructure tests). It is a prerequisite rather than installed here: Debian's own
# nodejs is older than the Node.js 20 the project is tested on. Checked first, so a machine
# without it is told at once, not after the Python packages are installed.
if [ "$profile" = "dev" ]; then
  for tool in node npm; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "setup: $tool is missing: the tests need Node.js 20 with npm on PATH (README, \"The two commands\")" >&2
      exit 1
    fi
  done
fi

need_apt=()
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
pkg-config --exists mysqlclient 2>/dev/null || pkg-config --exists libmariadb 2>/dev/null || need_apt+=(libmariadb-dev)
command -v gcc >/dev/null 2>&1 || need_apt+=(build-essential)
python3 -c "import venv, ensurepip" 2>/dev/null || need_apt+=(python3-venv)
# The admin's browser tests drive Debian's Chromium (a test tool's own browser download fails).
if [ "$profile" = "dev" ]; then [ -x /usr/bin/chromium ] || need_apt+=(chromium); fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing system packages: ${need_apt[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  # Another apt run (unattended-upgrades on a fresh machine) may hold the dpkg lock: wait for
  # it, up to APT_LOCK_TIMEOUT seconds, instead of failing at once.
  apt_wait=(-o "DPkg::Lock::Timeout=${APT_LOCK_TIMEOUT:-300}")
  $sudo_cmd apt-get "${apt_wait[@]}" update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get "${apt_wait[@]}" install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  python3 -m venv .venv
fi

req="requirements/${profile}.txt"
stamp=".venv/.requirements-${profile}.sha256"
want=$(cat requirements.txt requirements/base.txt "$req" requirements/constraints.txt 2>/dev/null | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing Python packages from $req"
  # Some machines carry pip configuration pointing at local mirrors that may be absent; pip
  # warns once per package about them, which buries real errors, so those lines are dropped.
  quiet_pip() {
    local out rc=0
    out=$(.venv/bin/python -m pip install -q --disable-pip-version-check "$@" 2>&1) || rc=$?
    printf '%s\n' "$out" | grep -v "is ignored: it is neither a file nor a directory" | grep -v '^$' || true
    return $rc
  }
  quiet_pip --upgrade "pip==25.3"
  quiet_pip -r "$req" -c requirements/constraints.txt
  echo "$want" > "$stamp"
fi

# The browser tests inject JavaScript tools into pages (axe-core, the accessibility checker),
# pinned in tests/browser/package-lock.json; reinstalled only when the lock changes, as above.
if [ "$profile" = "dev" ]; then
  npm_stamp="tests/browser/node_modules/.package-lock.sha256"
  npm_want=$(sha256sum tests/browser/package-lock.json | cut -d' ' -f1)
  if [ ! -f "$npm_stamp" ] || [ "$(cat "$npm_stamp")" != "$npm_want" ]; then
    echo "setup: installing the browser tests' JavaScript tools from tests/browser/package-lock.json"
    (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
    echo "$npm_want" > "$npm_stamp"
  fi
fi
