#!/usr/bin/env python3
"""Decodes one mbox with bouncetrail and with Sisimai (libsisimai-perl) and
compares them row by row, joined on (original Message-ID, recipient): how
many rows each finds, and where recipient rows agree on reason, status and
reply code, with the most frequent disagreements and their diagnostics.

A development aid, not a test: Sisimai has its own conventions (a "user
unknown" after DATA is "filtered"; pseudo status codes such as 5.0.910),
so disagreement is something to read, not a score to tune to. It found,
for instance, qmail bounces whose "Giving up on <ip>." hid the cause.

    python3 benches/crosscheck.py target/release/bouncetrail FILE.mbox [N]

N: how many disagreements to list per field (default 10).
"""
import collections
import csv
import re
import subprocess
import sys
import tempfile

SISIMAI = r"""
use Sisimai;
my $v = Sisimai->make(shift) || [];
for my $e (@$v) {
    my $d = $e->damn;
    print join("\t", map { my $x = $d->{$_} // ""; $x =~ s/[\t\n]/ /g; $x }
        qw(messageid recipient reason deliverystatus replycode)), "\n";
}
"""


def shape(diagnostic):
    """The diagnostic with addresses, IPs and long numbers masked, so that
    one wording counts once whatever it names."""
    d = re.sub(r"[\w.+-]+@[\w.-]+", "<addr>", diagnostic)
    d = re.sub(r"\d+\.\d+\.\d+\.\d+", "<ip>", d)
    d = re.sub(r"\b[0-9A-Za-z]{12,}\b", "<id>", d)
    return d[:110]


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    binary, mbox = sys.argv[1], sys.argv[2]
    top = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([binary, "scan", "-q", "--no-hash", "--out", out, mbox], check=False)
        with open(f"{out}/timeline.csv", newline="", encoding="utf-8-sig") as f:
            ours = {(r["original_message_id"], r["recipient"].lower()): r for r in csv.DictReader(f)}
    run = subprocess.run(["perl", "-e", SISIMAI, mbox], capture_output=True, text=True, check=True)
    theirs = {}
    for line in run.stdout.splitlines():
        mid, rcpt, reason, status, reply = line.split("\t")
        theirs[(mid, rcpt.lower())] = {"reason": reason, "status": status, "reply_code": reply}

    both = ours.keys() & theirs.keys()
    print(f"rows: bouncetrail {len(ours)}, Sisimai {len(theirs)}, joined {len(both)}")
    only = collections.Counter(ours[k]["family"] for k in ours.keys() - theirs.keys())
    print(f"only bouncetrail: {sum(only.values())} {dict(only)}")
    print(f"only Sisimai: {len(theirs.keys() - ours.keys())}")
    for field in ("reason", "status", "reply_code"):
        diff = collections.Counter()
        for k in both:
            a, b = ours[k][field], theirs[k][field]
            if a != b:
                diff[(a, b, shape(ours[k]["diagnostic"]))] += 1
        same = len(both) - sum(diff.values())
        print(f"\n{field}: agree {same}/{len(both)}")
        for (a, b, diag), n in diff.most_common(top):
            print(f"  {n:5}  ours={a or '-'} sisimai={b or '-'}  {diag}")


if __name__ == "__main__":
    main()
