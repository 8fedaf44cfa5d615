#!/bin/sh
# host_run.sh PROGRAM.asm|PROGRAM.c [OUT]
# Builds a guest test program in host mode (-DLIFT86_HOST: a Linux i386 executable whose output
# goes to stdout) and runs it on this machine's CPU. Only for programs that use CPL-3
# instructions and no system set-up (fpu.asm, integer.asm, fpu.c, compute.c): the real x87/ALU
# cross-checks expectations that were generated on QEMU. Needs an x86 host that runs 32-bit
# binaries, nasm and gcc-multilib.
set -e
src=$1
dir=$(cd "$(dirname "$0")/.." && pwd)
name=$(basename "$src")
name=${name%.*}
out=${2:-/tmp/lift86-host-$name}
case "$src" in
*.asm)
    nasm -f elf32 -DLIFT86_HOST -I "$dir/lib/" -o "$out.o" "$src"
    ld -m elf_i386 -z noexecstack -o "$out" "$out.o"
    ;;
*.c)
    cflags="-m32 -march=i686 -ffreestanding -nostdlib -fno-pic -fno-pie -fno-stack-protector -O2
            -fno-asynchronous-unwind-tables -fno-builtin -fno-tree-loop-distribute-patterns -fcf-protection=none
            -DLIFT86_HOST -I$dir/lib"
    nasm -f elf32 -DLIFT86_HOST -I "$dir/lib/" -o "$out.crt0.o" "$dir/lib/crt0.asm"
    gcc $cflags -c "$dir/lib/rt.c" -o "$out.rt.o"
    gcc $cflags -c "$src" -o "$out.o"
    ld -m elf_i386 -z noexecstack -o "$out" "$out.crt0.o" "$out.rt.o" "$out.o" \
        "$(gcc -m32 -print-libgcc-file-name)"
    ;;
*)
    echo "host_run.sh: expected a .asm or .c file" >&2
    exit 2
    ;;
esac
exec "$out"
