#!/usr/bin/env bash
# Configures and builds lift86 in ./build (Ninja, at most 2 compile jobs).
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${LIFT86_JOBS:-2}"
if [ ! -f build/build.ninja ]; then
  cmake -G Ninja -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build build -j "$JOBS"
