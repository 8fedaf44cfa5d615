#!/usr/bin/env bash
# -gdb / -s / -S errors a user can make: one clear line and exit status 2, never a crash.
#   cli_errors.sh LIFT86 KERNEL
set -u
lift86=$1 kernel=$2
failed=0
expect_usage_error() {   # regex args...
    local re=$1; shift
    local err rc
    err=$(timeout 20 "$lift86" -kernel "$kernel" "$@" 2>&1 >/dev/null)
    rc=$?
    if [ $rc -ne 2 ] || ! grep -q -E -e "$re" <<<"$err" || [ "$(wc -l <<<"$err")" -ne 1 ]; then
        echo "FAIL: lift86 $* -> status $rc, stderr:"; echo "$err"; failed=1
    fi
}
expect_usage_error "invalid gdb port in 'tcp::99999'" -gdb tcp::99999
expect_usage_error "invalid gdb port in 'tcp::abc'" -gdb tcp::abc
expect_usage_error "unsupported gdb transport 'unix:/tmp/x'" -gdb unix:/tmp/x
expect_usage_error "cannot listen for gdb on no.such.host.invalid:1234" -gdb tcp:no.such.host.invalid:1234

# A port already in use: the first lift86 waits for gdb (-S) on a free port, a second one asks
# for the same port.
tmp=$(mktemp -d)
timeout 60 "$lift86" -kernel "$kernel" -gdb tcp::0 -S 2>"$tmp/err" &
first=$!
port=
for _ in $(seq 100); do
    port=$(sed -n 's/^lift86: gdb stub listening on .*:\([0-9][0-9]*\)$/\1/p' "$tmp/err")
    [ -n "$port" ] && break
    sleep 0.1
done
if [ -z "$port" ]; then
    echo "FAIL: the first lift86 did not start its stub"; cat "$tmp/err"; failed=1
else
    expect_usage_error "cannot listen for gdb on 127.0.0.1:$port: Address already in use" -gdb "tcp::$port"
fi
kill "$first" 2>/dev/null
wait "$first" 2>/dev/null
rm -rf "$tmp"
[ $failed -eq 0 ] && echo ok
exit $failed
