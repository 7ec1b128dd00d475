#!/usr/bin/env bash
# Start-up: what a command costs before and around a small capture, for two
# revisions side by side (default: BASE=07ff461, before the start-up work,
# and HEAD). Instructions from callgrind (repeatable on a shared VM), and
# the mean wall time of N (default 200) runs of each, interleaved.
#
#   Benchmarks/scripts/run-startup-bench.sh [BASE [REV]]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DATA=$ROOT/bench-data
RESULTS=$DATA/startup-bench.txt
mkdir -p "$DATA"
: > "$RESULTS"
source "$ROOT/Benchmarks/scripts/bench-common.sh"
N=${N:-200}
BASE=${1:-07ff461}
REV=${2:-HEAD}
CAPTURE=$ROOT/Fixtures/captures/plain
FILE=$CAPTURE/plain-000000.flame
commands=("--version" "convert $CAPTURE -o /dev/null" "stats $CAPTURE" "inspect $FILE" "convert --help")
declare -A bins
for rev in "$BASE" "$REV"; do bins[$rev]=$(flameconv_at "$rev"); done

note "# start-up: $(git -C "$ROOT" rev-parse --short "$BASE") against $(git -C "$ROOT" rev-parse --short "$REV"); $(date -u +%FT%TZ); $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
note "$(printf '| command | instructions %s | instructions %s | ms a run %s | ms a run %s |' "$BASE" "$REV" "$BASE" "$REV")"
note "| --- | ---: | ---: | ---: | ---: |"
for command in "${commands[@]}"; do
    instructions=() walls=()
    for rev in "$BASE" "$REV"; do
        # shellcheck disable=SC2086
        valgrind --tool=callgrind --callgrind-out-file=/dev/null "${bins[$rev]}" $command >/dev/null 2>"$DATA/startup-cg.err" || true
        instructions+=("$(grep -oE 'Collected : [0-9]+' "$DATA/startup-cg.err" | awk '{print $3}')")
    done
    declare -A total=([$BASE]=0 [$REV]=0)
    for _ in $(seq "$N"); do
        for rev in "$BASE" "$REV"; do
            t0=$(date +%s%N)
            # shellcheck disable=SC2086
            "${bins[$rev]}" $command >/dev/null 2>&1 || true
            t1=$(date +%s%N)
            total[$rev]=$(( total[$rev] + t1 - t0 ))
        done
    done
    for rev in "$BASE" "$REV"; do walls+=("$(awk -v t="${total[$rev]}" -v n="$N" 'BEGIN {printf "%.2f", t / n / 1e6}')"); done
    note "| \`${command/$ROOT\//}\` | ${instructions[0]} | ${instructions[1]} | ${walls[0]} | ${walls[1]} |"
done
rm -f "$DATA/startup-cg.err"
