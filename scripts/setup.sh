#!/usr/bin/env bash
# First command of the README: install what is missing, build flameconv, and
# convert a bundled real capture, in one pass, into perf text for FlameScope,
# folded stacks, speedscope JSON and pprof; then write its HTML report.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/install-deps.sh
# The Swift runtime linked in: a third less start-up work per run (BENCHMARKS.md, "Start-up").
swift build -c release --static-swift-stdlib
mkdir -p out
.build/release/flameconv convert Fixtures/captures/rotated -o out/rotated.perf -o out/rotated.folded \
    -o out/rotated.speedscope.json -o out/rotated.pprof
.build/release/flameconv stats Fixtures/captures/rotated
# The report: one HTML file of heat maps and flame graphs, opened in any browser.
.build/release/flameconv report Fixtures/captures/rotated -o out/rotated.html --quiet
echo
echo "Wrote out/rotated.perf (FlameScope), out/rotated.folded (flamegraph.pl, inferno),"
echo "out/rotated.speedscope.json (speedscope) and out/rotated.pprof (go tool pprof); see"
echo "  .build/release/flameconv --help"
echo
echo "The report (heat maps and flame graphs, no server needed): open in a browser"
echo "  $PWD/out/rotated.html"
