#!/usr/bin/env bash
# First command of the README: install what is missing, build flameconv, and
# convert a bundled real capture into perf text for FlameScope.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/install-deps.sh
swift build -c release
mkdir -p out
.build/release/flameconv convert Fixtures/captures/rotated -o out/rotated.perf
.build/release/flameconv stats Fixtures/captures/rotated
echo
echo "Wrote out/rotated.perf: open it in FlameScope, or run"
echo "  .build/release/flameconv --help"
