#!/usr/bin/env bash
# End-to-end checks of lift86's -serial back-ends with the serial_echo guest
# (tests/guest/serial_echo.asm: echoes what it receives, then "[serial_echo: N bytes, M overruns]").
#
#   serial.sh MODE LIFT86 SERIAL_ECHO_ELF
#
#   stdin_file  stdin a file of 3000+ bytes: all echoed, in order, with no overrun (the back-end
#               feeds the UART only as fast as its FIFO takes it); bytes pass unchanged
#   stdin_file_host  the same with --clock host (halted, lift86 sleeps in poll())
#   com2        the same through the second -serial, COM2
#   idle        virtual clock, guest halted with no event and only stdin able to wake it: lift86
#               must sleep in poll() (almost no CPU over a second), then wake on input and echo it
#   tcp         -serial tcp::PORT,server: waits for the client, echoes what it sends
#   tty         stdin a terminal (script(1) gives a pseudo-terminal): Ctrl-C reaches the guest as
#               data, C-a C-a sends C-a, C-a x ends lift86 with status 0, the terminal settings
#               are what they were before
#   tty_signal  the same terminal, lift86 killed by SIGTERM: it dies of SIGTERM and the terminal
#               settings are restored
set -u
mode=$1 lift86=$2 elf=$3
common=(-kernel "$elf" -display none -device isa-debug-exit,iobase=0xf4,iosize=0x04 -no-reboot)
work=$(mktemp -d)
trap 'rm -rf "$work"; [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# CPU time (user + system, in clock ticks) a process has used so far.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

case $mode in
stdin_file | stdin_file_host | com2)
    # 3000 printable bytes, then bytes a terminal would treat specially: passed as they are.
    LC_ALL=C awk 'BEGIN { for (i = 0; i < 3000; i++) printf "%c", 32 + (i * 7 + 13) % 95 }' >"$work/in"
    printf '\001x\003\r\nend' >>"$work/in"
    n=$(wc -c <"$work/in")
    args=(-serial stdio)
    [ "$mode" = stdin_file_host ] && args+=(--clock host)
    [ "$mode" = com2 ] && args=(-serial none -serial stdio -append com2)   # the second -serial is COM2
    "$lift86" "${common[@]}" "${args[@]}" <"$work/in" >"$work/out" 2>"$work/err"
    status=$?
    [ "$status" = 1 ] || fail "exit status $status, expected 1 (guest passed): $(cat "$work/err")"
    { cat "$work/in"; printf '\n[serial_echo: %d bytes, 0 overruns]\n' "$n"; } >"$work/expected"
    cmp "$work/expected" "$work/out" || fail "echo differs: $(tail -c 80 "$work/out" | od -c | tail -5)"
    ;;
idle)
    mkfifo "$work/in"
    "$lift86" "${common[@]}" -append until-input -serial stdio <"$work/in" >"$work/out" 2>"$work/err" &
    pid=$!
    exec 3>"$work/in"           # lets lift86's open of the fifo complete
    sleep 1                     # start-up done; the guest is halted waiting for input
    [ -d "/proc/$pid" ] || fail "lift86 ended before any input: $(cat "$work/err")"
    t0=$(cpu_ticks "$pid")
    sleep 1
    t1=$(cpu_ticks "$pid")
    hz=$(getconf CLK_TCK)
    # Spinning would cost a whole second of CPU here; sleeping in poll() costs next to nothing.
    [ $((t1 - t0)) -lt $((hz / 4)) ] || fail "lift86 used $((t1 - t0))/$hz s of CPU in 1 s while the guest waited for input"
    printf 'wake up\r' >&3
    exec 3>&-
    wait "$pid"
    status=$?
    pid=
    [ "$status" = 1 ] || fail "exit status $status, expected 1 (guest passed): $(cat "$work/err")"
    expected=$(printf 'wake up\r\n[serial_echo: 8 bytes, 0 overruns]\n_')
    got=$(cat "$work/out"; printf _)
    [ "$got" = "$expected" ] || fail "output: $(od -c "$work/out" | head)"
    ;;
tcp)
    "$lift86" "${common[@]}" -append until-input -serial tcp::0,server -debugcon "file:$work/dbg" 2>"$work/err" &
    pid=$!
    for _ in $(seq 100); do
        port=$(grep -o 'waiting for a connection on tcp:127.0.0.1:[0-9]*' "$work/err" | sed 's/.*://')
        [ -n "$port" ] && break
        sleep 0.05
    done
    [ -n "$port" ] || fail "no 'waiting for a connection' message: $(cat "$work/err")"
    sleep 0.3
    [ -s "$work/dbg" ] && fail "the guest ran before the client connected: $(cat "$work/dbg")"
    exec 3<>"/dev/tcp/127.0.0.1/$port" || fail "cannot connect to port $port"
    printf 'over tcp\n' >&3
    got=$(timeout 10 cat <&3)   # until lift86 ends and closes the connection
    exec 3>&-
    wait "$pid"
    status=$?
    pid=
    [ "$status" = 1 ] || fail "exit status $status, expected 1: $(cat "$work/err")"
    [ "$got" = "$(printf 'over tcp\n\n[serial_echo: 9 bytes, 0 overruns]')" ] || fail "client got: '$got'"
    grep -q '^serial_echo: ready$' "$work/dbg" || fail "no guest output after the connection"
    ;;
tty)
    command -v script >/dev/null || fail "script(1) (util-linux) is needed"
    # First run: Ctrl-C (0x03) and C-a C-a (one 0x01) reach the guest, which echoes them and
    # ends by itself. Second run: C-a x ends lift86 with status 0. Both leave the terminal as
    # they found it.
    (sleep 1; printf 'hi\003\001\001'; sleep 2; printf '\001x'; sleep 1) |
        LIFT86="$lift86" ELF="$elf" script -qec 'sh -c '\''before=$(stty -g)
            "$LIFT86" -kernel "$ELF" -append until-input -serial stdio -display none -device isa-debug-exit
            echo "status=$?"
            [ "$(stty -g)" = "$before" ] && echo RESTORED1 || echo NOT-RESTORED1
            "$LIFT86" -kernel "$ELF" -append until-input -serial stdio -display none -device isa-debug-exit
            echo "status=$?"
            [ "$(stty -g)" = "$before" ] && echo RESTORED2 || echo NOT-RESTORED2'\''' /dev/null >"$work/out"
    out=$(cat "$work/out")
    case $out in *$'hi\003\001\r\n[serial_echo: 4 bytes, 0 overruns]'*) ;;
                 *) fail "guest echo of 'hi^C^A' missing: $(od -c "$work/out" | head -20)" ;; esac
    case $out in *"status=1"*"RESTORED1"*"lift86: terminated (C-a x)"*"status=0"*"RESTORED2"*) ;;
                 *) fail "expected status=1 RESTORED1, the C-a x message, status=0 RESTORED2: $out" ;; esac
    case $out in *NOT-RESTORED*) fail "terminal settings not restored: $out" ;; esac
    ;;
tty_signal)
    command -v script >/dev/null || fail "script(1) (util-linux) is needed"
    (sleep 4) | LIFT86="$lift86" ELF="$elf" script -qec 'bash -c '\''before=$(stty -g)
            "$LIFT86" -kernel "$ELF" -append until-input -serial stdio -display none </dev/tty &
            p=$!; sleep 1; raw=$(stty -g); kill -TERM $p; wait $p; echo "status=$?"
            [ "$raw" != "$before" ] && echo WAS-RAW
            [ "$(stty -g)" = "$before" ] && echo RESTORED || echo NOT-RESTORED'\''' /dev/null >"$work/out"
    out=$(cat "$work/out")
    case $out in *"status=143"*) ;; *) fail "lift86 did not die of SIGTERM: $out" ;; esac
    case $out in *WAS-RAW*) ;; *) fail "the terminal was never raw: $out" ;; esac
    case $out in *NOT-RESTORED*) fail "terminal settings not restored after SIGTERM" ;; *RESTORED*) ;; *) fail "$out" ;; esac
    ;;
*)
    fail "unknown mode '$mode'"
    ;;
esac
echo "ok: serial $mode"
