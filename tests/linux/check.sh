#!/bin/sh
# Scripted check of lift86's Linux test guest, run by /init when the kernel command line has
# lift86.check=1. Lines starting "lift86-check: " are deterministic: the same on every correct
# x86 (tests/linux/check.expected lists them). uname, cpuinfo and uptime lines are informative.
say() { echo "lift86-check: $*"; }

echo "lift86-uptime: start $(cut -d' ' -f1 /proc/uptime)"
uname -a
cat /proc/cpuinfo

# integer work through busybox: text generation, hashing, compression, sorting
say "seq-md5 $(seq 1 20000 | md5sum | cut -d' ' -f1)"
say "seq-sha256 $(seq 1 20000 | sha256sum | cut -d' ' -f1)"
say "gzip-md5 $(seq 1 50000 | gzip -9 | md5sum | cut -d' ' -f1)"
say "gunzip-md5 $(seq 1 50000 | gzip -1 | gunzip | md5sum | cut -d' ' -f1)"
say "sort-md5 $(seq 1 5000 | sort -r | sort -n -k1 | md5sum | cut -d' ' -f1)"
say "zero-md5 $(dd if=/dev/zero bs=65536 count=64 2>/dev/null | md5sum | cut -d' ' -f1)"
# floating point: busybox awk computes in double precision (x87 code in this i386 build; it has
# no math library: + - * / and printf only)
say "awk-harmonic $(awk 'BEGIN { s = 0; for (i = 1; i <= 20000; i++) s += 1 / i; printf "%.12f", s }')"
say "awk-sqrt2 $(awk 'BEGIN { x = 1; for (i = 0; i < 8; i++) x = (x + 2 / x) / 2; printf "%.15f %.6e", x, x * 1e300 * 1e8 }')"
# processes: fork/exec/pipe/wait
say "fork $(i=0; while [ $i -lt 50 ]; do /bin/true; i=$((i + 1)); done; echo $i)"

# Boot disk (scripts/make-boot-disk.sh): its FAT partition holds MD5SUMS of its own files, so this
# reads the kernel and initrd back through the IDE driver and checks every byte.
if [ -b /dev/sda1 ]; then
  if mount -t vfat -o ro /dev/sda1 /mnt 2>/dev/null; then
    if [ -f /mnt/MD5SUMS ]; then
      if (cd /mnt && md5sum -c -s MD5SUMS); then say "disk sda1 ok"; else say "disk sda1 BAD"; fi
    else
      say "disk sda1 mounted (no MD5SUMS)"
    fi
    umount /mnt
  else
    say "disk sda1 not mountable"
  fi
else
  echo "lift86-disk: none"
fi

echo "lift86-uptime: end $(cut -d' ' -f1 /proc/uptime)"
echo "lift86-check-done"
