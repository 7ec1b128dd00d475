#!/usr/bin/env bash
# Makes the real-BEAM captures in Fixtures/captures/ with flame_agent and
# flame_workload, checks them with Tests/erlang/dump_check.escript, and writes
# Fixtures/captures/README.md. Idempotent: the output folder is emptied first.
#
# Usage: scripts/make-fixtures.sh            (from anywhere in the repo)
# Needs: erl, erlc, escript (OTP 21+), epmd for the node name (falls back to
# a node without a name when distribution cannot start).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/Fixtures/captures"
NODE_NAME="flamefix@127.0.0.1"

BUILD="$(mktemp -d "${TMPDIR:-/tmp}/flame-fixtures.XXXXXX")"
trap 'rm -rf "$BUILD"' EXIT

erlc -o "$BUILD" "$ROOT/agent/flame_agent.erl" "$ROOT"/Tests/erlang/workload/*.erl

# The capture driver: one node, workload warmed up, then one capture after
# the other. Every capture gets a fixed capture id so file names are stable.
cat > "$BUILD/flame_fixtures.erl" <<'ERL'
-module(flame_fixtures).
-export([main/1]).

main([Out]) ->
    ok = flame_workload:start(),
    timer:sleep(1000),                       % let mailboxes/heaps build up
    Captures =
        [{"plain",      1000, #{select => {top, 8}, interval_ms => 20}},
         {"compressed", 1000, #{select => {top, 8}, interval_ms => 20,
                                compressed => true}},
         {"rotated",    1500, #{select => {top, 5}, interval_ms => 20,
                                max_file_bytes => 80 * 1024}},
         {"top100",     duration, #{select => {top, 100}, interval_ms => 10,
                                    reselect_ms => 1000, duration_ms => 1500,
                                    compressed => true}}],
    lists:foreach(fun(C) -> capture(Out, C) end, Captures),
    ok = flame_workload:stop(),
    io:format("fixtures: done~n"),
    halt(0).

capture(Out, {Id, How, Opts}) ->
    Dir = filename:join(Out, Id),
    {ok, Pid} = flame_agent:start(Opts#{dir => Dir, capture => list_to_binary(Id)}),
    case How of
        duration ->
            %% duration_ms stops the agent by itself: wait for it.
            Ref = erlang:monitor(process, Pid),
            receive {'DOWN', Ref, process, Pid, _} -> ok after 30000 -> error(timeout) end;
        Ms ->
            timer:sleep(Ms),
            S = flame_agent:status(),
            ok = flame_agent:stop(),
            io:format("fixtures: ~s ticks=~p samples=~p overruns=~p bytes=~p~n",
                      [Id, maps:get(ticks, S), maps:get(samples, S),
                       maps:get(overruns, S), maps:get(bytes, S)])
    end.
ERL
erlc -o "$BUILD" "$BUILD/flame_fixtures.erl"

rm -rf "$OUT"
mkdir -p "$OUT"

run_node() {
    erl -noshell "$@" -pa "$BUILD" -run flame_fixtures main "$OUT"
}
if ! run_node -name "$NODE_NAME" -setcookie flamefix; then
    echo "make-fixtures: distributed node failed, retrying without a node name" >&2
    rm -rf "$OUT"; mkdir -p "$OUT"
    run_node
fi

CHECK="$(cd "$OUT" && escript "$ROOT/Tests/erlang/dump_check.escript" */*.flame)"
echo "$CHECK"

OTP="$(erl -noshell -eval 'io:format("~s", [erlang:system_info(otp_release)]), halt().')"
{
cat <<'MD'
# Captures from a real BEAM

Made by `scripts/make-fixtures.sh` (run it from anywhere in the repo; it
empties this folder, rebuilds everything and rewrites this README). One node,
started as

    erl -noshell -name flamefix@127.0.0.1 -setcookie flamefix -pa BUILD -run flame_fixtures main Fixtures/captures

runs `flame_workload:start()` (Tests/erlang/workload: CPU burners, a slow
mailbox consumer, a binary hoarder, a GC churner, 250-deep mutual recursion
waiting in `receive` (registered `flame_deep`: its `current_stacktrace` has 64
frames, the agent's `backtrace_depth`), 220-deep self-recursion working at the
bottom (ERTS drops repeated return addresses, so its stacktrace shows only a
few frames although `stack_size` is ~220 words), gen_servers under a
supervisor so `'$initial_call'`/`'$ancestors'` are present, registered and
unregistered processes), waits 1 s, then takes these captures one after the
other with `agent/flame_agent.erl`:

| folder | call | what it is |
| --- | --- | --- |
| `plain/` | `flame_agent:start(#{dir => "Fixtures/captures/plain", capture => <<"plain">>, select => {top, 8}, interval_ms => 20})`, stop after 1 s | plain framed ETF, one file |
| `compressed/` | same with `compressed => true`, capture `<<"compressed">>`, 1 s | every frame `term_to_binary(T, [compressed])` |
| `rotated/` | `select => {top, 5}, interval_ms => 20, max_file_bytes => 81920`, capture `<<"rotated">>`, stop after 1.5 s | one capture in several files, seq 0.., each with header and trailer |
| `top100/` | `select => {top, 100}, reselect_ms => 1000, interval_ms => 10, duration_ms => 1500, compressed => true`, capture `<<"top100">>` | flame_prof-style top 100 by reductions (since the last reselect), stopped by `duration_ms`; the node has fewer than 100 processes, so that is all of them but the agent |

All files are `<capture>-<seq 6 digits>.flame`: 4-byte big-endian length +
`term_to_binary` per frame, header `{flame_dump, 1, Meta}` first, then
`{samples, Ts, [{Pid, Items}]}` per tick and `{system, Ts, Info}` once a second,
trailer `{flame_dump_end, Stats}` last (see docs/dump-format.md).
Header and trailer carry a few extra keys (`agent_pid`, `select`, `items`,
`reason`, `capture_ticks` …) that readers ignore.

Timestamps, pids and counts change from run to run; structure does not.

MD
echo "OTP release: $OTP. Sizes and the independent check"
echo "(\`escript Tests/erlang/dump_check.escript */*.flame\`, run in this folder):"
echo
echo '```'
(cd "$OUT" && du -b */*.flame)
echo
echo "$CHECK"
echo '```'
} > "$OUT/README.md"

du -sh "$OUT"
