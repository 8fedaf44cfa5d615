#!/usr/bin/env bash
# Builds the initramfs of lift86's Linux test guest.
#
#   scripts/make-initramfs.sh OUTDIR
#
# Needs OUTDIR/busybox and OUTDIR/modules/ from scripts/fetch-linux-guest.sh (run first).
# Writes OUTDIR/initrd.gz: a gzip'd cpio (newc) archive with
#   /bin/busybox (+ /bin/sh; /init installs the other applet links at boot)
#   /init, /check.sh            from tests/linux/
#   /lib/modules/*.ko, load-order  the modules /init loads
# The archive is reproducible: files owned by root, fixed timestamps, sorted, gzip -n.
# Rebuilt only when one of its inputs is newer than it.
set -euo pipefail

die() { echo "make-initramfs: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: $0 OUTDIR"
OUT=$1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GUEST=$HERE/../tests/linux
[ -x "$OUT/busybox" ] || die "$OUT/busybox missing: run scripts/fetch-linux-guest.sh $OUT first"
[ -f "$OUT/modules/load-order" ] || die "$OUT/modules missing: run scripts/fetch-linux-guest.sh $OUT first"
for tool in cpio gzip; do
  command -v "$tool" >/dev/null || die "needs $tool (apt-get install $tool)"
done

inputs=("$OUT/busybox" "$OUT/modules/load-order" "$GUEST/init" "$GUEST/check.sh" "$HERE/make-initramfs.sh")
if [ -s "$OUT/initrd.gz" ]; then
  stale=0
  for f in "${inputs[@]}"; do [ "$f" -nt "$OUT/initrd.gz" ] && stale=1; done
  [ $stale -eq 0 ] && exit 0
fi

R=$OUT/work/initramfs
rm -rf "$R"
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,mnt,lib/modules}
cp "$OUT/busybox" "$R/bin/busybox"
ln -s busybox "$R/bin/sh"
install -m 0755 "$GUEST/init" "$R/init"
install -m 0755 "$GUEST/check.sh" "$R/check.sh"
while read -r m; do
  cp "$OUT/modules/$m" "$R/lib/modules/$m"
done <"$OUT/modules/load-order"
cp "$OUT/modules/load-order" "$R/lib/modules/load-order"
echo "root:x:0:0:root:/root:/bin/sh" >"$R/etc/passwd"
echo "root:x:0:" >"$R/etc/group"
chmod 1777 "$R/tmp"
chmod 0700 "$R/root"
# /dev/console comes from the kernel's built-in initramfs (usr/default_cpio_list), unpacked first;
# /init then mounts devtmpfs on /dev. No device node here, so no root is needed to build this.

find "$R" -exec touch -h -d @0 {} +
tmp=$OUT/initrd.gz.tmp
(cd "$R" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 --reproducible) \
  | gzip -n -9 >"$tmp"
mv "$tmp" "$OUT/initrd.gz"
echo "make-initramfs: $OUT/initrd.gz ($(stat -c %s "$OUT/initrd.gz") bytes)"
