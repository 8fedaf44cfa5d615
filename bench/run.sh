#!/usr/bin/env bash
# Interpreter throughput: guest MIPS of lift86 on a compute loop, and wall time against
# qemu-system-i386 -accel tcg on the same image, measured in the same run. Not a test.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x build/lift86 ] || scripts/build.sh
out=$(mktemp -d)
nasm -f bin -o "$out/mips_loop.bin" bench/mips_loop.asm

t0=$(date +%s.%N)
build/lift86 -kernel "$out/mips_loop.bin" -debugcon stdio -device isa-debug-exit --stats 2> "$out/stats" > /dev/null || true
t1=$(date +%s.%N)
lift=$(echo "$t1 - $t0" | bc -l)
insns=$(sed -n 's/.*: \([0-9]*\) instructions.*/\1/p' "$out/stats")
printf 'lift86 --engine=interp: %.2f s, %s instructions, %.0f MIPS\n' "$lift" "$insns" "$(echo "$insns / $lift / 1000000" | bc -l)"

if command -v qemu-system-i386 >/dev/null; then
  t0=$(date +%s.%N)
  qemu-system-i386 -accel tcg -m 128 -kernel "$out/mips_loop.bin" -display none -debugcon stdio \
      -device isa-debug-exit,iobase=0xf4,iosize=0x04 -no-reboot > /dev/null || true
  t1=$(date +%s.%N)
  qemu=$(echo "$t1 - $t0" | bc -l)
  printf 'qemu-system-i386 -accel tcg: %.2f s (includes its start-up)\n' "$qemu"
  printf 'ratio lift86/qemu wall time: %.2f (lower is better)\n' "$(echo "$lift / $qemu" | bc -l)"
else
  echo "qemu-system-i386 not installed: no reference"
fi
rm -rf "$out"
