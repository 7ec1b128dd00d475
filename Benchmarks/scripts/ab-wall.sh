#!/usr/bin/env bash
# Two flameconv builds (or any two programs) on the same arguments, taking
# turns run by run, so that a noisy machine slows both alike: the median and
# the fastest wall time of each, in ms.
#
#   Benchmarks/scripts/ab-wall.sh N OLD NEW ARGS...
#   Benchmarks/scripts/ab-wall.sh 21 old/flameconv .build/release/flameconv convert IN --dialect flame_prof -o /dev/null
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 N OLD NEW ARGS..." >&2; exit 2; }
N=$1 OLD=$2 NEW=$3
shift 3
TIMES=$(mktemp)
trap 'rm -f "$TIMES"' EXIT
for _ in $(seq "$N"); do
    for which in OLD NEW; do
        if [ "$which" = OLD ]; then bin=$OLD; else bin=$NEW; fi
        t0=$(date +%s%N)
        "$bin" "$@" >/dev/null 2>&1
        t1=$(date +%s%N)
        echo "$which $(( (t1 - t0) / 100000 ))" >>"$TIMES"
    done
done
for which in OLD NEW; do
    grep "^$which " "$TIMES" | awk '{print $2}' | sort -n |
        awk -v w="$which" '{a[NR] = $1} END {printf "%s median %.1f ms (fastest %.1f)\n", w, a[int((NR + 1) / 2)] / 10, a[1] / 10}'
done
