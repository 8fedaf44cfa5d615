#!/bin/sh
# host_run.sh PROGRAM.asm [OUT]
# Builds a guest test program in host mode (nasm -DLIFT86_HOST: Linux i386 executable, output on
# stdout) and runs it on this machine's CPU. For programs whose test_main only uses CPL-3
# instructions (fpu.asm, integer.asm): the real x87/ALU cross-checks the expectations, which are
# otherwise generated on QEMU. Needs an x86 host that runs 32-bit binaries.
set -e
src=$1
dir=$(dirname "$0")/..
out=${2:-/tmp/$(basename "$src" .asm).host}
nasm -f elf32 -DLIFT86_HOST -I "$dir/lib/" -o "$out.o" "$src"
ld -m elf_i386 -z noexecstack -o "$out" "$out.o"
exec "$out"
