#!/usr/bin/env bash
# The README's second command: install, build, and run every test (unit, single-step, guest,
# boot). CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
# The Linux guest for the boot tests: Debian's i386 kernel and busybox, fetched with apt-get.
cmake --build build --target linux_guest
cd build
ctest --output-on-failure -j 2 --timeout 900 "$@"
