#!/usr/bin/env bash
# Installs what the HTTP benchmark needs beyond the project's own setup: wrk, the load
# generator (a Debian package). Safe to run again: skipped when wrk is already there.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/setup.sh dev
if ! command -v wrk >/dev/null 2>&1; then
  echo "bench setup: installing wrk"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq wrk >/dev/null
fi
wrk --version 2>&1 | head -1 || true
