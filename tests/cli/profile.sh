#!/usr/bin/env bash
# --profile (machine/profile.cpp, docs/profile.md) on tests/cli/profile_guest.asm: the report must
# agree with the run — the totals with --stats and --max-insns, the per-mode and per-phase counts
# with the total, the first user instruction with the guest's ring-3 entry, the hottest block
# with the guest's hot loop, the re-decoded block with the number of times the guest rewrote it,
# and the device table with the ports the guest used.
# With MBR.img (tests/guest/mbr.asm) and Debian's SeaBIOS, also the phases of a firmware boot:
# SeaBIOS's own protected-mode code above 1 MiB (its relocated init) must not count as a kernel.
# Usage: profile.sh LIFT86 PROFILE_GUEST.bin [MBR.img]
set -u
lift86=$1 guest=$2 mbr=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
check_eq() { [ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"; }

# A section of the report, from its "== Name" header to the next blank line.
section() { sed -n "/^== $1/,/^\$/p" "$2"; }
# The numbers column of a table whose first column is a name with single spaces (two or more
# spaces separate the columns).
column() { awk -F'  +' -v c="$1" 'NF > c { print $(c + 1) }'; }
sum() { awk '{ s += $1 } END { printf "%d\n", s }'; }

# ---- a whole run: the guest ends itself through isa-debug-exit (status 1)
"$lift86" -kernel "$guest" -debugcon stdio -device isa-debug-exit --stats --profile "$tmp/p.txt" \
    > "$tmp/out" 2> "$tmp/err"
check_eq "exit status" "$?" 1
check_eq "guest output" "$(cat "$tmp/out")" "ksu"
p=$tmp/p.txt
[ -s "$p" ] || { echo "FAIL: no profile written"; cat "$tmp/err"; exit 1; }
stats=$(sed -n 's/^lift86: \([0-9]*\) instructions in .*/\1/p' "$tmp/err")
total=$(sed -n 's/^instructions retired *\([0-9]*\)$/\1/p' "$p")
check_eq "total against --stats" "$total" "$stats"
grep -q "exit status 1 (isa-debug-exit)" "$p" || fail "the header does not say how the run ended"

modes=$(section "CPU modes" "$p" | grep -E '^(real mode|virtual-8086|protected|user)' | column 1)
check_eq "number of CPU modes" "$(echo "$modes" | wc -l)" 6
check_eq "sum of the CPU modes" "$(echo "$modes" | sum)" "$total"
check_eq "modes total line" "$(section "CPU modes" "$p" | grep '^total' | column 1)" "$total"
user_insns=$(section "CPU modes" "$p" | grep '^user (CPL3)' | column 1)
# 30000 passes of the 4-instruction user loop, plus its set-up and the output at the end.
[ "$user_insns" -ge 120000 ] && [ "$user_insns" -lt 120100 ] || fail "user (CPL3) instructions: $user_insns"

phases=$(section "Boot phases" "$p" | grep -E '^(firmware|boot loader|kernel|user space) ' | awk '$2 != "-"' \
         | sed 's/^boot loader/boot_loader/;s/^user space/user_space/')
check_eq "sum of the phases" "$(echo "$phases" | awk '{ s += $5 } END { print s }')" "$total"
# -kernel: the run starts in the kernel phase at icount 0; user space starts where the kernel ends.
kernel_from=$(echo "$phases" | awk '$1 == "kernel" { print $2 }')
kernel_insns=$(echo "$phases" | awk '$1 == "kernel" { print $5 }')
user_from=$(echo "$phases" | awk '$1 == "user_space" { print $2 }')
user_phase=$(echo "$phases" | awk '$1 == "user_space" { print $5 }')
check_eq "kernel phase start" "$kernel_from" 0
check_eq "user space start" "$user_from" "$kernel_insns"
check_eq "user space phase = CPL3 instructions" "$user_phase" "$user_insns"
grep -qE "^first user instruction at icount $user_from, virtual time 0\.000[0-9]+ s, .*\(001b:00100[0-9a-f]{3}\)" "$p" \
    || fail "no 'first user instruction' line for icount $user_from at 001b:"

# The hottest block is the kernel loop, every pass of it: 100000 x 4 instructions, less the
# passes that slice boundaries cut (those start a block in the middle of the loop).
hot=$(section "Hottest blocks" "$p")
first=$(echo "$hot" | sed -n '/^#1 /,/^#2 /p')
echo "$first" | grep -q "ror edx, 0x05" || fail "the hottest block is not the ROR loop:"$'\n'"$first"
echo "$first" | grep -q "protected CPL0 32-bit  4 insns x " || fail "hottest block header: $(echo "$first" | head -1)"
hot_insns=$(echo "$first" | head -1 | awk '{ print $3 }')
[ "$hot_insns" -gt 399000 ] && [ "$hot_insns" -le 400000 ] || fail "hottest block instructions: $hot_insns"
echo "$hot" | grep -A1 "user (CPL3)  4 insns" | grep -q "bswap eax" || fail "the user loop is not listed"
# The patched block was dropped 2999 times and decoded 3000: its counts survived every drop.
echo "$hot" | grep -qE " 6000 insns  phys 0x00101000 .* 2 insns x 3000 execs, decoded 3000 times" \
    || fail "the rewritten block's counts were lost:"$'\n'"$(echo "$hot" | grep -A2 0x00101000)"
grep -qE "^blocks decoded .*invalidated 2999;" "$p" || fail "block-cache line: $(grep '^blocks decoded' "$p")"
grep -q "not attributed" "$p" && fail "instructions not attributed to a block: $(grep 'not attributed' "$p")"

devices=$(section "Time in devices" "$p")
echo "$devices" | grep -qE '^port +DebugCon +0xe9 +4 ' || fail "no DebugCon on port 0xe9 with 4 calls:"$'\n'"$devices"
echo "$devices" | grep -qE '^port +IsaDebugExit +0xf4 +1 ' || fail "no IsaDebugExit on port 0xf4:"$'\n'"$devices"

# ---- --max-insns: the profile counts exactly what ran; --profile stderr
"$lift86" -kernel "$guest" -debugcon none -device isa-debug-exit --max-insns 200000 --profile stderr 2> "$tmp/err2"
check_eq "exit status with --max-insns" "$?" 3
grep -q "^== Totals ==" "$tmp/err2" || fail "--profile stderr wrote no report"
check_eq "total with --max-insns" "$(sed -n 's/^instructions retired *\([0-9]*\)$/\1/p' "$tmp/err2")" 200000
check_eq "modes with --max-insns" \
    "$(section "CPU modes" "$tmp/err2" | grep -E '^(real mode|virtual-8086|protected|user)' | column 1 | sum)" 200000
grep -q "exit status 3 (--max-insns reached)" "$tmp/err2" || fail "the header does not say --max-insns"
grep -q "^no user-mode (CPL3) instruction ran" "$tmp/err2" || fail "user space reported before ring 3 ran"

# ---- a firmware boot: SeaBIOS, then the MBR at 0000:7C00
if [ -n "$mbr" ] && [ -f /usr/share/seabios/bios.bin ]; then
    "$lift86" -hda "$mbr" -snapshot -display none --max-insns 10000000 --profile "$tmp/fw.txt" > /dev/null 2>&1
    fw=$(section "Boot phases" "$tmp/fw.txt")
    echo "$fw" | grep -qE '^firmware +0 f000:0000fff0 ' || fail "firmware phase:"$'\n'"$fw"
    echo "$fw" | grep -qE '^boot loader +[0-9]+ 0000:00007c00 ' || fail "boot loader phase:"$'\n'"$fw"
    echo "$fw" | grep -qE '^kernel +-$' || fail "SeaBIOS's code above 1 MiB counted as a kernel:"$'\n'"$fw"
    # ...and it did run there (else the check above proves nothing).
    section "Hottest blocks" "$tmp/fw.txt" | grep -qE '^#.* \(linear 0x0[1-9a-f][0-9a-f]{6}\)  protected' \
        || echo "note: no firmware block above 1 MiB among the hottest 30"
    check_eq "phases with firmware" "$(echo "$fw" | sed 's/^boot loader/boot_loader/' | awk '$2 != "-" { s += $5 } END { print s }')" 10000000
fi

if [ "$fails" -ne 0 ]; then
    echo "--- profile:"; cat "$p"
    exit 1
fi
echo "profile consistent with the run: $total instructions, $user_insns at CPL3"
