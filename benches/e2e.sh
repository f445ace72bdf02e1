#!/usr/bin/env bash
# End-to-end figures for BENCHMARKS.md. Needs hyperfine, ripgrep, openssl
# and libsisimai-perl (Debian packages); builds the release binary and the
# generators, makes the inputs under $DIR if missing, then measures side by
# side in one hyperfine run each.
#
#   bash benches/e2e.sh [DIR]      (default /tmp/bouncetrail-bench)
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-/tmp/bouncetrail-bench}
mkdir -p "$DIR"
cargo build --release --examples --bins
BT=target/release/bouncetrail
[ -f "$DIR/mixed-1g.mbox" ] || target/release/examples/gen_mbox "$DIR/mixed-1g.mbox" 1024 1
[ -f "$DIR/mixed-4g.mbox" ] || target/release/examples/gen_mbox "$DIR/mixed-4g.mbox" 4096 4
[ -f "$DIR/bounces-10k.mbox" ] || target/release/examples/gen_bounces "$DIR/bounces-10k.mbox" 10000
cat "$DIR/mixed-1g.mbox" "$DIR/bounces-10k.mbox" > /dev/null   # warm the page cache

echo "== 1 GiB mixed mbox: split + triage vs ripgrep, hashing vs openssl"
hyperfine -N -w 2 -r 10 \
  "rg -c '^From ' $DIR/mixed-1g.mbox" \
  "$BT scan -q --no-hash --out $DIR/out-nohash $DIR/mixed-1g.mbox" \
  "openssl dgst -sha256 $DIR/mixed-1g.mbox" \
  "$BT scan -q --out $DIR/out-hash $DIR/mixed-1g.mbox"

echo "== peak anonymous memory (the mapped input excluded), 1 GiB vs 4 GiB"
python3 benches/peak_anon.py "$BT" scan -q --out "$DIR/out-1g" "$DIR/mixed-1g.mbox"
cat "$DIR/mixed-4g.mbox" > /dev/null
python3 benches/peak_anon.py "$BT" scan -q --out "$DIR/out-4g" "$DIR/mixed-4g.mbox"

echo "== decoding: 10,000 bounces, bouncetrail (decode: rows to stdout; scan: the whole report) vs Sisimai (Perl)"
# hyperfine sends stdout to /dev/null; Sisimai->dump returns its JSON
# without printing it.
hyperfine -N -w 2 -r 10 \
  "$BT decode -q $DIR/bounces-10k.mbox" \
  "$BT scan -q --no-hash --out $DIR/out-bounces $DIR/bounces-10k.mbox" \
  "perl -MSisimai -e 'Sisimai->dump(shift)' $DIR/bounces-10k.mbox"

echo "== decoding: decode vs Sisimai again, runs interleaved (same machine drift for both)"
python3 benches/versus.py "$BT" "$DIR/bounces-10k.mbox" 10

echo "== decoding cost in instructions (deterministic; needs valgrind): 1,000 and 10,000 bounces, one thread"
if command -v valgrind > /dev/null; then
  [ -f "$DIR/bounces-1k.mbox" ] || target/release/examples/gen_bounces "$DIR/bounces-1k.mbox" 1000
  for f in bounces-1k bounces-10k; do
    valgrind --tool=callgrind --callgrind-out-file="$DIR/callgrind.$f" \
      "$BT" scan -q --no-hash -j 1 --out "$DIR/out-cg" "$DIR/$f.mbox" 2>&1 | grep -E 'Collected'
    valgrind --tool=callgrind --callgrind-out-file="$DIR/callgrind.decode.$f" \
      "$BT" decode -q -j 1 "$DIR/$f.mbox" 2>&1 > /dev/null | grep -E 'Collected'
  done
else
  echo "valgrind not installed: skipped"
fi
