#!/bin/sh
# Installs the Debian packages jute needs and that this machine misses (Debian 12).
#   scripts/setup.sh        what the main program needs (library, examples, data)
#   scripts/setup.sh test   that plus what the test suite and benchmarks need
# Uses sudo when not run as root. Does nothing (and needs no network) when all are present.
set -eu

# The library, the example programs and their data.
packages="cmake ninja-build g++ pkg-config
  libxtensor-dev xtl-dev libxsimd-dev libxtensor-blas-dev libopenblas-dev
  libdnnl-dev libmsgpack-cxx-dev zlib1g-dev nettle-dev libzip-dev libcli11-dev nlohmann-json3-dev
  dataset-fashion-mnist"
# The test suite (doctest, RapidCheck) and the benchmarks (Google Benchmark).
test_packages="doctest-dev librapidcheck-dev libbenchmark-dev clang-format"

case "${1:-}" in
  "") ;;
  test) packages="$packages $test_packages" ;;
  *) echo "usage: scripts/setup.sh [test]" >&2; exit 2 ;;
esac

missing=""
for p in $packages; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0

echo "setup: installing$missing"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "setup: missing packages and not root, and sudo is not installed:$missing" >&2
    exit 1
  fi
  sudo="sudo"
fi
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update
# shellcheck disable=SC2086  # the package list is split into words on purpose
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y $missing
