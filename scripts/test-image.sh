#!/usr/bin/env bash
# The production image, built from the Dockerfile and run as the ECS tasks run it
# (docs/image.md). Needs no Docker Hub and no Docker daemon: podman (Debian's package) builds the
# Dockerfile, unchanged, on a stand-in for python:3.11-slim-bookworm made from Debian bookworm's
# own Python 3.11 packages (the only change is the PYTHON_IMAGE build argument). Then
# tests/image runs the image against MariaDB: the one-off migrate task, gunicorn from the image's
# CMD on a read-only root with /tmp as a tmpfs, health, static files, a signed-in order, SIGTERM.
#
# The podman storage lives in a temporary directory that is removed on exit; the stand-in base
# is cached in var/image-cache/ (gitignored), keyed by a hash of everything it is made from, so
# only the first run (or a change to its recipe or this machine's CA bundle) builds it.
# A failure to build or to run is a failure, never a skip.
#
# Usage: scripts/test-image.sh [extra pytest arguments]
# Environment: MARIADB_URL (server and database name; the test uses <name>_image, created and
# dropped by the test), IMAGE_TEST_DATABASE_URL (the database itself, instead),
# IMAGE_TEST_TMPDIR (where the temporary podman storage goes; default /var/tmp).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
started=$(date +%s)

# --- Tools: Debian's packages, installed the way scripts/setup.sh installs its own -------------
need_apt=()
command -v podman >/dev/null 2>&1 || need_apt+=(podman)
command -v mmdebstrap >/dev/null 2>&1 || need_apt+=(mmdebstrap)
[ -x /usr/sbin/runc ] || command -v runc >/dev/null 2>&1 || need_apt+=(runc)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "test-image: installing system packages: ${need_apt[*]}"
  t0=$(date +%s)
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  apt_wait=(-o "DPkg::Lock::Timeout=${APT_LOCK_TIMEOUT:-300}")
  $sudo_cmd apt-get "${apt_wait[@]}" update -qq
  # No recommends: podman's pull in a desktop session stack (dbus, fuse) this test does not use.
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get "${apt_wait[@]}" install -y -qq \
    --no-install-recommends "${need_apt[@]}" >/dev/null
  echo "   installed in $(( $(date +%s) - t0 )) s"
fi
[ -x .venv/bin/python ] || { echo "test-image: .venv is missing; run scripts/setup.sh first"; exit 1; }

# --- A throwaway podman store, outside the work tree -------------------------------------------
# vfs copies the whole root filesystem for every layer and container (gigabytes of small
# files); on a memory-backed mount that is fast to write and instant to throw away, where
# deleting it from disk took minutes. Without the privilege to mount, the store stays on disk.
store=$(mktemp -d "${IMAGE_TEST_TMPDIR:-/var/tmp}/awsomeshop-image.XXXXXX")
mounted=0
if mount -t tmpfs -o "size=${IMAGE_TEST_TMPFS_SIZE:-8g},mode=0700" awsomeshop-image "$store" 2>/dev/null; then
  mounted=1
fi
podman=(podman --root "$store/storage" --runroot "$store/run" --tmpdir "$store/libpod"
  --storage-driver vfs --runtime runc --cgroup-manager cgroupfs --events-backend file)
cleanup() {
  "${podman[@]}" rm --all --force --time 0 >/dev/null 2>&1 || true
  if [ "$mounted" = 1 ]; then umount "$store" || umount -l "$store"; fi
  rm -rf "$store"
}
trap cleanup EXIT
# mmdebstrap's and podman's own scratch files go there too.
export TMPDIR="$store"

seconds_since() { echo $(( $(date +%s) - $1 )); }

# --- The stand-in base image ---------------------------------------------------------------------
# What python:3.11-slim-bookworm gives the Dockerfile: python/python3 and pip on PATH, venv with
# ensurepip, Python's headers (the build stage compiles mysqlclient against them), apt sources
# for bookworm (the Dockerfile installs gcc and libmariadb), useradd, ca-certificates, tzdata.
# The build machine's CA bundle is trusted inside (a TLS-inspecting proxy in front of PyPI is
# common in CI), and kept trusted when the Dockerfile reinstalls ca-certificates.
base_packages="python3,python3-venv,python3-pip,python3-dev,python-is-python3,ca-certificates,netbase,tzdata,passwd"
base_sources=(
  "deb http://deb.debian.org/debian bookworm main"
  "deb http://deb.debian.org/debian bookworm-updates main"
  "deb http://deb.debian.org/debian-security bookworm-security main"
)
host_ca=/etc/ssl/certs/ca-certificates.crt
base_recipe="standin-v1 bookworm minbase $base_packages ${base_sources[*]} ca:$(sha256sum "$host_ca" | cut -d' ' -f1)"
base_key=$(printf '%s' "$base_recipe" | sha256sum | cut -c1-16)
cache=var/image-cache
base_tar="$cache/python-standin-$base_key.tar"
base_image="localhost/awsomeshop-python-standin:$base_key"
mkdir -p "$cache"
if [ -f "$base_tar" ]; then
  echo "== stand-in base: cached ($base_tar)"
else
  echo "== stand-in base: building with mmdebstrap (Debian bookworm's Python 3.11)"
  t0=$(date +%s)
  # One cached base at a time: an older recipe's tarball is only disk.
  find "$cache" -maxdepth 1 -name 'python-standin-*.tar' -delete
  mmdebstrap --quiet --variant=minbase --format=tar --include="$base_packages" \
    --customize-hook="copy-in $host_ca /usr/local/share/ca-certificates/" \
    --customize-hook='mv "$1/usr/local/share/ca-certificates/ca-certificates.crt" "$1/usr/local/share/ca-certificates/build-host.crt" && chroot "$1" update-ca-certificates >/dev/null 2>&1' \
    bookworm "$base_tar.partial.$$" "${base_sources[@]}"
  mv "$base_tar.partial.$$" "$base_tar"
  echo "   built in $(seconds_since "$t0") s"
fi
t0=$(date +%s)
"${podman[@]}" import --quiet \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["python3"]' \
  "$base_tar" "$base_image" >/dev/null
echo "   imported in $(seconds_since "$t0") s"

# --- The image: the Dockerfile as it is, on the stand-in -----------------------------------------
image=localhost/awsomeshop:image-test
echo "== image: podman build (Dockerfile unchanged; PYTHON_IMAGE=$base_image)"
t0=$(date +%s)
"${podman[@]}" build --quiet --isolation chroot --pull=never --layers=false --format docker \
  --build-arg "PYTHON_IMAGE=$base_image" --tag "$image" --file Dockerfile . >/dev/null
build_seconds=$(seconds_since "$t0")
size=$("${podman[@]}" image inspect --format '{{.Size}}' "$image")
base_size=$("${podman[@]}" image inspect --format '{{.Size}}' "$base_image")
echo "   built in $build_seconds s; image size $(( size / 1000000 )) MB uncompressed," \
  "of which the stand-in base $(( base_size / 1000000 )) MB"

# --- Run it --------------------------------------------------------------------------------------
if [ -z "${IMAGE_TEST_DATABASE_URL:-}" ]; then
  mariadb_url="${MARIADB_URL:-mysql://root@127.0.0.1:3306/awsomeshop}"
  IMAGE_TEST_DATABASE_URL="${mariadb_url%%\?*}_image"
fi
export IMAGE_TEST_DATABASE_URL
export IMAGE_TEST_IMAGE="$image"
export IMAGE_TEST_PODMAN="${podman[*]}"
echo "== image: run as deployed (tests/image)"
set +e
DJANGO_SETTINGS_MODULE=awsomeshop.settings.test .venv/bin/python -m pytest -q -p no:randomly \
  "$root/tests/image" "$@"
rc=$?
set -e
echo "test-image: finished in $(seconds_since "$started") s"
exit $rc
