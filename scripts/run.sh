#!/usr/bin/env bash
# The README's first command: install, build, and boot lift86's default guest (any arguments
# are passed to lift86).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
# The default guest: Debian's i386 Linux with a busybox shell (apt-get download, ~53 MB once).
# Without it lift86 boots its built-in compute demo instead.
cmake --build build --target linux_guest || echo "run.sh: the Linux guest could not be prepared; booting the demo program" >&2
exec build/lift86 "$@"
