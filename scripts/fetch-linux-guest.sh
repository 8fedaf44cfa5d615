#!/usr/bin/env bash
# Fetches the i386 Linux guest used by lift86's boot tests: Debian's 686 kernel and busybox-static.
#
#   scripts/fetch-linux-guest.sh OUTDIR
#
# Leaves in OUTDIR:
#   vmlinuz          the kernel (bzImage) of linux-image-6.1.0-NN-686
#   busybox          busybox-static for i386 (static ELF)
#   config           the kernel's build configuration (boot/config-*)
#   kernel-version   e.g. 6.1.0-56-686
#   modules/         the kernel modules the guest's /init loads (see tests/linux/modules.list)
# Work files (private apt state, .debs) go to OUTDIR/work. The host's dpkg
# configuration is never touched: apt runs with its own lists and cache and APT::Architecture=i386.
# Idempotent: does nothing when everything is already there.
set -euo pipefail

die() { echo "fetch-linux-guest: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: $0 OUTDIR"
OUT=$1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MODLIST="$HERE/../tests/linux/modules.list"
[ -f "$MODLIST" ] || die "missing $MODLIST"

if [ -s "$OUT/vmlinuz" ] && [ -s "$OUT/busybox" ] && [ -s "$OUT/kernel-version" ] && [ -f "$OUT/modules/.done" ] \
   && [ "$OUT/modules/.done" -nt "$MODLIST" ]; then
  exit 0
fi

PATH=$PATH:/usr/sbin:/sbin
for tool in apt-get apt-cache dpkg-deb depmod; do
  command -v "$tool" >/dev/null || die "needs $tool (apt-get install kmod; run on Debian/Ubuntu)"
done

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
W=$OUT/work
mkdir -p "$W/lists/partial" "$W/cache/archives/partial" "$W/debs"
APT=(-o APT::Architecture=i386 -o APT::Architectures::=i386
     -o Dir::State::Lists="$W/lists" -o Dir::Cache="$W/cache"
     -o Dir::State::status=/dev/null -q)

# linux-image-686 is a metapackage: resolve the versioned kernel it depends on (never hard-coded).
resolve() {
  apt-cache "${APT[@]}" depends linux-image-686 2>/dev/null \
    | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-686\)$/\1/p' | head -n1 || true
}
# The index update may fail on one file ("Mirror sync in progress?") while the rest is fine: go on
# with what was fetched when the kernel resolves, retry otherwise. The download must succeed.
KPKG=""
for try in 1 2 3; do
  rc=0
  apt-get "${APT[@]}" update >"$W/update.log" 2>&1 || rc=$?
  KPKG=$(resolve)
  if [ -n "$KPKG" ]; then
    [ $rc -eq 0 ] || echo "fetch-linux-guest: warning: apt-get update had errors (see $W/update.log), going on" >&2
    break
  fi
  [ $try -lt 3 ] && sleep $((try * 5))
done
[ -n "$KPKG" ] || die "cannot resolve linux-image-686 to a versioned kernel package (apt-get update failed? see $W/update.log)"

download() {  # pkg...
  local try
  for try in 1 2 3; do
    (cd "$W/debs" && apt-get "${APT[@]}" download "$@") >>"$W/download.log" 2>&1 && return 0
    [ $try -lt 3 ] && sleep $((try * 5))
  done
  return 1
}
have() { ls "$W/debs/$1"_*_i386.deb >/dev/null 2>&1; }
if ! have "$KPKG" || ! have busybox-static; then
  download "$KPKG" busybox-static || die "apt-get download $KPKG busybox-static failed after 3 tries (see $W/download.log)"
fi

newest() { find "$W/debs" -maxdepth 1 -name "$1" -printf '%T@ %p\n' | sort -rn | head -n1 | cut -d' ' -f2-; }
kdeb=$(newest "${KPKG}_*_i386.deb")
bdeb=$(newest "busybox-static_*_i386.deb")
if [ -z "$kdeb" ] || [ -z "$bdeb" ]; then die "downloaded .deb files not found in $W/debs"; fi

rm -rf "$W/kernel" "$W/busybox"
dpkg-deb -x "$kdeb" "$W/kernel"
dpkg-deb -x "$bdeb" "$W/busybox"

KVER=${KPKG#linux-image-}
[ -f "$W/kernel/boot/vmlinuz-$KVER" ] || die "$kdeb has no boot/vmlinuz-$KVER"
[ -x "$W/busybox/bin/busybox" ] || die "$bdeb has no bin/busybox"

# Modules the guest needs that this kernel builds as modules (tests/linux/modules.list names them;
# modules.dep gives their dependencies). Copied with their dependencies, in load order.
# The .deb ships no modules.dep (its postinst runs depmod): make one in the unpacked tree.
MODDIR=$W/kernel/lib/modules/$KVER
depmod -b "$W/kernel" -F "$W/kernel/boot/System.map-$KVER" "$KVER" \
  || die "depmod failed on the unpacked $KPKG"
rm -rf "$OUT/modules"; mkdir -p "$OUT/modules"
: >"$OUT/modules/load-order"
declare -A seen=()
add_module() {  # module name, e.g. ata_piix
  local name=$1 rel deps d
  rel=$(awk -v n="$name" -F: '{ f=$1; sub(/.*\//, "", f); sub(/\.ko(\.[a-z]+)?$/, "", f); gsub(/-/, "_", f);
                                 if (f == n) { print $1; exit } }' "$MODDIR/modules.dep")
  if [ -z "$rel" ]; then
    # Not a module: it must be built in (modules.builtin) or the list is wrong.
    grep -q "/${name//_/[_-]}\.ko\$" "$MODDIR/modules.builtin" \
      || die "module $name is neither in modules.dep nor modules.builtin of $KVER"
    return 0
  fi
  [ -n "${seen[$rel]:-}" ] && return 0
  seen[$rel]=1
  deps=$(awk -v r="$rel" -F': *' '$1 == r { print $2; exit }' "$MODDIR/modules.dep")
  for d in $deps; do
    d=${d##*/}; d=${d%%.ko*}; add_module "${d//-/_}"
  done
  local base=${rel##*/}
  case "$base" in
    *.ko.xz) xz -dc "$MODDIR/$rel" >"$OUT/modules/${base%.xz}" ;;
    *.ko.zst) zstd -qdc "$MODDIR/$rel" >"$OUT/modules/${base%.zst}" ;;
    *.ko.gz) gzip -dc "$MODDIR/$rel" >"$OUT/modules/${base%.gz}" ;;
    *) cp "$MODDIR/$rel" "$OUT/modules/$base" ;;
  esac
  echo "${base%%.ko*}.ko" >>"$OUT/modules/load-order"
}
while read -r m _; do
  case "$m" in ''|'#'*) continue ;; esac
  add_module "$m"
done <"$MODLIST"

cp "$W/kernel/boot/config-$KVER" "$OUT/config"
cp "$W/busybox/bin/busybox" "$OUT/busybox.tmp" && mv "$OUT/busybox.tmp" "$OUT/busybox"
cp "$W/kernel/boot/vmlinuz-$KVER" "$OUT/vmlinuz.tmp" && mv "$OUT/vmlinuz.tmp" "$OUT/vmlinuz"
echo "$KVER" >"$OUT/kernel-version"
touch "$OUT/modules/.done"
rm -rf "$W/kernel" "$W/busybox"   # 200 MB of unpacked trees; the .debs stay for a re-run
echo "fetch-linux-guest: $KPKG ($(basename "$kdeb")), $(basename "$bdeb") -> $OUT"
