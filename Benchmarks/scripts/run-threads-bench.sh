#!/usr/bin/env bash
# One capture on two threads (a reader thread parses, the main thread
# converts) against one thread: wall time and CPU time, medians of 5.
#
#   Benchmarks/scripts/run-threads-bench.sh [REV [BASE]]
#
# REV (default HEAD) is built with `swift build -c release` in a temporary
# worktree (scratch path .build-bench-REV, kept for the next run). When its
# `convert` takes `--threads`, one thread is `--threads 1` of the same
# build; otherwise it is the build of BASE (default: the last commit before
# the pipeline, 446cbad), which had one thread only.
# Inputs: the four real captures of Fixtures/captures merged, and the 200 MB
# synthetic dumps from dumpsynth (realistic and high stack variety; made
# once under bench-data/). Commands: convert to perf text, convert to folded
# stacks (both to /dev/null), and stats. The machine may be shared: the load
# average is noted before and after, and every figure is a median of 5.
# Results: bench-data/threads-bench.txt.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
REV=${1:-HEAD}
BASE=${2:-446cbad}
DATA=$ROOT/bench-data
RESULTS=$DATA/threads-bench.txt
mkdir -p "$DATA"
cd "$ROOT"
# shellcheck source=bench-common.sh
. "$ROOT/Benchmarks/scripts/bench-common.sh"
: >"$RESULTS"
note "== $(date -u +%FT%TZ) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
BIN=$(flameconv_at "$REV")
OLD=
for sub in convert stats; do
    if ! "$BIN" "$sub" --help 2>&1 | grep -q -- '--threads'; then OLD=$(flameconv_at "$BASE"); fi
done
if [ -z "$OLD" ]; then
    note "== build: $REV ($(git rev-parse --short "$REV")), --threads 1 against --threads 2"
else
    note "== builds: one thread $BASE ($(git rev-parse --short "$BASE")), two threads $REV ($(git rev-parse --short "$REV"))"
fi

# The command line of SUBCOMMAND ARGS on one thread (1) or two (2).
line() {
    local threads=$1 sub=$2
    shift 2
    if [ -z "$OLD" ]; then echo "$BIN" "$sub" --threads "$threads" "$@"
    elif [ "$threads" = 1 ]; then echo "$OLD" "$sub" "$@"
    else echo "$BIN" "$sub" "$@"
    fi
}

TIMES=$(mktemp)
trap 'rm -f "$TIMES"' EXIT
# One command line, 5 times: "wall user+sys rss" medians (s, s, MB).
measure() {
    local walls=() cpus=() rss=0 out
    for _ in 1 2 3 4 5; do
        /usr/bin/time -o "$TIMES" -f "%e %U %S %M" "$@" >/dev/null 2>&1 || true
        read -r wall user sys kb <"$TIMES"
        walls+=("$wall")
        cpus+=("$(echo "$user + $sys" | bc -l)")
        rss=$(( kb > rss ? kb : rss ))
    done
    echo "$(printf '%s\n' "${walls[@]}" | median) $(printf '%s\n' "${cpus[@]}" | median) $(( rss / 1024 ))"
}

note ""
note "median of 5: wall s, user+sys s, peak RSS MB; speed-up = wall one / wall two"
note "$(printf '%-28s %-10s %22s %22s %8s' input command 'one thread' 'two threads' speed-up)"
for input in "$CAPTURES" "$DATA/synth-realistic-200M.flame" "$DATA/synth-high-200M.flame"; do
    for command in perf folded stats; do
        case $command in
            perf) args=(convert "$input" --quiet -o /dev/null) ;;
            folded) args=(convert "$input" --quiet --format folded -o /dev/null) ;;
            stats) args=(stats "$input") ;;
        esac
        # shellcheck disable=SC2046 # paths without blanks
        read -r w1 c1 r1 <<<"$(measure $(line 1 "${args[@]}"))"
        # shellcheck disable=SC2046
        read -r w2 c2 r2 <<<"$(measure $(line 2 "${args[@]}"))"
        note "$(printf '%-28s %-10s %8s %6.2f %5s %8s %6.2f %5s %7.2fx' "$(basename "$input")" "$command" "$w1" "$c1" "$r1" "$w2" "$c2" "$r2" "$(echo "$w1 / $w2" | bc -l)")"
    done
done
note ""
note "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
