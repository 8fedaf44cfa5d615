#!/usr/bin/env bash
# Linux boot benchmark (issue 4): host seconds to the guest's ready banner (userland reached: the
# shell would start), to the end of its scripted check, and of the check alone (a fixed in-guest
# workload: hashing, compression, sorting, floating point, fork/exec), lift86 against qemu-system-i386 -accel tcg with the same
# kernel, initramfs, memory and command line, in one run, printed as ratios. Then one more lift86
# boot with --profile (not timed): where the boot's time goes, per boot phase, CPU mode, hot block
# and device (docs/profile.md); the full report is kept in build/boot-profile.txt. Not a test.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x build/lift86 ] || scripts/build.sh
cmake --build build --target linux_guest >/dev/null
G=build/linux-guest
APPEND="console=ttyS0 isapnp=0 cryptomgr.notests lift86.check=1"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

measure() {   # name, command...
    local name=$1; shift
    python3 tests/linux/time-boot.py --timeout 900 --expected tests/linux/check.expected -- "$@" > "$out/$name" || true
}
# lift86 twice: -kernel as QEMU boots it (SeaBIOS, option ROM, the kernel's own decompressor),
# and --direct-boot (no firmware; the kernel unpacked on the host).
measure lift86 build/lift86 -m 256 -kernel $G/vmlinuz -initrd $G/initrd.gz -append "$APPEND" \
    -serial stdio -display none -no-reboot --stats
measure lift86_direct build/lift86 -m 256 -kernel $G/vmlinuz -initrd $G/initrd.gz -append "$APPEND" \
    -serial stdio -display none -no-reboot --stats --direct-boot
if command -v qemu-system-i386 >/dev/null; then
    measure qemu qemu-system-i386 -M pc -m 256 -accel tcg -kernel $G/vmlinuz -initrd $G/initrd.gz -append "$APPEND" \
        -display none -serial stdio -no-reboot
fi
val() { sed -n "s/^$2=\([0-9.]*\).*/\1/p" "$out/$1"; }
for n in lift86 lift86_direct qemu; do   # the workload alone: from the ready banner to the end of the check
    r=$(val $n ready_s 2>/dev/null || true); d=$(val $n done_s 2>/dev/null || true)
    [ -n "$r" ] && [ -n "$d" ] && echo "workload_s=$(echo "$d - $r" | bc -l)" >> "$out/$n"
done
printf '%-14s %10s %10s %10s %10s\n' "" "ready_s" "workload_s" "done_s" "cpu_s"
for n in lift86 lift86_direct qemu; do
    [ -f "$out/$n" ] && printf '%-14s %10s %10.3f %10s %10s\n' "$n" "$(val $n ready_s)" "$(val $n workload_s)" "$(val $n done_s)" "$(val $n cpu_s)"
done
if [ -f "$out/qemu" ]; then
    for n in lift86 lift86_direct; do
        for k in ready_s workload_s done_s; do
            l=$(val $n $k); q=$(val qemu $k)
            [ -n "$l" ] && [ -n "$q" ] && printf 'ratio %s/qemu %s: %.2f (lower is better)\n' "$n" "$k" "$(echo "$l / $q" | bc -l)"
        done
    done
fi

# Where lift86's boot spends its time: a third run, with --profile (its timings are not compared).
PROFILE=build/boot-profile.txt
measure lift86_profile build/lift86 -m 256 -kernel $G/vmlinuz -initrd $G/initrd.gz -append "$APPEND" \
    -serial stdio -display none -no-reboot --profile "$PROFILE"
if [ -s "$PROFILE" ]; then
    echo
    echo "profile of the lift86 boot (summary; full report with the disassembly: $PROFILE)"
    # Everything up to the hot blocks; of those, the summary line and the ten hottest headers;
    # the ten devices that took the most host time.
    awk '/^== Hottest blocks/ { hot = 1; print; next }
         /^== Time in devices/ { hot = 0; dev = 1; print "" }
         hot && (/^blocks needed/ || /^\(/ || (/^#/ && ++h <= 10)) { print; next }
         hot { next }
         dev && /^(port|mmio|event|display) / && ++d > 10 { next }
         { print }' "$PROFILE"
else
    echo "lift86 --profile wrote no report"
fi
