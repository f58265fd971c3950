#!/usr/bin/env bash
# Builds the Debian package: prints the path of sluice_<version>_amd64.deb.
#   scripts/build-deb.sh [BUILD_DIR=build-deb]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-deb}
bash scripts/install-deps.sh >&2
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
  -DSLUICE_BUILD_TESTS=OFF -DSLUICE_BUILD_BENCH=OFF >&2
cmake --build "$build" -j "$(nproc)" >&2
(cd "$build" && cpack -G DEB >&2)
ls "$PWD/$build"/sluice_*_amd64.deb
