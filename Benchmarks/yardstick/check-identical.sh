#!/usr/bin/env bash
# Checks that flame-fast writes the oracle's text byte for byte: on every dump
# under Fixtures/ and Tests/reference/testdata/dumps/ (each file alone), on
# each capture folder and on all of them at once, and on any further FILE_OR_DIR
# given (synthetic dumps, say). Standard error is not compared (the messages
# name the tool); the exit status is.
#
#   Benchmarks/yardstick/check-identical.sh [FILE_OR_DIR...]
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
FF=Benchmarks/yardstick/flame-fast
ORACLE=Tests/reference/flame_prof_ref.escript
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

inputs=()
while IFS= read -r f; do inputs+=("$f"); done < <(git ls-files Fixtures Tests/reference/testdata/dumps |
    grep -Ev '(README\.md|cases\.tsv|\.perf|\.json|\.expected|\.labels|\.etf)$' | grep -v '^Fixtures/golden/')
inputs+=(Fixtures/captures/plain Fixtures/captures/compressed Fixtures/captures/rotated Fixtures/captures/top100
         Fixtures/captures Tests/reference/testdata/dumps Tests/reference/testdata/dumps/rotated)
inputs+=("$@")

same=0 different=0
for input in "${inputs[@]}"; do
    "$FF" "$input" >"$TMP/fast" 2>"$TMP/fast.err"; fast_rc=$?
    escript "$ORACLE" "$input" >"$TMP/oracle" 2>"$TMP/oracle.err"; oracle_rc=$?
    if cmp -s "$TMP/fast" "$TMP/oracle" && [ "$fast_rc" = "$oracle_rc" ]; then
        same=$((same + 1))
    else
        different=$((different + 1))
        echo "DIFFERENT: $input (exit $fast_rc vs oracle $oracle_rc; $(stat -c %s "$TMP/fast") vs $(stat -c %s "$TMP/oracle") bytes)"
    fi
done
echo "check-identical: $same identical, $different different"
[ "$different" = 0 ]
