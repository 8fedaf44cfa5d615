#!/usr/bin/env bash
# The README's second command: install, build, and run every test (unit, single-step, guest,
# boot). CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
cd build
ctest --output-on-failure -j 2 --timeout 900 "$@"
