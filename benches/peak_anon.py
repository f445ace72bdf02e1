#!/usr/bin/env python3
"""Runs a command and reports its peak anonymous memory (RssAnon), which
excludes the memory-mapped input file, by sampling /proc/PID/status.

    python3 benches/peak_anon.py target/release/bouncetrail scan -q --out /tmp/r big.mbox
"""
import subprocess
import sys
import time


def rss_anon_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    start = time.monotonic()
    proc = subprocess.Popen(sys.argv[1:])
    peak = 0
    while proc.poll() is None:
        kib = rss_anon_kib(proc.pid)
        if kib is not None:
            peak = max(peak, kib)
        time.sleep(0.002)
    wall = time.monotonic() - start
    print(f"peak RssAnon {peak / 1024:.1f} MiB, wall {wall:.2f} s, exit {proc.returncode}", file=sys.stderr)
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
