#!/usr/bin/env bash
# flameconv batch over a mixed archive of 500+ files: captures per second and
# MB per second with --jobs 1 and --jobs 2, the scaling, and a second run (which
# must do no work). Prints a Markdown table for BENCHMARKS.md.
#
#   Benchmarks/scripts/run-batch-bench.sh [CAPTURES_DIR]
#
# The archive is made from real dumps: the agent's captures in CAPTURES_DIR
# (default bench-data/captures, made by make-bench-captures.sh; git-ignored),
# the fixtures, and, when Benchmarks/.build/release/dumpsynth is built, two
# synthetic dumps. make-batch-archive.escript cuts them into COUNT captures
# (default 320) of at most MAX_BYTES (default 400000) of frames each, rotated
# into 1 to 3 files; this script then compresses and packs those files:
#   a fifth loose and plain, a fifth loose gzip, a fifth loose zstd,
#   a fifth in archives (.tar, .tar.gz, .tar.zst in turn, 10 captures each,
#   the members themselves plain, gzip or zstd),
#   a fifth split: seq 0 loose (zstd), the rest in a .tar.gz.
# Uses .build/release/flameconv (swift build -c release), or $FLAMECONV.
# COUNT, MAX_BYTES, REPEAT (default 3 runs of each) and KEEP=1 change what it does.
set -euo pipefail
shopt -s nullglob

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CAPTURES="${1:-$ROOT/bench-data/captures}"
FLAMECONV="${FLAMECONV:-$ROOT/.build/release/flameconv}"
COUNT="${COUNT:-320}"
MAX_BYTES="${MAX_BYTES:-400000}"
REPEAT="${REPEAT:-3}"
[ -x "$FLAMECONV" ] || { echo "run-batch-bench: no $FLAMECONV: swift build -c release --product flameconv" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/flame-batchbench.XXXXXX")"
# KEEP=1 leaves the archive (and the last outputs) in $WORK, to look into.
if [ "${KEEP:-0}" = 1 ]; then echo "run-batch-bench: keeping $WORK" >&2; else trap 'rm -rf "$WORK"' EXIT; fi

sources=()
if [ -d "$CAPTURES" ]; then
    while IFS= read -r f; do sources+=("$f"); done < <(find "$CAPTURES" -name '*.flame' | sort)
fi
for f in "$ROOT"/Fixtures/captures/{plain,compressed,top100}/*-000000.flame "$ROOT"/Fixtures/captures/rotated/rotated-000000.flame; do
    sources+=("$f")
done
SYNTH="$ROOT/Benchmarks/.build/release/dumpsynth"
if [ -x "$SYNTH" ]; then
    for seed in 1 2; do "$SYNTH" --ticks 400 --processes 300 --seed "$seed" "$WORK/synth-$seed.flame" >/dev/null; sources+=("$WORK/synth-$seed.flame"); done
    echo "run-batch-bench: with two dumpsynth dumps" >&2
else
    echo "run-batch-bench: no $SYNTH: the archive is made from agent captures and fixtures only" >&2
fi
echo "run-batch-bench: ${#sources[@]} source dumps" >&2

escript "$ROOT/Benchmarks/scripts/make-batch-archive.escript" "$WORK/stage" "$COUNT" "$MAX_BYTES" "${sources[@]}"

A="$WORK/archive"
mkdir -p "$A/loose/plain" "$A/loose/gzip" "$A/loose/zstd" "$A/tars" "$A/split" "$WORK/pack"
compress() { # FILE KIND: in place, the name kept (batch reads the bytes, not the name)
    case "$2" in
        gzip) gzip -c "$1" > "$1.tmp" && mv "$1.tmp" "$1" ;;
        zstd) zstd -q -c "$1" > "$1.tmp" && mv "$1.tmp" "$1" ;;
    esac
}
kinds=(plain gzip zstd)
for dir in "$WORK"/stage/cap-*; do
    i=$((10#${dir##*cap-}))
    case $((i % 5)) in
        0) mv "$dir"/*.flame "$A/loose/plain/" ;;
        1) for f in "$dir"/*.flame; do compress "$f" gzip; mv "$f" "$A/loose/gzip/$(basename "$f").gz"; done ;;
        2) for f in "$dir"/*.flame; do compress "$f" zstd; mv "$f" "$A/loose/zstd/$(basename "$f").zst"; done ;;
        3) group=$((i / 50)); mkdir -p "$WORK/pack/t$group"
           for f in "$dir"/*.flame; do compress "$f" "${kinds[$((i % 3))]}"; mv "$f" "$WORK/pack/t$group/"; done ;;
        4) group=$((i / 50)); mkdir -p "$WORK/pack/s$group"
           first="$(ls "$dir"/*.flame | head -1)"
           compress "$first" zstd; mv "$first" "$A/split/"
           for f in "$dir"/*.flame; do mv "$f" "$WORK/pack/s$group/"; done ;;
    esac
done
n=0
for group in "$WORK"/pack/t*; do
    case $((n % 3)) in
        0) tar -C "$group" -cf "$A/tars/$(basename "$group").tar" . ;;
        1) tar -C "$group" -czf "$A/tars/$(basename "$group").tar.gz" . ;;
        2) tar -C "$group" --zstd -cf "$A/tars/$(basename "$group").tar.zst" . ;;
    esac
    n=$((n + 1))
done
for group in "$WORK"/pack/s*; do
    [ -n "$(ls "$group")" ] && tar -C "$group" -czf "$A/split/$(basename "$group").tar.gz" .
done

files_loose=$(find "$A" -type f ! -name '*.tar*' | wc -l)
members=0
for t in "$A"/tars/* "$A"/split/*.tar.gz; do members=$((members + $(tar -tf "$t" | grep -c '\.flame$'))); done
stored=$(du -cb $(find "$A" -type f) | tail -1 | cut -f1)
echo "run-batch-bench: $COUNT captures in $((files_loose + members)) dump files ($files_loose loose, $members in $(find "$A" -name '*.tar*' | wc -l) tars), $stored bytes stored" >&2

# One run: "WALL CPU" seconds (CPU: user + system, all threads).
run() { # JOBS OUT
    if ! /usr/bin/time -f '%e %U %S' -o "$WORK/time" "$FLAMECONV" batch "$A" --out "$2" --jobs "$1" --quiet --format perf --format folded; then
        echo "run-batch-bench: batch --jobs $1 failed" >&2
        return 1
    fi
    awk '{ printf "%s %.2f\n", $1, $2 + $3 }' "$WORK/time"
}
best() { sort -n | head -1; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
declare -A wall cpu middle
for jobs in 1 2; do
    walls=(); cpus=()
    for r in $(seq "$REPEAT"); do
        rm -rf "$WORK/out"
        read -r w c < <(run "$jobs" "$WORK/out")
        walls+=("$w"); cpus+=("$c")
    done
    wall[$jobs]="$(printf '%s\n' "${walls[@]}" | best)"
    middle[$jobs]="$(printf '%s\n' "${walls[@]}" | median)"
    cpu[$jobs]="$(printf '%s\n' "${cpus[@]}" | median)"
    echo "run-batch-bench: --jobs $jobs: wall ${walls[*]} s, CPU ${cpus[*]} s" >&2
done
read -r again _ < <(run 2 "$WORK/out")
done_count=$(find "$WORK/out" -maxdepth 1 -name '*.perf' | wc -l)
[ "$done_count" -eq "$COUNT" ] || { echo "run-batch-bench: $done_count perf outputs, not $COUNT" >&2; exit 1; }

mb=$(echo "$stored / 1000000" | bc -l)
printf '| jobs | wall, best of %d (s) | wall, median (s) | CPU, median (s) | captures/s | MB/s (stored) | scaling (best walls) |\n' "$REPEAT"
printf '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n'
for jobs in 1 2; do
    w="${wall[$jobs]}"
    printf '| %d | %.2f | %.2f | %.2f | %.1f | %.1f | %.2fx |\n' "$jobs" "$w" "${middle[$jobs]}" "${cpu[$jobs]}" \
        "$(echo "$COUNT / $w" | bc -l)" "$(echo "$mb / $w" | bc -l)" "$(echo "${wall[1]} / $w" | bc -l)"
done
printf '\nSecond run over the same archive (--jobs 2, nothing to do): %.2f s.\n' "$again"
printf '%s captures, %s dump files, %.1f MB stored; %s cores (nproc), load average before: %s.\n' \
    "$COUNT" "$((files_loose + members))" "$mb" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
