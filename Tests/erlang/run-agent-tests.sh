#!/usr/bin/env bash
# Compiles the agent, the workload and the EUnit tests into a temporary
# directory and runs flame_agent_tests on a fresh node. Exit status is
# non-zero when a test fails (or anything does not compile).
# Usage: Tests/erlang/run-agent-tests.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="$(mktemp -d "${TMPDIR:-/tmp}/flame-agent-tests.XXXXXX")"
trap 'rm -rf "$BUILD"' EXIT

erlc -Wall -Werror -o "$BUILD" "$ROOT/agent/flame_agent.erl"
erlc -Wall -o "$BUILD" "$ROOT"/Tests/erlang/workload/*.erl \
     "$ROOT/Tests/erlang/flame_agent_tests.erl"

cd "$BUILD"
# The tests' scratch folders go under $BUILD too: a fresh place every run,
# removed with it (even after a failed test that could not clean up).
export TMPDIR="$BUILD"
erl -noshell -pa "$BUILD" -eval '
    case eunit:test(flame_agent_tests, [verbose]) of
        ok -> halt(0);
        _ -> halt(1)
    end.'
