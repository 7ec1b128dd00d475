#!/usr/bin/env bash
# The cost of each output format, and of all four in one pass, against perf
# alone: the same build, the same inputs, in one run.
#
#   Benchmarks/scripts/run-formats-bench.sh [REV]
#
# REV defaults to HEAD; it is built with `swift build -c release` in a
# temporary worktree (scratch path .build-bench-s-REV, kept for the next run).
# Inputs: the four real captures of Fixtures/captures merged, and synthetic
# dumps from dumpsynth (20 MB for instruction counts, 200 MB for time and
# memory; realistic and high stack variety; made once under bench-data/).
# Outputs go to a fresh folder under /dev/shm (or $TMPDIR), so the disk does
# not weigh in. For each input:
#   - instructions (valgrind --tool=callgrind; repeatable whatever the load)
#     of perf alone, each other format alone, and all four at once;
#   - wall time, median of 5, and peak RSS (/usr/bin/time) of the same runs;
#   - the ratio all four / perf alone (the goal: at most 1.5).
# Results: bench-data/formats-bench.txt.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
REV=${1:-HEAD}
DATA=$ROOT/bench-data
RESULTS=$DATA/formats-bench.txt
mkdir -p "$DATA"
cd "$ROOT"
# shellcheck source=bench-common.sh
. "$ROOT/Benchmarks/scripts/bench-common.sh"
: >"$RESULTS"
note "== $(date -u +%FT%TZ) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
BIN=$(flameconv_at "$REV")
note "== build: $REV ($(git rev-parse --short "$REV"))"

OUT=$(mktemp -d "${BENCH_OUT:-$( [ -d /dev/shm ] && echo /dev/shm || echo "${TMPDIR:-/tmp}")}/flameconv-formats.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
# name: the -o arguments of one run
declare -A RUNS=(
    [perf]="-o $OUT/out.perf"
    [folded]="-o $OUT/out.folded"
    [speedscope]="-o $OUT/out.speedscope.json"
    [pprof]="-o $OUT/out.pprof"
    [all4]="-o $OUT/out.perf -o $OUT/out.folded -o $OUT/out.speedscope.json -o $OUT/out.pprof"
)
ORDER=(perf folded speedscope pprof all4)

note ""
note "instructions (callgrind), convert INPUT --quiet OUTPUTS"
note "$(printf '%-28s' input)$(printf ' %15s' "${ORDER[@]}") all4/perf"
for input in "$CAPTURES" "$DATA/synth-realistic-20M.flame" "$DATA/synth-high-20M.flame"; do
    row=()
    for run in "${ORDER[@]}"; do
        # shellcheck disable=SC2086
        row+=("$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$BIN" convert "$input" --quiet ${RUNS[$run]} 2>&1 |
            awk '/refs:/ {gsub(",", "", $4); print $4}')")
    done
    note "$(printf '%-28s' "$(basename "$input")")$(printf ' %15s' "${row[@]}") $(printf '%.2f' "$(echo "${row[4]} / ${row[0]}" | bc -l)")"
done

note ""
note "wall time (median of 5, s) / peak RSS (MB), convert INPUT --quiet OUTPUTS"
note "$(printf '%-28s' input)$(printf ' %15s' "${ORDER[@]}") all4/perf"
for input in "$CAPTURES" "$DATA/synth-realistic-200M.flame" "$DATA/synth-high-200M.flame"; do
    row=()
    walls=()
    for run in "${ORDER[@]}"; do
        times=()
        rss=0
        for _ in 1 2 3 4 5; do
            # shellcheck disable=SC2086
            out=$( { /usr/bin/time -f "%e %M" "$BIN" convert "$input" --quiet ${RUNS[$run]}; } 2>&1 | tail -1)
            times+=("${out% *}")
            rss=$(( ${out#* } > rss ? ${out#* } : rss ))
        done
        wall=$(printf '%s\n' "${times[@]}" | median)
        walls+=("$wall")
        row+=("$(printf '%s/%.0f' "$wall" "$(echo "$rss / 1024" | bc -l)")")
    done
    note "$(printf '%-28s' "$(basename "$input")")$(printf ' %15s' "${row[@]}") $(printf '%.2f' "$(echo "${walls[4]} / ${walls[0]}" | bc -l)")"
done
note ""
note "output sizes of the last input (bytes): $(cd "$OUT" && for f in out.*; do printf '%s %s  ' "$f" "$(stat -c %s "$f")"; done)"
