#!/usr/bin/env bash
# read(2) in 1 MiB and 8 MiB chunks against mmap(2), on the bench captures and
# the synthetic dumps (Benchmarks/scripts/readbench.c; issue 13 item 6).
#
#   Benchmarks/scripts/run-read-bench.sh [FILE...]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$(mktemp -d)
trap 'rm -rf "$BIN"' EXIT
cc -O2 -Wall -o "$BIN/readbench" "$ROOT/Benchmarks/scripts/readbench.c"
if [ $# -eq 0 ]; then
    set -- "$ROOT"/bench-data/captures/*/*.flame "$ROOT"/bench-data/synth-*-200M.flame
fi
for f in "$@"; do
    "$BIN/readbench" "$f" 21 $((1 << 20))
    "$BIN/readbench" "$f" 21 $((8 << 20))
done
