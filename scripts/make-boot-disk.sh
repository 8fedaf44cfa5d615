#!/usr/bin/env bash
# Builds a bootable hard-disk image of lift86's Linux test guest: BIOS -> MBR -> syslinux -> Linux.
#
#   scripts/make-boot-disk.sh OUTDIR
#
# Needs OUTDIR/vmlinuz (scripts/fetch-linux-guest.sh) and OUTDIR/initrd.gz (scripts/make-initramfs.sh).
# Writes OUTDIR/disk.img (32 MiB raw): an MBR partition table with syslinux's mbr.bin and one
# bootable FAT16 partition (from sector 2048) holding ldlinux.sys, syslinux.cfg, vmlinuz,
# initrd.gz and MD5SUMS (checked by the guest's /check.sh). Built with mtools and syslinux's
# mtools installer: no loop mount, no root.
#
# syslinux.cfg entries (default `check`, booted at once; set BOOT_TIMEOUT=N (tenths of a second)
# to get a `boot:` prompt instead, or hold Shift/Alt on the VGA keyboard):
#   check      console=ttyS0 lift86.check=1          scripted check, then power off / reset
#   vga        console=ttyS0 console=tty0            interactive shell on the VGA text console
#   serial     console=ttyS0                          interactive shell on COM1
#   isa-check  console=ttyS0 noapic nolapic acpi=off pci=off lift86.check=1   (PIC/PIT/8250 only)
set -euo pipefail

die() { echo "make-boot-disk: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: $0 OUTDIR"
OUT=$1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ -s "$OUT/vmlinuz" ] || die "$OUT/vmlinuz missing: run scripts/fetch-linux-guest.sh $OUT first"
[ -s "$OUT/initrd.gz" ] || die "$OUT/initrd.gz missing: run scripts/make-initramfs.sh $OUT first"
PATH=$PATH:/usr/sbin:/sbin
for tool in sfdisk mkfs.fat mcopy syslinux; do
  command -v "$tool" >/dev/null || die "needs $tool (apt-get install fdisk dosfstools mtools syslinux syslinux-common)"
done
MBR=""
for f in /usr/lib/syslinux/mbr/mbr.bin /usr/lib/SYSLINUX/mbr.bin /usr/share/syslinux/mbr.bin; do
  [ -f "$f" ] && MBR=$f && break
done
[ -n "$MBR" ] || die "syslinux mbr.bin not found (apt-get install syslinux-common)"

TIMEOUT=${BOOT_TIMEOUT:-0}
case "$TIMEOUT" in ''|*[!0-9]*) die "BOOT_TIMEOUT must be a number of tenths of a second" ;; esac
stamp="timeout=$TIMEOUT"
if [ -s "$OUT/disk.img" ] && [ "$(cat "$OUT/disk.img.stamp" 2>/dev/null)" = "$stamp" ]; then
  stale=0
  for f in "$OUT/vmlinuz" "$OUT/initrd.gz" "$HERE/make-boot-disk.sh"; do
    [ "$f" -nt "$OUT/disk.img" ] && stale=1
  done
  [ $stale -eq 0 ] && exit 0
fi

DISK_MIB=32
PART_START=2048                                   # sectors (1 MiB, the usual alignment)
PART_SECTORS=$(( DISK_MIB * 2048 - PART_START ))
W=$OUT/work/disk
rm -rf "$W"; mkdir -p "$W"
img=$OUT/disk.img.tmp
rm -f "$img"

# partition table: one bootable FAT16 (LBA) partition
truncate -s ${DISK_MIB}M "$img"
printf 'label: dos\nlabel-id: 0x1f7086a1\nunit: sectors\nstart=%d, size=%d, type=e, bootable\n' \
  "$PART_START" "$PART_SECTORS" | sfdisk -q "$img" >/dev/null
dd if="$MBR" of="$img" bs=440 count=1 conv=notrunc status=none

# file system, made in place at the partition's offset; hidden sectors = partition start
mkfs.fat -F 16 -n LIFT86 -i 1f7086a1 -h $PART_START --offset $PART_START "$img" $(( PART_SECTORS / 2 )) >/dev/null

prompt=0; [ "$TIMEOUT" -gt 0 ] && prompt=1
cat >"$W/syslinux.cfg" <<EOF
SERIAL 0 115200
SAY lift86-syslinux: booting Linux
PROMPT $prompt
TIMEOUT $TIMEOUT
DEFAULT check

LABEL check
  KERNEL /vmlinuz
  INITRD /initrd.gz
  APPEND console=ttyS0 lift86.check=1
LABEL vga
  KERNEL /vmlinuz
  INITRD /initrd.gz
  APPEND console=ttyS0 console=tty0
LABEL serial
  KERNEL /vmlinuz
  INITRD /initrd.gz
  APPEND console=ttyS0
LABEL isa-check
  KERNEL /vmlinuz
  INITRD /initrd.gz
  APPEND console=ttyS0 noapic nolapic acpi=off pci=off lift86.check=1
EOF
cp "$OUT/vmlinuz" "$OUT/initrd.gz" "$W/"
(cd "$W" && md5sum vmlinuz initrd.gz syslinux.cfg >MD5SUMS)

export MTOOLS_SKIP_CHECK=1
part="$img@@$(( PART_START * 512 ))"
mcopy -i "$part" -m "$W/vmlinuz" "$W/initrd.gz" "$W/syslinux.cfg" "$W/MD5SUMS" ::/
# syslinux's mtools installer: writes ldlinux.sys/ldlinux.c32 and the partition's boot sector
syslinux --install --offset $(( PART_START * 512 )) "$img"
mdir -a -i "$part" -b ::/ | grep -qi 'ldlinux.sys' || die "syslinux did not install ldlinux.sys"

mv "$img" "$OUT/disk.img"
rm -rf "$W"
echo "$stamp" >"$OUT/disk.img.stamp"
echo "make-boot-disk: $OUT/disk.img ($(stat -c %s "$OUT/disk.img") bytes)"
