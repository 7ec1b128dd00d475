#!/usr/bin/env bash
# Convert throughput and peak memory: flameconv convert against the Erlang
# reference escript (Tests/reference/flame_prof_ref.escript), on the same
# 1 GB dumps, in one run.
#
#   Benchmarks/scripts/run-convert-bench.sh
#
# 1. builds flameconv (release, --scratch-path .build-convbench) and dumpsynth;
# 2. makes, unless they are there, bench-data/synth-realistic-1G.flame
#    (dumpsynth --bytes 1G --processes 500 --seed 1, --stack-variety realistic:
#    stacks repeat as in real captures) and bench-data/synth-p500-s1-1G.flame
#    (the same with --stack-variety high: about half of the frame blocks new);
# 3. counts each dump's distinct frame blocks in its flame_prof text (the
#    distinct-stack ratio: distinct blocks / samples);
# 4. on each dump: flameconv convert in both dialects, to a file on disk
#    (-o, which fsyncs before renaming into place) and to /dev/null (standard
#    output), each under /usr/bin/time (elapsed, user, sys, max RSS); then the
#    escript on the same file (standard output to a file on disk), and checks
#    that its text is flameconv's flame_prof text byte for byte;
# 5. makes 3 GB dumps of both kinds (deleted afterwards) and converts them with
#    flameconv only, to show that peak memory does not grow with the dump.
# MB = 10^6 bytes of dump file per second of elapsed time. flameconv is
# single-threaded, as is the escript (one scheduler does the work).
# Results: bench-data/convert-bench.txt (and the terminal). SKIP_3G=1 skips 5.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DATA=$ROOT/bench-data
OUT=$DATA/convert-out
RESULTS=$DATA/convert-bench.txt
mkdir -p "$DATA" "$OUT"
cd "$ROOT"

note() { echo "$*" | tee -a "$RESULTS"; }
: >"$RESULTS"
note "== $(date -u +%FT%TZ) machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB RAM, $(uname -r), $(swift --version 2>&1 | head -1), OTP $(erl -noshell -eval 'io:format("~s", [erlang:system_info(otp_release)]), halt().')"
note "== load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

swift build -c release --static-swift-stdlib --scratch-path .build-convbench --product flameconv >/dev/null
FLAMECONV=$ROOT/.build-convbench/release/flameconv
(cd Benchmarks && swift build -c release --product dumpsynth >/dev/null)
DUMPSYNTH=$ROOT/Benchmarks/.build/release/dumpsynth

make_dump() {  # SIZE VARIETY PATH
    if [ ! -f "$3" ]; then
        note "== making $3"
        "$DUMPSYNTH" --bytes "$1" --processes 500 --seed 1 --stack-variety "$2" "$3.partial" >/dev/null
        mv "$3.partial" "$3"
    fi
}

# Distinct frame blocks (a sample's frame lines, its event line excluded) over samples.
distinct_ratio() {  # DUMP
    "$FLAMECONV" convert --dialect flame_prof "$1" --quiet |
        awk '/^\t/ { b = b $0 "\n"; next } /^$/ { n++; if (!(b in u)) { u[b] = 1; d++ } b = ""; next }
             END { printf "%d distinct frame blocks / %d samples = %.2f%%", d, n, 100 * d / n }'
}

# Runs a command under /usr/bin/time; prints "elapsed user sys maxrss_kb".
timed() {
    local t
    t=$(mktemp)
    /usr/bin/time -f '%e %U %S %M' -o "$t" "$@"
    cat "$t"
    rm -f "$t"
}

mbs() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.0f", b / 1e6 / s }'; }

row() {  # DUMP DIALECT TARGET BYTES "elapsed user sys rss"
    local e u s m
    read -r e u s m <<<"$5"
    note "$(printf '| %s | %s | %s | %s | %s | %s / %s | %d MB |' "$(basename "$1")" "$2" "$3" "$(mbs "$4" "$e")" "$e" "$u" "$s" $((m / 1000)))"
}

run_flameconv() {  # DUMP -> rows; sets FP_FILE_MBS
    local dump=$1 bytes r
    bytes=$(stat -c %s "$dump")
    for dialect in flame_prof portable; do
        r=$(timed "$FLAMECONV" convert --dialect "$dialect" "$dump" --quiet -o "$OUT/flameconv.$dialect.perf")
        row "$dump" "$dialect" "file ($(( $(stat -c %s "$OUT/flameconv.$dialect.perf") / 1000000 )) MB)" "$bytes" "$r"
        if [ "$dialect" = flame_prof ]; then FP_FILE_E=$(echo "$r" | cut -d' ' -f1); FP_FILE_MBS=$(mbs "$bytes" "$FP_FILE_E"); fi
        r=$(timed sh -c '"$0" convert --dialect "$1" "$2" --quiet >/dev/null' "$FLAMECONV" "$dialect" "$dump")
        row "$dump" "$dialect" "/dev/null" "$bytes" "$r"
        if [ "$dialect" = flame_prof ]; then FP_NULL_E=$(echo "$r" | cut -d' ' -f1); fi
    done
}

REALISTIC=$DATA/synth-realistic-1G.flame
HIGH=$DATA/synth-p500-s1-1G.flame
make_dump 1G realistic "$REALISTIC"
make_dump 1G high "$HIGH"

for dump in "$REALISTIC" "$HIGH"; do
    note ""
    note "== $(basename "$dump"): $(stat -c %s "$dump") bytes, $(distinct_ratio "$dump")"
    note "| dump | dialect | output | MB/s | elapsed s | user / sys s | max RSS |"
    note "| --- | --- | --- | ---: | ---: | ---: | ---: |"
    run_flameconv "$dump"
    r=$(timed sh -c 'escript "$0" "$1" >"$2" 2>"$2.err"' "$ROOT/Tests/reference/flame_prof_ref.escript" "$dump" "$OUT/escript.flame_prof.perf")
    bytes=$(stat -c %s "$dump")
    row "$dump" "flame_prof (escript)" "file" "$bytes" "$r"
    if cmp -s "$OUT/escript.flame_prof.perf" "$OUT/flameconv.flame_prof.perf"; then same="identical"; else same="DIFFERENT"; fi
    esc_e=$(echo "$r" | cut -d' ' -f1)
    # Same bytes, so the ratio of MB/s is the inverse ratio of elapsed times.
    note "ratio, flame_prof to a file: flameconv $FP_FILE_MBS MB/s / escript $(awk -v b="$bytes" -v s="$esc_e" 'BEGIN { printf "%.1f", b / 1e6 / s }') MB/s = $(awk -v a="$esc_e" -v b="$FP_FILE_E" 'BEGIN { printf "%.1fx", a / b }') (to /dev/null: $(awk -v a="$esc_e" -v b="$FP_NULL_E" 'BEGIN { printf "%.1fx", a / b }')); escript text $same to flameconv's"
    rm -f "$OUT"/*.perf "$OUT"/*.err
done

if [ "${SKIP_3G:-0}" != 1 ]; then
    for variety in realistic high; do
        big=$DATA/synth-$variety-3G.flame
        make_dump 3G "$variety" "$big"
        note ""
        note "== $(basename "$big"): $(stat -c %s "$big") bytes (flameconv only)"
        note "| dump | dialect | output | MB/s | elapsed s | user / sys s | max RSS |"
        note "| --- | --- | --- | ---: | ---: | ---: | ---: |"
        run_flameconv "$big"
        rm -f "$OUT"/*.perf "$big"
    done
fi
note ""
note "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
