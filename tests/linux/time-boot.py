#!/usr/bin/env python3
"""Runs an emulator command that boots lift86's Linux test guest and times its console output.

  tests/linux/time-boot.py [--timeout S] [--log FILE] [--expected FILE] -- CMD ARGS...

Prints the host wall-clock seconds from start to the kernel's first message (`Linux version`, after
BIOS, boot loader and decompression), to `Run /init`, to the `lift86-linux-ready` banner, to
`lift86-check-done` and to the command's exit, one `key=value` a line (`none` when not seen), then
the command's CPU time (user + system, all its threads): less sensitive than wall time to other
load on the machine, but it also counts the emulator's idle polling. With --expected, every line
of that file (blank and '#' lines skipped) must appear in the output. Exits 0 when the check
finished (and the expected lines were found), 1 otherwise. Works for qemu-system-i386 and lift86
alike: both print the guest's serial console on stdout.
"""
import argparse
import os
import resource
import subprocess
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--log")
    ap.add_argument("--expected")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    if not cmd:
        ap.error("no command given")

    marks = {"kernel": b"Linux version ", "init": b"Run /init as init process",
             "ready": b"lift86-linux-ready", "done": b"lift86-check-done"}
    seen = {}
    out = bytearray()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    try:
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
    except OSError as e:
        print(f"time-boot: cannot run {cmd[0]}: {e.strerror}", file=sys.stderr)
        return 1
    os.set_blocking(p.stdout.fileno(), False)
    timed_out = False
    while True:
        chunk = None
        try:
            chunk = p.stdout.read()
        except BlockingIOError:
            pass
        now = time.monotonic() - t0
        if chunk:
            out += chunk
            for k, m in marks.items():
                if k not in seen and m in out:
                    seen[k] = now
        elif p.poll() is not None:
            break
        if now > a.timeout:
            timed_out = True
            p.kill()
            p.wait()
            break
        time.sleep(0.005)
    end = time.monotonic() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    text = out.decode("utf-8", "replace")
    if a.log:
        with open(a.log, "w") as f:
            f.write(text)

    ok = "done" in seen and not timed_out
    missing = []
    if a.expected:
        lines = set(l.rstrip("\r") for l in text.splitlines())
        with open(a.expected) as f:
            for l in f:
                l = l.rstrip("\n")
                if l and not l.startswith("#") and l not in lines:
                    missing.append(l)
    for k in marks:
        print(f"{k}_s={seen[k]:.2f}" if k in seen else f"{k}_s=none")
    print(f"exit_s={end:.2f}" + (" (timeout, killed)" if timed_out else f" rc={p.returncode}"))
    print(f"cpu_s={cpu:.2f}")
    for l in missing:
        print(f"missing: {l}")
    return 0 if ok and not missing else 1


if __name__ == "__main__":
    sys.exit(main())
