#!/usr/bin/env bash
# flameconv against the Erlang yardstick (Benchmarks/yardstick/flame_fast.erl,
# issue 13 item 1), side by side in one run, on the real captures of
# bench-data/captures/ (Benchmarks/scripts/make-bench-captures.sh), the
# fixtures' four captures merged, and bench-common.sh's synthetic dumps.
#
#   Benchmarks/scripts/run-yardstick-bench.sh [REV]
#
# REV (default HEAD) is built by bench-common.sh's flameconv_at; FLAMECONV=PATH
# uses that binary instead. N=runs per row (default 3; the median is shown).
# INPUTS="A B ..." replaces the list of inputs (files or capture folders).
#
# For each input, each row is one command, run N times:
#   convert -> /dev/null   flameconv convert --dialect flame_prof (and portable)
#                          > /dev/null; flame-fast > /dev/null
#   convert -> file        ... -o FILE (flameconv fsyncs and renames; flame-fast
#                          does the same)
#   convert -> .gz         ... -o FILE.gz (zlib level 6 on both sides)
#   stats                  flameconv stats > /dev/null; flame-fast --stats
#   inspect                flameconv inspect FILES > /dev/null; flame-fast
#                          --inspect FILES (io_lib:format("~w~n") per term, the
#                          text inspect prints)
# Columns: median seconds (wall, ms resolution), MB/s of input (10^6 bytes),
# samples/s (samples of the input, as flameconv stats counts them), peak RSS
# (largest of the N runs, /usr/bin/time %M), and flame-fast time / flameconv
# time (flame_prof dialect; above 1: flameconv is faster). The floor is the
# physical minimum: a warm read of the input (cat > /dev/null), plus for an
# output file writing as many bytes with fsync (dd conv=fsync); "x floor" is
# flameconv's time over it.
# The flame_prof text of flame-fast must equal flameconv's byte for byte on
# every input (file and .gz outputs compared): the script stops otherwise.
# flame-fast's times include starting the BEAM (shown once, on an empty run).
# Results: bench-data/yardstick-bench.md (and the terminal).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
REV=${1:-HEAD}
N=${N:-3}
DATA=$ROOT/bench-data
RESULTS=$DATA/yardstick-bench.md
OUT=$DATA/yardstick-out
mkdir -p "$DATA" "$OUT"
cd "$ROOT"
# shellcheck source=bench-common.sh
. "$ROOT/Benchmarks/scripts/bench-common.sh"
BIN_LOUD=${FLAMECONV:-$(flameconv_at "$REV")}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP" "$OUT"' EXIT
# flame-fast, its warnings (no trailer, ...) out of the way; the check below
# runs it with them.
FAST_LOUD=$ROOT/Benchmarks/yardstick/flame-fast
FAST=$TMP/flame-fast
printf '#!/bin/sh\nexec "%s" "$@" 2>/dev/null\n' "$FAST_LOUD" >"$FAST"
BIN=$TMP/flameconv
printf '#!/bin/sh\nexec "%s" "$@" 2>/dev/null\n' "$BIN_LOUD" >"$BIN"
chmod +x "$FAST" "$BIN"

: >"$RESULTS"
note "# flameconv and the Erlang yardstick"
note ""
note "$(date -u +%FT%TZ); $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB RAM, $(uname -r); $(swift --version 2>&1 | head -1); OTP $(erl -noshell -eval 'io:format("~s", [erlang:system_info(otp_release)]), halt().') ($(erl -noshell -eval 'io:format("~s", [erlang:system_info(emu_flavor)]), halt().'))"
note ""
note "flameconv: $BIN_LOUD ($(if [ -n "${FLAMECONV:-}" ]; then echo "given"; else echo "$REV = $(git rev-parse --short "$REV")"; fi)); flame-fast: Benchmarks/yardstick at $(git rev-parse --short HEAD); median of $N runs"
note ""
note "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# CMD... -> "seconds rss_mb" (median wall time of N runs, largest peak RSS)
measure() {
    local times=() rss=0 t0 t1 m
    for _ in $(seq "$N"); do
        t0=$(date +%s%N)
        /usr/bin/time -f %M -o "$TMP/rss" "$@"
        t1=$(date +%s%N)
        times+=("$(( (t1 - t0) / 1000000 ))")
        m=$(tail -1 "$TMP/rss")
        rss=$(( m > rss ? m : rss ))
    done
    echo "$(printf '%s\n' "${times[@]}" | median | awk '{printf "%.3f", $1 / 1000}') $(( rss / 1024 ))"
}
# CMD... with its standard output to /dev/null -> as measure
to_null() { measure sh -c '"$@" >/dev/null' sh "$@"; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
per_s() { awk -v x="$1" -v s="$2" -v d="$3" 'BEGIN { if (s > 0) printf "%.*f", d, x / s; else print "-" }'; }

# Write floor: SIZE bytes to a file on the output's disk, fsync'd.
write_floor() {
    measure dd if=/dev/zero of="$OUT/floor" bs=1M count="$1" iflag=count_bytes conv=fsync status=none
}

row() {  # TASK TOOL "secs rss" BYTES SAMPLES [RATIO] [FLOOR]
    local s r
    read -r s r <<<"$3"
    note "| $CURRENT | $1 | $2 | $s | $(per_s "$4" "$(awk -v s="$s" 'BEGIN{print s * 1e6}')" 1) | $(per_s "$5" "$s" 0) | $r | ${6:--} | ${7:--} | $(if [ -n "${7:-}" ]; then ratio "$s" "$7"; else echo -; fi) |"
    CURRENT=""
}

fail() { note ""; note "**FAILED: $***"; exit 1; }

# BEAM start-up: flame-fast on an empty capture list.
: >"$TMP/empty.flame"
startup=$(to_null "$FAST" "$TMP/empty.flame" 2>/dev/null || true)
note "flame-fast start-up and halt (BEAM, an empty input): ${startup% *} s"
note ""

if [ -z "${INPUTS:-}" ]; then
    INPUTS=""
    for d in "$DATA"/captures/*/; do [ -d "$d" ] && INPUTS+=" ${d%/}"; done
    INPUTS+=" $CAPTURES"
    for size in 20M 200M; do for variety in realistic high; do INPUTS+=" $DATA/synth-$variety-$size.flame"; done; done
fi

note "| input | task | tool | s | MB/s | samples/s | peak RSS MB | fast / flameconv | floor s | x floor |"
note "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for input in $INPUTS; do
    [ -e "$input" ] || fail "no input $input"
    mapfile -t files < <(find -L "$input" -type f -name '*.flame*' | sort)
    bytes=$(cat "${files[@]}" | wc -c)
    samples=$("$BIN" stats --json "$input" | python3 -c 'import json,sys; print(sum(c["samples"] for c in json.load(sys.stdin)["captures"]))')
    CURRENT="$(basename "$input") ($(awk -v b="$bytes" 'BEGIN{printf "%.1f", b / 1e6}') MB, $samples samples)"
    read_floor=$(measure sh -c 'cat "$@" >/dev/null' sh "${files[@]}")
    read_floor=${read_floor% *}

    # The check first: flame-fast's text is flameconv's flame_prof text.
    "$BIN_LOUD" convert --dialect flame_prof --quiet "$input" -o "$OUT/fc.perf" || fail "flameconv convert $input: exit $?"
    "$FAST_LOUD" "$input" -o "$OUT/ff.perf" 2>"$TMP/ff.err" || fail "flame-fast $input: exit $? ($(tail -3 "$TMP/ff.err"))"
    cmp "$OUT/fc.perf" "$OUT/ff.perf" >&2 || fail "flame-fast's text differs from flameconv's flame_prof text on $input"
    perf_bytes=$(stat -c %s "$OUT/fc.perf")
    "$BIN" convert --dialect portable --quiet "$input" -o "$OUT/fc.portable.perf"
    portable_bytes=$(stat -c %s "$OUT/fc.portable.perf")

    # convert -> /dev/null
    fc=$(to_null "$BIN" convert --dialect flame_prof --quiet "$input")
    ff=$(to_null "$FAST" "$input")
    fcp=$(to_null "$BIN" convert --dialect portable --quiet "$input")
    row "convert > /dev/null" "flameconv flame_prof" "$fc" "$bytes" "$samples" "" "$read_floor"
    row "convert > /dev/null" "flameconv portable" "$fcp" "$bytes" "$samples" "" "$read_floor"
    row "convert > /dev/null" "flame-fast" "$ff" "$bytes" "$samples" "$(ratio "${ff% *}" "${fc% *}")"

    # convert -> a file, fsync'd
    wf=$(write_floor "$perf_bytes"); floor=$(awk -v a="$read_floor" -v b="${wf% *}" 'BEGIN{printf "%.3f", a + b}')
    wfp=$(write_floor "$portable_bytes"); floorp=$(awk -v a="$read_floor" -v b="${wfp% *}" 'BEGIN{printf "%.3f", a + b}')
    fc=$(measure "$BIN" convert --dialect flame_prof --quiet "$input" -o "$OUT/fc.perf")
    ff=$(measure "$FAST" "$input" -o "$OUT/ff.perf")
    fcp=$(measure "$BIN" convert --dialect portable --quiet "$input" -o "$OUT/fc.portable.perf")
    cmp "$OUT/fc.perf" "$OUT/ff.perf" >&2 || fail "flame-fast -o differs from flameconv -o on $input"
    row "convert -o file ($(awk -v b="$perf_bytes" 'BEGIN{printf "%.1f", b / 1e6}') MB)" "flameconv flame_prof" "$fc" "$bytes" "$samples" "" "$floor"
    row "convert -o file" "flameconv portable" "$fcp" "$bytes" "$samples" "" "$floorp"
    row "convert -o file" "flame-fast" "$ff" "$bytes" "$samples" "$(ratio "${ff% *}" "${fc% *}")"

    # convert -> .gz
    fc=$(measure "$BIN" convert --dialect flame_prof --quiet "$input" -o "$OUT/fc.perf.gz")
    ff=$(measure "$FAST" "$input" -o "$OUT/ff.perf.gz")
    fcp=$(measure "$BIN" convert --dialect portable --quiet "$input" -o "$OUT/fc.portable.perf.gz")
    cmp <(gzip -dc "$OUT/fc.perf.gz") <(gzip -dc "$OUT/ff.perf.gz") >&2 || fail "flame-fast .gz differs from flameconv .gz on $input"
    gz_bytes=$(stat -c %s "$OUT/fc.perf.gz")
    wg=$(write_floor "$gz_bytes"); floorg=$(awk -v a="$read_floor" -v b="${wg% *}" 'BEGIN{printf "%.3f", a + b}')
    row "convert -o .gz ($(awk -v b="$gz_bytes" -v f="$(stat -c %s "$OUT/ff.perf.gz")" 'BEGIN{printf "%.1f / %.1f MB", b / 1e6, f / 1e6}'))" "flameconv flame_prof" "$fc" "$bytes" "$samples" "" "$floorg"
    row "convert -o .gz" "flameconv portable" "$fcp" "$bytes" "$samples"
    row "convert -o .gz" "flame-fast" "$ff" "$bytes" "$samples" "$(ratio "${ff% *}" "${fc% *}")"
    rm -f "$OUT"/*.perf "$OUT"/*.gz "$OUT/floor"

    # stats
    fc=$(to_null "$BIN" stats "$input")
    ff=$(to_null "$FAST" --stats "$input")
    row "stats" "flameconv" "$fc" "$bytes" "$samples" "" "$read_floor"
    row "stats" "flame-fast --stats" "$ff" "$bytes" "$samples" "$(ratio "${ff% *}" "${fc% *}")"

    # inspect: the same files, in the same order
    fc=$(to_null "$BIN" inspect "${files[@]}")
    ff=$(to_null "$FAST" --inspect "${files[@]}")
    row "inspect" "flameconv" "$fc" "$bytes" "$samples" "" "$read_floor"
    row "inspect" "flame-fast --inspect" "$ff" "$bytes" "$samples" "$(ratio "${ff% *}" "${fc% *}")"
done
note ""
note "flame-fast's flame_prof text was byte for byte flameconv's on every input."
note ""
note "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
