#!/usr/bin/env bash
# Second command of the README, and what CI runs: every test suite.
#   Swift tests (decoder, dump reader, converter, CLI, end to end with a real BEAM),
#   the agent's EUnit tests, and the reader-parser and oracle checks (pytest).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/install-deps.sh

echo "== Swift tests"
swift build --build-tests
swift test --skip-build 2>&1 | tee /tmp/flameconv-swift-test.log
grep -qE "Test run with [0-9]+ tests? .*passed|passed after" /tmp/flameconv-swift-test.log

echo "== flame_agent EUnit tests"
Tests/erlang/run-agent-tests.sh

echo "== Reader mirrors and the flame_prof oracle (pytest)"
python3 -m pytest -q -c Tests/reference/pytest.ini Tests/reference

echo "== all suites passed"
