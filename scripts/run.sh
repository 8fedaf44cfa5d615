#!/usr/bin/env bash
# The README's first command: install, build, and boot lift86's default guest (any arguments
# are passed to lift86).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
exec build/lift86 "$@"
