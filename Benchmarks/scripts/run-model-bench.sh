#!/usr/bin/env bash
# Before and after a change to the converter: the same conversions by two
# builds of flameconv, side by side in one run.
#
#   Benchmarks/scripts/run-model-bench.sh [BEFORE_REV] [AFTER_REV]
#
# BEFORE_REV defaults to ae6faf4 (main before the profile model), AFTER_REV to
# HEAD. Each revision is checked out into a temporary git worktree and built
# with `swift build -c release --static-swift-stdlib` (scratch path .build-bench-s-REV, kept for the
# next run). Inputs: the four real captures in Fixtures/captures merged
# (1.6 MB) and two synthetic 200 MB dumps from dumpsynth (realistic and high
# stack variety; made once under bench-data/). For each input and dialect:
#   - instructions (valgrind --tool=callgrind; repeatable whatever the load)
#     of `convert INPUT -o /dev/null` on the captures and on 20 MB dumps;
#   - wall time, median of 5 (`convert INPUT --quiet > /dev/null`), and peak
#     RSS (/usr/bin/time) on the 200 MB dumps and the captures;
#   - that both builds write the same bytes.
# Results: bench-data/model-bench.txt.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BEFORE=${1:-ae6faf4}
AFTER=${2:-HEAD}
DATA=$ROOT/bench-data
RESULTS=$DATA/model-bench.txt
mkdir -p "$DATA"
cd "$ROOT"
# shellcheck source=bench-common.sh
. "$ROOT/Benchmarks/scripts/bench-common.sh"
: >"$RESULTS"
note "== $(date -u +%FT%TZ) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"

OLD=$(flameconv_at "$BEFORE")
NEW=$(flameconv_at "$AFTER")
note "== before: $BEFORE ($(git rev-parse --short "$BEFORE")), after: $AFTER ($(git rev-parse --short "$AFTER"))"

note ""
note "instructions (callgrind), convert INPUT -o /dev/null"
note "input                         dialect      before          after     after/before"
for input in "$CAPTURES" "$DATA/synth-realistic-20M.flame" "$DATA/synth-high-20M.flame"; do
    for dialect in portable flame_prof; do
        counts=()
        for bin in "$OLD" "$NEW"; do
            counts+=("$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" convert "$input" --dialect "$dialect" --quiet -o /dev/null 2>&1 |
                awk '/refs:/ {gsub(",", "", $4); print $4}')")
        done
        note "$(printf '%-28s %-10s %14s %14s %8.3f' "$(basename "$input")" "$dialect" "${counts[0]}" "${counts[1]}" "$(echo "${counts[1]} / ${counts[0]}" | bc -l)")"
    done
done

note ""
note "wall time (median of 5, s) and peak RSS (KB), convert INPUT --quiet > /dev/null"
note "input                         dialect   before s  after s   before KB  after KB  same bytes"
for input in "$CAPTURES" "$DATA/synth-realistic-200M.flame" "$DATA/synth-high-200M.flame"; do
    for dialect in portable flame_prof; do
        row=()
        for bin in "$OLD" "$NEW"; do
            times=()
            rss=0
            for _ in 1 2 3 4 5; do
                out=$( { /usr/bin/time -f "%e %M" "$bin" convert "$input" --dialect "$dialect" --quiet > /dev/null; } 2>&1 | tail -1)
                times+=("${out% *}")
                rss=$(( ${out#* } > rss ? ${out#* } : rss ))
            done
            row+=("$(printf '%s\n' "${times[@]}" | median)" "$rss")
        done
        same=no
        cmp -s <("$OLD" convert "$input" --dialect "$dialect" --quiet) <("$NEW" convert "$input" --dialect "$dialect" --quiet) && same=yes
        note "$(printf '%-28s %-10s %7s  %7s   %9s  %8s  %s' "$(basename "$input")" "$dialect" "${row[0]}" "${row[2]}" "${row[1]}" "${row[3]}" "$same")"
    done
done
