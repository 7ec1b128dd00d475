#!/usr/bin/env bash
# convert --dialect flame_prof three ways, median of N (default 9) runs each,
# interleaved: -o FILE (written, fsynced, renamed), > FILE (no fsync) and
# > /dev/null; the output beside the inputs in bench-data/ (issue 13 item 6).
#
#   FLAMECONV=.build/release/flameconv Benchmarks/scripts/run-fsync-bench.sh [INPUT...]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${FLAMECONV:-$ROOT/.build/release/flameconv}
N=${N:-9}
OUT=$ROOT/bench-data/fsync-bench.perf
trap 'rm -f "$OUT"' EXIT
[ $# -gt 0 ] || set -- "$ROOT"/bench-data/captures/fixture-top100-60s "$ROOT"/bench-data/captures/fixture-all-20s \
    "$ROOT"/bench-data/real-captures "$ROOT"/bench-data/synth-realistic-200M.flame
ms() { local t0 t1; t0=$(date +%s%N); "$@"; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for input in "$@"; do
    fsync=() plain=() null=()
    for _ in $(seq "$N"); do
        fsync+=("$(ms "$BIN" convert --quiet --dialect flame_prof "$input" -o "$OUT" 2>/dev/null)")
        plain+=("$(ms sh -c '"$1" convert --quiet --dialect flame_prof "$2" > "$3" 2>/dev/null' sh "$BIN" "$input" "$OUT")")
        null+=("$(ms sh -c '"$1" convert --quiet --dialect flame_prof "$2" > /dev/null 2>&1' sh "$BIN" "$input")")
    done
    printf '%s\toutput %s bytes\t-o FILE %s ms\t> FILE %s ms\t> /dev/null %s ms\n' "$(basename "$input")" "$(stat -c %s "$OUT")" \
        "$(printf '%s\n' "${fsync[@]}" | median)" "$(printf '%s\n' "${plain[@]}" | median)" "$(printf '%s\n' "${null[@]}" | median)"
done
