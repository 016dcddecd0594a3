#!/usr/bin/env bash
# The second README command: set up, then run the whole suite on SQLite, MariaDB and
# PostgreSQL, the infrastructure tests, and the production image built and run against MariaDB.
# A database server that cannot be reached is a failure, not a skip. Override the servers with
# MARIADB_URL and POSTGRES_URL.
#
# Usage: scripts/test.sh              everything (`make test`)
#        scripts/test.sh --check      lint, types, import layers, migrations (`make check`)
#        scripts/test.sh --sqlite [pytest arguments]
#                                     the suite on SQLite only, or the tests named (`make test-sqlite`)
set -uo pipefail
cd "$(dirname "$0")/.."
mode=all
case "${1:-}" in
  --check) mode=check; shift ;;
  --sqlite) mode=sqlite; shift ;;
esac
bash scripts/setup.sh dev || exit 1
py=.venv/bin/python
MARIADB_URL="${MARIADB_URL:-mysql://root@127.0.0.1:3306/awsomeshop}"
POSTGRES_URL="${POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/awsomeshop}"
export DJANGO_SETTINGS_MODULE=awsomeshop.settings.test

status=0
summary=()

finish() {
  echo
  echo "== summary"
  printf '  %s\n' "${summary[@]}"
  exit $status
}

# The static checks: quick, and all that `make check` runs.
if [ "$mode" != sqlite ]; then
  echo "== lint (ruff)"
  if .venv/bin/ruff check . && .venv/bin/ruff format --check --quiet . ; then
    summary+=("lint: ok")
  else
    summary+=("lint: FAILED"); status=1
  fi

  echo "== types (mypy)"
  if .venv/bin/mypy . ; then summary+=("types: ok"); else summary+=("types: FAILED"); status=1; fi

  # import-linter prints a banner and its contract table even when every contract is kept:
  # quiet on success, the whole report (which contract, which import chain) on failure.
  echo "== import layers (import-linter)"
  if layers_report=$(.venv/bin/lint-imports --no-cache --no-logo 2>&1); then
    summary+=("layers: ok")
  else
    printf '%s\n' "$layers_report"
    summary+=("layers: FAILED"); status=1
  fi

  echo "== migrations are up to date"
  if DATABASE_URL="sqlite:///:memory:" $py manage.py makemigrations --check --dry-run >/dev/null; then
    summary+=("migrations: ok")
  else
    summary+=("migrations: FAILED (run makemigrations)"); status=1
  fi
fi
[ "$mode" = check ] && finish

run_suite() {
  local name="$1" url="$2"
  shift 2
  echo "== tests on $name"
  if ! DATABASE_URL="$url" $py scripts/wait_for_db.py; then
    summary+=("$name: FAILED (database unreachable at ${url%%\?*})"); status=1; return
  fi
  DATABASE_URL="$url" $py -m pytest -q -p no:randomly "$@"
  local rc=$?
  if [ $rc -eq 0 ]; then summary+=("$name: ok"); else summary+=("$name: FAILED (pytest exit $rc)"); status=1; fi
}

if [ "$mode" = sqlite ]; then
  run_suite sqlite "sqlite:///:memory:" "$@"
  finish
fi
run_suite sqlite "sqlite:///:memory:"
run_suite mariadb "$MARIADB_URL" --create-db
run_suite postgresql "$POSTGRES_URL" --create-db

if [ -f scripts/test-infra.sh ]; then
  echo "== infrastructure tests"
  if bash scripts/test-infra.sh; then summary+=("infrastructure: ok"); else summary+=("infrastructure: FAILED"); status=1; fi
fi

# The production image, built with podman and run as ECS runs it, against MariaDB (docs/image.md).
echo "== image (built and run)"
if MARIADB_URL="$MARIADB_URL" bash scripts/test-image.sh; then
  summary+=("image: ok")
else
  summary+=("image: FAILED"); status=1
fi

finish
