#!/usr/bin/env bash
# Whether two flameconv builds write the same bytes: perf text in both
# dialects (with category levels, a metric list, one thread), folded, pprof,
# speedscope and stats, and the same messages and exit codes, on the fixture
# captures and the bench captures (make-bench-captures.sh) that exist. For a
# change that must keep every output byte-identical.
#
#   Benchmarks/scripts/compare-outputs.sh OLD NEW [INPUT...]
# Prints each difference and exits 1, or prints IDENTICAL.
set -uo pipefail
[ $# -ge 2 ] || { echo "usage: $0 OLD NEW [INPUT...]" >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OLD=$1 NEW=$2
shift 2
if [ $# -eq 0 ]; then
    set -- "$ROOT"/Fixtures/captures/{plain,compressed,rotated,top100}
    for c in fixture-all-20s busy-all-5s fixture-top100-20s busy-all-full-15s busy-top100-20s; do
        [ -d "$ROOT/bench-data/captures/$c" ] && set -- "$@" "$ROOT/bench-data/captures/$c"
    done
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
status=0
for input in "$@"; do
    name=$(basename "$input")
    for args in "--dialect flame_prof" "--dialect portable" \
        "--dialect flame_prof --category status --category bucket(memory,log2)" \
        "--dialect portable --metrics reductions,memory,message_queue_len" "--dialect flame_prof --threads 1"; do
        for which in OLD NEW; do
            if [ "$which" = OLD ]; then bin=$OLD; else bin=$NEW; fi
            # The same output name for both: it is in the messages.
            # shellcheck disable=SC2086
            "$bin" convert "$input" $args -o "$T/out.perf" >"$T/$which.msg" 2>&1
            echo "exit $?" >>"$T/$which.msg"
            mv "$T/out.perf" "$T/$which.perf" 2>/dev/null || : >"$T/$which.perf"
        done
        if ! cmp -s "$T/OLD.perf" "$T/NEW.perf" || ! cmp -s "$T/OLD.msg" "$T/NEW.msg"; then
            echo "DIFFERENT: $name convert $args"
            status=1
        fi
    done
    for which in OLD NEW; do
        if [ "$which" = OLD ]; then bin=$OLD; else bin=$NEW; fi
        "$bin" convert "$input" -o "$T/out.folded" -o "$T/out.pprof" -o "$T/out.speedscope.json" >/dev/null 2>&1
        for f in folded pprof speedscope.json; do mv "$T/out.$f" "$T/$which.$f" 2>/dev/null || : >"$T/$which.$f"; done
        "$bin" stats "$input" >"$T/$which.stats" 2>&1
    done
    for f in folded pprof speedscope.json stats; do
        cmp -s "$T/OLD.$f" "$T/NEW.$f" || { echo "DIFFERENT: $name $f"; status=1; }
    done
done
[ $status -eq 0 ] && echo IDENTICAL
exit $status
