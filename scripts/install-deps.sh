#!/usr/bin/env bash
# Installs the Debian 12 packages lift86 needs to build, run and test. Safe to re-run.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
PKGS=(
  build-essential cmake ninja-build ccache lld pkg-config   # toolchain
  libzydis-dev libfmt-dev libcli11-dev zlib1g-dev liblzma-dev # lift86's libraries
  libsdl2-dev libpng-dev                                     # display window, screenshots
  libgtest-dev                                               # unit tests
  nasm gcc-multilib xorriso                                  # guest test programs, roms/
  acpica-tools                                               # iasl: the ACPI DSDT (roms/acpi)
  libunicorn-dev                                             # per-instruction oracle in tests
  qemu-system-x86                                            # reference for guest tests and bench/
  bc python3                                                 # bench/ scripts
  cpio kmod fdisk dosfstools mtools syslinux syslinux-common # Linux test guest (scripts/make-*.sh)
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "lift86: installing ${missing[*]}"
  # Another apt may hold the lock for a while on a fresh machine: wait for it.
  for try in 1 2 3; do
    $SUDO apt-get -o DPkg::Lock::Timeout=300 update -q && break || sleep 10
  done
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${missing[@]}"
fi
