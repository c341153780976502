#!/usr/bin/env python3
"""Runs the hgkd and PyTorch sides of one benchmark row in lockstep: step i of one side, then step i of the other.

    lockstep.py --total N --logs A.log B.log -- CMD_A... -- CMD_B...

Both commands are started with --lockstep (StepBenchmark, step_bench.py): each prints "SYNC ready" once built, then
waits for a line on its standard input before every step and prints "SYNC done <i> <ms>" after it. A is started
first and must be ready before B starts (the hgkd side writes the inputs the PyTorch side reads). The order within
a pair alternates (A then B for even i, B then A for odd i), so that neither side always runs right after the other.

On a machine whose speed drifts by tens of percent within minutes (a shared VM), two sides timed one after the
other see different machines; in lockstep every pair of steps is a few seconds apart, so the ratio of the two sides'
step times is measured on the same machine. Standard error of each command goes to its log; the JSON each side
writes with --out is the result. Prints "A_SECONDS B_SECONDS A_EXIT B_EXIT" (build plus steps of each side, exit
codes; -1 for a side never started) and exits with the first non-zero exit code of the two, or 3 if a side stopped
early.
"""
import argparse
import subprocess
import sys
import time


def split_commands(rest):
    if rest[:1] != ["--"] or rest.count("--") < 2:
        raise SystemExit("lockstep.py: expected -- CMD_A... -- CMD_B...")
    i = rest.index("--", 1)
    a, b = rest[1:i], rest[i + 1:]
    if not a or not b:
        raise SystemExit("lockstep.py: both commands must be non-empty")
    return a, b


def wait_for(proc, prefix):
    """Reads proc's stdout until a line starting with prefix; returns it, or None at end of output."""
    while True:
        line = proc.stdout.readline()
        if not line:
            return None
        if line.startswith(prefix):
            return line
        # anything else on stdout (the final JSON) is not part of the protocol


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--total", type=int, required=True, help="warmup + timed steps of each side")
    ap.add_argument("--logs", nargs=2, required=True, metavar=("A_LOG", "B_LOG"))
    args, rest = ap.parse_known_args()
    cmds = split_commands(rest)
    procs, busy = [], [0.0, 0.0]
    logs = [open(p, "w") for p in args.logs]
    try:
        for k in range(2):
            t0 = time.perf_counter()
            p = subprocess.Popen(cmds[k], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=logs[k], text=True,
                                 bufsize=1)
            procs.append(p)
            if wait_for(p, "SYNC ready") is None:
                print("lockstep.py: %s ended before it was ready (see %s)" % (cmds[k][0], args.logs[k]),
                      file=sys.stderr)
                return finish(procs, busy, 3)
            busy[k] += time.perf_counter() - t0
        for i in range(args.total):
            for k in ((0, 1) if i % 2 == 0 else (1, 0)):
                t0 = time.perf_counter()
                procs[k].stdin.write("go\n")
                procs[k].stdin.flush()
                if wait_for(procs[k], "SYNC done") is None:
                    print("lockstep.py: side %d ended at step %d (see %s)" % (k, i, args.logs[k]), file=sys.stderr)
                    return finish(procs, busy, 3)
                busy[k] += time.perf_counter() - t0
        return finish(procs, busy, 0)
    finally:
        for f in logs:
            f.close()


def finish(procs, busy, code):
    for p in procs:
        try:
            p.stdin.close()
        except OSError:
            pass
    rcs = []
    for p in procs:
        if code:
            p.kill()
        p.stdout.read()  # the JSON; the result is the --out file
        rcs.append(p.wait())
    print("%.1f %.1f %d %d" % (busy[0], busy[1], rcs[0], rcs[1] if len(rcs) > 1 else -1))
    return code or next((rc for rc in rcs if rc != 0), 0)


if __name__ == "__main__":
    sys.exit(main())
