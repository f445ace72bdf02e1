#!/usr/bin/env python3
"""bouncetrail `decode` against Sisimai on one mbox, runs interleaved.

    python3 benches/versus.py BOUNCETRAIL MBOX [ROUNDS]      (default 10 rounds)

Each round runs `BOUNCETRAIL decode -q MBOX` three times and Sisimai
(`perl -MSisimai -e 'Sisimai->dump(shift)' MBOX`, Debian's libsisimai-perl)
once, output to /dev/null. hyperfine measures one command after the other:
on a shared virtual machine whose speed drifts by 10-20 % over minutes, the
two commands are then timed at different speeds. Interleaved, both see the
same drift, and each Sisimai run is also compared with the decode runs just
before and after it (the paired ratios).

Prints, for each command, mean ± standard deviation, median and range of
the wall-clock time, and messages per second; then the ratio of the means
(with its spread over single runs, from both standard deviations, and its
standard error, from both means' standard errors) and the median and range
of the paired ratios. MESSAGES (for messages per second) is counted from
the mbox's From_ lines.
"""

import statistics
import subprocess
import sys
import time


def timed(cmd):
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    took = time.perf_counter() - start
    if done.returncode not in (0, 1):
        sys.exit(f"versus: {' '.join(cmd)} exited with {done.returncode}")
    return took


def describe(name, times, messages):
    mean = statistics.mean(times)
    sd = statistics.stdev(times) if len(times) > 1 else 0.0
    print(
        f"{name:10} {mean * 1000:10.1f} ms ± {sd * 1000:7.1f}   median {statistics.median(times) * 1000:10.1f} ms"
        f"   range {min(times) * 1000:.1f}-{max(times) * 1000:.1f} ms   {messages / mean:12,.0f} msg/s   ({len(times)} runs)"
    )
    return mean, sd


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    bt, mbox = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) == 4 else 10
    with open(mbox, "rb") as f:
        messages = sum(1 for line in f if line.startswith(b"From "))
    ours = [bt, "decode", "-q", mbox]
    theirs = ["perl", "-MSisimai", "-e", "Sisimai->dump(shift)", mbox]
    print(f"{mbox}: {messages:,} messages; {rounds} rounds of 3 x decode, 1 x Sisimai")
    for _ in range(3):  # warm-up: page cache, binary, Perl modules
        timed(ours)
    timed(theirs)
    a, b, paired = [], [], []
    for _ in range(rounds):
        before = timed(ours)
        sisimai = timed(theirs)
        after = [timed(ours), timed(ours)]
        a += [before] + after
        b.append(sisimai)
        paired.append(sisimai / statistics.mean([before, after[0]]))
    ma, sa = describe("decode", a, messages)
    mb, sb = describe("Sisimai", b, messages)
    ratio = mb / ma
    # The spread of single runs, and the standard error of the ratio of the
    # means (each mean's standard error is its spread over the root of its
    # number of runs): how far this run's ratio may lie from the true one.
    spread = ratio * ((sa / ma) ** 2 + (sb / mb) ** 2) ** 0.5
    error = ratio * ((sa / ma) ** 2 / len(a) + (sb / mb) ** 2 / len(b)) ** 0.5
    print(f"ratio of means: {ratio:.1f}x ± {spread:.1f} (single runs), standard error ± {error:.1f}")
    print(
        f"paired ratios (each Sisimai run / the decode runs beside it): median {statistics.median(paired):.1f}x,"
        f" range {min(paired):.1f}-{max(paired):.1f}x"
    )


if __name__ == "__main__":
    main()
