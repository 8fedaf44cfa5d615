#!/usr/bin/env bash
# A second lift86 opening a disk image for writing while another runs on it is refused with one
# clear line and exit status 2, and the image is left as it was (issue 3: lock the image).
set -u
lift86=$1 src=$2
work=$(mktemp -d)
trap 'kill $first 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
cp "$src" "$work/disk.img"
sum=$(md5sum < "$work/disk.img")
# The first one: SeaBIOS booting the disk; it keeps running until killed.
"$lift86" -hda "$work/disk.img" -display none --max-insns 100000000000 >/dev/null 2>&1 &
first=$!
sleep 1
err=$("$lift86" -hda "$work/disk.img" -display none 2>&1 >/dev/null)
rc=$?
if [ $rc -ne 2 ]; then echo "second lift86 exited with $rc, expected 2: $err"; exit 1; fi
if [ "$(printf '%s\n' "$err" | wc -l)" -ne 1 ] || ! printf '%s' "$err" | grep -q "disk.img"; then
    echo "expected one line naming the image, got: $err"; exit 1
fi
# A reader (-snapshot) is refused too while a writer runs: it could read half-written data
# (QEMU refuses the same without share-rw).
"$lift86" -hda "$work/disk.img" -snapshot -display none --max-insns 1000 >/dev/null 2>&1
rc=$?
if [ $rc -ne 2 ]; then echo "-snapshot run beside a writer exited with $rc, expected 2"; exit 1; fi
kill $first; wait $first 2>/dev/null
[ "$(md5sum < "$work/disk.img")" = "$sum" ] || { echo "the image changed"; exit 1; }
# lift86 speaks QEMU's lock protocol: two readers (lift86 -snapshot, QEMU snapshot=on) share the
# image, and QEMU refuses to read an image a lift86 writer holds.
if qemu=$(command -v qemu-system-i386); then
  "$lift86" -hda "$work/disk.img" -snapshot -display none --max-insns 100000000000 >/dev/null 2>&1 &
  first=$!
  sleep 1
  qerr=$(timeout 2 "$qemu" -M pc -display none -drive file="$work/disk.img",format=raw,if=ide,snapshot=on 2>&1 >/dev/null)
  if printf '%s' "$qerr" | grep -qi lock; then echo "QEMU could not share the image with a lift86 reader: $qerr"; exit 1; fi
  kill $first; wait $first 2>/dev/null
  "$lift86" -hda "$work/disk.img" -display none --max-insns 100000000000 >/dev/null 2>&1 &
  first=$!
  sleep 1
  qerr=$(timeout 2 "$qemu" -M pc -display none -drive file="$work/disk.img",format=raw,if=ide,readonly=on 2>&1 >/dev/null)
  if ! printf '%s' "$qerr" | grep -qi lock; then echo "QEMU read an image a lift86 writer holds: $qerr"; exit 1; fi
  kill $first; wait $first 2>/dev/null
fi
echo "ok: $err"
