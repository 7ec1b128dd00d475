#!/usr/bin/env bash
# Second command of the README, and what CI runs: every test suite.
#   Swift tests (decoder, dump reader, converter, CLI, end to end with a real BEAM),
#   the agent's EUnit tests, the reader-parser and oracle checks (pytest), and
#   the report in headless Chromium (pytest).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/install-deps.sh

echo "== Swift tests"
swift build --build-tests
# One test at a time: many tests wait on a child process (flameconv, erl), and
# in parallel they hold the few pool threads of a 2-core machine while the
# others' time limits run out.
swift test --skip-build --no-parallel 2>&1 | tee /tmp/flameconv-swift-test.log
grep -qE "Test run with [0-9]+ tests? .*passed|passed after" /tmp/flameconv-swift-test.log

echo "== flame_agent EUnit tests"
Tests/erlang/run-agent-tests.sh

echo "== Reader mirrors and the flame_prof oracle (pytest)"
python3 -m pytest -q -c Tests/reference/pytest.ini Tests/reference

echo "== The report in headless Chromium, against the FlameScope fork's algorithm (pytest)"
python3 -m pytest -q -c Tests/browser/pytest.ini Tests/browser

echo "== Swift tests under AddressSanitizer"
# LeakSanitizer is off: the test runner and the Swift runtime keep metadata
# until exit, which it reports as leaks. HardeningTests notice ASan and run
# flameconv without ulimit -v (ASan reserves terabytes of shadow memory).
ASAN_OPTIONS=detect_leaks=0 swift test --no-parallel --sanitize=address --scratch-path .build-asan 2>&1 | tee /tmp/flameconv-asan-test.log
grep -qE "Test run with [0-9]+ tests? .*passed|passed after" /tmp/flameconv-asan-test.log

echo "== Fuzz smoke (libFuzzer + ASan, 60 s a target)"
if ls "$(dirname "$(readlink -f "$(command -v swiftc)")")"/../lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a >/dev/null 2>&1; then
    Fuzz/run.sh FuzzETFDecode 60
    Fuzz/run.sh FuzzDumpConvert 60
else
    echo "skipped: this toolchain has no libclang_rt.fuzzer"
fi

echo "== all suites passed"
