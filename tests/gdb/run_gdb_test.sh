#!/usr/bin/env bash
# Runs one gdb stub test: starts lift86 stopped before the first instruction (-S) on a free port,
# drives it with the real gdb (or with raw protocol bytes), and checks the outputs.
#
#   run_gdb_test.sh --lift86 PATH --work DIR --expect FILE
#                   (--gdb PATH --script FILE.gdb [--symbols ELF] | --raw FILE.sh)
#                   -- GUEST-ARGS...            (e.g. -kernel gdbtest.elf, or -hda realmode.img)
#
# FILE.gdb: gdb commands, fed to gdb's standard input one line at a time (so gdb's event loop runs
# between commands and asynchronous stops, as after `continue &` + `interrupt`, are seen). @PORT@
# becomes the stub's port. A line `#pause SECONDS` waits before the next line; `#` lines are
# comments. `quit` is appended (gdb then detaches and the guest runs to its end).
#
# FILE.sh (--raw): a bash fragment run with $PORT set and the helpers below, for protocol-level
# abuse that gdb itself would never send.
#
# FILE (--expect), one expectation per line (extended regular expressions, grep -E):
#   gdb: RE         the next line of gdb's output matching RE, after the previous gdb: match
#   gdb-not: RE     no line of gdb's output matches RE
#   debugcon: RE    likewise, in order, in what the guest printed on port 0xE9
#   stderr: RE      likewise, in order, in lift86's standard error
#   exit: N         lift86's exit status (1: the guest wrote 0 to isa-debug-exit)
#
# Every wait has a limit: a hang fails the test, it never blocks CI.
set -u

lift86= gdb= script= raw= symbols= expect= work=
while [ $# -gt 0 ]; do
    case $1 in
    --lift86) lift86=$2; shift 2 ;;
    --gdb) gdb=$2; shift 2 ;;
    --script) script=$2; shift 2 ;;
    --raw) raw=$2; shift 2 ;;
    --symbols) symbols=$2; shift 2 ;;
    --expect) expect=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "run_gdb_test.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
GDB_TIMEOUT=${GDB_TIMEOUT:-60}      # seconds for the whole gdb session
EXIT_TIMEOUT=${EXIT_TIMEOUT:-30}    # seconds for lift86 to end after gdb has gone

mkdir -p "$work"
rm -f "$work"/gdb.out "$work"/lift86.err "$work"/debugcon.txt "$work"/script.gdb
out=$work/gdb.out err=$work/lift86.err con=$work/debugcon.txt
: > "$out"

failed=0
fail() { echo "FAIL: $*"; failed=1; }

"$lift86" "$@" -gdb tcp:127.0.0.1:0 -S -debugcon "file:$con" \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 -no-reboot --max-insns 4000000000 2>"$err" &
lpid=$!

# The stub prints the port it got ("lift86: gdb stub listening on 127.0.0.1:PORT").
PORT=
for _ in $(seq 100); do
    PORT=$(sed -n 's/^lift86: gdb stub listening on .*:\([0-9][0-9]*\)$/\1/p' "$err" | head -n1)
    [ -n "$PORT" ] && break
    kill -0 "$lpid" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$PORT" ]; then
    echo "lift86 did not start its gdb stub:"; cat "$err"
    kill -9 "$lpid" 2>/dev/null
    exit 1
fi

# ---- helpers for --raw fragments: bytes in and out of one connection on fd 3
raw_connect() { exec 3<>"/dev/tcp/127.0.0.1/$PORT"; }
raw_close() { exec 3<&- 3>&-; }
raw_send() { printf '%s' "$1" >&3; }
# A whole packet with its checksum.
raw_packet() {
    local p=$1 sum=0 i
    for ((i = 0; i < ${#p}; i++)); do sum=$(( (sum + $(printf '%d' "'${p:i:1}")) & 255 )); done
    printf '$%s#%02x' "$p" "$sum" >&3
}
# Reads what arrives within $2 seconds (default 2), up to $1 bytes, into $REPLY_DATA.
raw_read() {
    REPLY_DATA=
    local c
    while IFS= read -r -d '' -n 1 -t "${2:-2}" -u 3 c; do
        REPLY_DATA+=${c:-$'\n'}
        [ ${#REPLY_DATA} -ge "$1" ] && break
    done
    echo "<- $REPLY_DATA" >>"$out"
}
# Reads up to and including the end of one packet ("#xx").
raw_read_packet() {
    REPLY_DATA=
    local c
    while IFS= read -r -d '' -n 1 -t "${1:-5}" -u 3 c; do
        REPLY_DATA+=$c
        if [[ $REPLY_DATA == *'#'?? ]]; then break; fi
    done
    echo "<- $REPLY_DATA" >>"$out"
}

if [ -n "$raw" ]; then
    export PORT out
    export -f raw_connect raw_close raw_send raw_packet raw_read raw_read_packet
    timeout -k 5 "$GDB_TIMEOUT" bash -c 'set +e; source "$0"' "$raw" >>"$out" 2>&1
    rc=$?
    [ $rc -eq 124 ] || [ $rc -eq 137 ] && fail "the raw protocol client did not finish within ${GDB_TIMEOUT}s"
else
    sed -e "s/@PORT@/$PORT/g" -e "s|@WORK@|$work|g" "$script" >"$work/script.gdb"
    # The feeder writes one command at a time; gdb reads them from a pipe, not a terminal.
    {
        while IFS= read -r line || [ -n "$line" ]; do
            case $line in
            '#pause '*) sleep "${line#\#pause }" ;;
            '#'* | '') ;;
            *) printf '%s\n' "$line"; sleep 0.05 ;;
            esac
        done <"$work/script.gdb"
        echo quit
    } | timeout -k 5 "$GDB_TIMEOUT" "$gdb" -nx -q -iex 'set pagination off' -iex 'set confirm off' \
        ${symbols:+"$symbols"} >"$out" 2>&1
    rc=$?
    [ $rc -eq 124 ] || [ $rc -eq 137 ] && fail "gdb did not finish within ${GDB_TIMEOUT}s"
    # gdb prints its prompt before each command's output: drop it so that patterns can use ^.
    sed -i 's/^\((gdb) \)*//' "$out"
fi

# lift86 must end by itself (the guest runs on after gdb detaches, or gdb killed it).
status=
for _ in $(seq $((EXIT_TIMEOUT * 10))); do
    if ! kill -0 "$lpid" 2>/dev/null; then
        wait "$lpid"; status=$?
        break
    fi
    sleep 0.1
done
if [ -z "$status" ]; then
    fail "lift86 still running ${EXIT_TIMEOUT}s after gdb ended"
    kill -9 "$lpid" 2>/dev/null; wait "$lpid" 2>/dev/null
    status=killed
fi
[ -f "$con" ] || : > "$con"

declare -A pos=()
check_in_order() {   # label file regex
    local label=$1 file=$2 re=$3 start=${pos[$1]:-0} hit
    hit=$(tail -n +"$((start + 1))" "$file" | grep -n -E -m1 -e "$re" | cut -d: -f1)
    if [ -z "$hit" ]; then
        fail "$label: no line matching /$re/ after line $start of $(basename "$file")"
    else
        pos[$label]=$((start + hit))
    fi
}

while IFS= read -r e || [ -n "$e" ]; do
    case $e in
    '#'* | '') ;;
    'gdb: '*) check_in_order gdb "$out" "${e#gdb: }" ;;
    'gdb-not: '*) grep -q -E -e "${e#gdb-not: }" "$out" && fail "gdb output matches /${e#gdb-not: }/" ;;
    'debugcon: '*) check_in_order debugcon "$con" "${e#debugcon: }" ;;
    'stderr: '*) check_in_order stderr "$err" "${e#stderr: }" ;;
    'exit: '*) [ "$status" = "${e#exit: }" ] || fail "lift86 exit status $status, want ${e#exit: }" ;;
    *) fail "bad expectation line: $e" ;;
    esac
done <"$expect"

if [ $failed -ne 0 ]; then
    echo "---- gdb output ($out)"; cat "$out"
    echo "---- lift86 stderr"; cat "$err"
    echo "---- guest debug console"; cat "$con"
    exit 1
fi
echo "ok"
