#!/usr/bin/env bash
# First command of the README: install what is missing, build flameconv, and
# convert a bundled real capture, in one pass, into perf text for FlameScope,
# folded stacks, speedscope JSON and pprof.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/install-deps.sh
# The Swift runtime linked in: a third less start-up work per run (BENCHMARKS.md, "Start-up").
swift build -c release --static-swift-stdlib
mkdir -p out
.build/release/flameconv convert Fixtures/captures/rotated -o out/rotated.perf -o out/rotated.folded \
    -o out/rotated.speedscope.json -o out/rotated.pprof
.build/release/flameconv stats Fixtures/captures/rotated
echo
echo "Wrote out/rotated.perf (FlameScope), out/rotated.folded (flamegraph.pl, inferno),"
echo "out/rotated.speedscope.json (speedscope) and out/rotated.pprof (go tool pprof); see"
echo "  .build/release/flameconv --help"
