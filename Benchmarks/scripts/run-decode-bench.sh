#!/usr/bin/env bash
# Decode throughput, flameconv's TermDecoder against Erlang's binary_to_term,
# on the same frames of one synthetic dump.
#
#   Benchmarks/scripts/run-decode-bench.sh [SIZE [MINOR]]   (default 96M 1)
#
# 1. makes bench-data/synth-p500-s1-SIZE.flame with dumpsynth (500 processes,
#    seed 1; with MINOR 2, atoms as OTP 26+ writes them, in
#    bench-data/synth-p500-s1-SIZE-m2.flame) unless it is there, and checks it
#    with verify-synth.escript;
# 2. runs the DecodeBenchmarks target of the Benchmarks package on it
#    (package-benchmark; full output kept in bench-data/decode-bench-swift-*.txt);
# 3. runs erlang-decode-bench.escript on it (one scheduler; output kept in
#    bench-data/decode-bench-erlang-*.txt), under /usr/bin/time for its peak RSS;
# 4. prints both side by side, and the ratio.
# MB = 10^6 bytes of frames (length prefixes excluded). ERL_ROUNDS (default 11)
# sets the Erlang rounds.
set -euo pipefail

SIZE=${1:-96M}
MINOR=${2:-1}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DATA=$ROOT/bench-data
DUMP=$DATA/synth-p500-s1-$SIZE.flame
[ "$MINOR" = 1 ] || DUMP=$DATA/synth-p500-s1-$SIZE-m$MINOR.flame
mkdir -p "$DATA"
cd "$ROOT/Benchmarks"

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(swift --version 2>&1 | head -1), OTP $(erl -noshell -eval 'io:format("~s", [erlang:system_info(otp_release)]), halt().')"

if [ ! -f "$DUMP" ]; then
    echo "== making $DUMP"
    swift build -c release --product dumpsynth >/dev/null
    .build/release/dumpsynth --bytes "$SIZE" --processes 500 --seed 1 --minor-version "$MINOR" --stack-variety high "$DUMP.partial"
    mv "$DUMP.partial" "$DUMP"
fi
echo "== checking $DUMP with Erlang"
escript scripts/verify-synth.escript "$DUMP"

echo "== Swift: swift package benchmark --target DecodeBenchmarks"
SWIFT_OUT=$DATA/decode-bench-swift-$(basename "$DUMP" .flame).txt
FLAMECONV_DECODE_DUMP=$DUMP swift package benchmark --target DecodeBenchmarks --no-progress >"$SWIFT_OUT" 2>&1 || {
    tail -40 "$SWIFT_OUT"
    exit 1
}

echo "== Erlang: erlang-decode-bench.escript (+S 1:1)"
ERL_OUT=$DATA/decode-bench-erlang-$(basename "$DUMP" .flame).txt
/usr/bin/time -f 'maxrss_kb=%M' escript scripts/erlang-decode-bench.escript "$DUMP" "${ERL_ROUNDS:-11}" >"$ERL_OUT" 2>&1 || {
    cat "$ERL_OUT"
    exit 1
}
cat "$ERL_OUT"

# From package-benchmark's text tables: a metric's p0, p50 and p100 columns for
# one benchmark, scaled by the (K)/(M) unit the row title carries. For a
# prefers-larger metric such as MB/s, p0 is the best run.
swift_metric() {  # benchmark-title metric-prefix column(3=p0,5=p50,9=p100)
    awk -v bench="$1" -v metric="$2" -v col="$3" '
        $0 == bench { inside = 1; next }
        inside && /^[A-Za-z]/ && $0 != bench { inside = 0 }
        inside && index($0, "│ " metric) == 1 {
            split($0, cells, "│")
            scale = 1
            if (cells[2] ~ /\(K\)/) scale = 1000
            if (cells[2] ~ /\(M\)/ && metric !~ /Memory/) scale = 1000000
            value = cells[col]
            gsub(/ /, "", value)
            print value * scale
            exit
        }' "$SWIFT_OUT"
}

MEM_BEST=$(swift_metric "TermDecoder.decode, in memory" "Decode (MB/s)" 3)
MEM_MED=$(swift_metric "TermDecoder.decode, in memory" "Decode (MB/s)" 5)
MEM_RSS=$(swift_metric "TermDecoder.decode, in memory" "Memory (resident peak)" 9)
MEM_MALLOC=$(swift_metric "TermDecoder.decode, in memory" "Malloc (total)" 5)
FILE_BEST=$(swift_metric "FrameReader + decode, from file" "Decode (MB/s)" 3)
FILE_MED=$(swift_metric "FrameReader + decode, from file" "Decode (MB/s)" 5)
FILE_RSS=$(swift_metric "FrameReader + decode, from file" "Memory (resident peak)" 9)
FILE_MALLOC=$(swift_metric "FrameReader + decode, from file" "Malloc (total)" 5)
READ_MED=$(swift_metric "FrameReader only, from file" "Decode (MB/s)" 5)

erl_field() {  # setting field
    grep "binary_to_term $1:" "$ERL_OUT" | sed -E "s/.*$2=([0-9.]+).*/\1/"
}
ERL_DEF_BEST=$(erl_field "default heap" best)
ERL_DEF_MED=$(erl_field "default heap" median)
ERL_BIG_BEST=$(erl_field "big heap" best)
ERL_BIG_MED=$(erl_field "big heap" median)
ERL_RSS_MB=$(($(sed -nE 's/^maxrss_kb=([0-9]+)/\1/p' "$ERL_OUT") / 1024))
BYTES=$(grep -m1 "binary_to_term" "$ERL_OUT" | sed -E 's/.*bytes=([0-9]+).*/\1/')

echo
echo "== Decode: $(basename "$DUMP"), $BYTES frame bytes, MB/s (MB = 10^6 bytes)"
printf '%-44s %10s %10s %14s %10s\n' "decoder" "best" "median" "peak RSS (MB)" "mallocs"
printf '%-44s %10s %10s %14s %10s\n' "Swift TermDecoder.decode, in memory" "$MEM_BEST" "$MEM_MED" "$MEM_RSS" "$MEM_MALLOC"
printf '%-44s %10s %10s %14s %10s\n' "Swift FrameReader + decode, from file" "$FILE_BEST" "$FILE_MED" "$FILE_RSS" "$FILE_MALLOC"
printf '%-44s %10s %10s %14s %10s\n' "Swift FrameReader only (no decode)" "" "$READ_MED" "" ""
printf '%-44s %10s %10s %14s %10s\n' "Erlang binary_to_term, default heap" "$ERL_DEF_BEST" "$ERL_DEF_MED" "$ERL_RSS_MB" ""
printf '%-44s %10s %10s %14s %10s\n' "Erlang binary_to_term, big heap" "$ERL_BIG_BEST" "$ERL_BIG_MED" "(same run)" ""
awk -v s="$MEM_MED" -v f="$FILE_MED" -v e1="$ERL_DEF_BEST" -v e2="$ERL_BIG_BEST" -v m1="$ERL_DEF_MED" -v m2="$ERL_BIG_MED" 'BEGIN {
    eb = e1 > e2 ? e1 : e2; em = m1 > m2 ? m1 : m2
    # Conservative: Swift median against the fastest Erlang round of either setting.
    printf "ratio: in memory %.2fx, from file %.2fx (Swift median / fastest binary_to_term round, %.1f MB/s); against the better Erlang median (%.1f MB/s): %.2fx, %.2fx. Goal: 5x\n",
        s / eb, f / eb, eb, em, s / em, f / em }'
