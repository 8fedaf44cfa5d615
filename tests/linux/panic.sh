#!/usr/bin/env bash
# A guest that panics must not hurt the host (issue 4): Debian's kernel with an init that does not
# exist panics ("Kernel panic - not syncing"), then spins forever (panic=0); the run is cut by
# --max-insns (exit status 3). It runs on a terminal (script(1) gives it a pty) with -serial
# stdio, so lift86 has put the terminal in raw mode: it must be restored exactly, and the
# writable disk image attached must be byte for byte what it was.
#   panic.sh LIFT86 GUEST_DIR [ENGINE]
set -u
lift86=$1 guest=$2 engine=${3:-interp}
fail() { echo "FAIL: $*"; exit 1; }
if [ ! -f "$guest/vmlinuz" ]; then
  [ "${CI:-}" = true ] && fail "the Linux guest is missing in $guest (build the linux_guest target)"
  echo "SKIP: the Linux guest is missing in $guest"; exit 0
fi
command -v script >/dev/null || fail "script(1) (util-linux) is needed"
work=$(mktemp -d)
cp "$guest/disk.img" "$work/disk.img"
sum=$(md5sum < "$work/disk.img")
exec 3< <(sleep 600)   # a stdin for script(1) that stays open and sends nothing; bash does not wait for it
sleeper=$!
trap 'kill $sleeper 2>/dev/null; rm -rf "$work"' EXIT
LIFT86="$lift86" G="$guest" D="$work/disk.img" E="$engine" script -qec 'bash -c '\''before=$(stty -g)
    "$LIFT86" -kernel "$G/vmlinuz" -initrd "$G/initrd.gz" -hda "$D" -m 256 -display none -serial stdio \
        -append "console=ttyS0 rdinit=/nonexistent root=/dev/nonexistent panic=0 lift86.modules=0" \
        --direct-boot --max-insns 4500000000 --engine "$E" </dev/tty
    echo "status=$?"
    [ "$(stty -g)" = "$before" ] && echo RESTORED || echo NOT-RESTORED'\''' /dev/null <&3 > "$work/out"
out=$(tr -d '\r' < "$work/out")
case $out in *"Kernel panic - not syncing"*) ;; *) fail "no kernel panic on the console: $(tail -c 2000 <<<"$out")" ;; esac
case $out in *"status=3"*) ;; *) fail "expected exit status 3 (--max-insns): $(tail -c 1000 <<<"$out")" ;; esac
case $out in *NOT-RESTORED*) fail "terminal settings not restored after the panic" ;; *RESTORED*) ;; *) fail "$out" ;; esac
[ "$(md5sum < "$work/disk.img")" = "$sum" ] || fail "the disk image changed"
echo "ok: kernel panic, run cut by --max-insns, terminal restored, disk unchanged"
