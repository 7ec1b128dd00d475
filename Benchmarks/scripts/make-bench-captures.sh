#!/usr/bin/env bash
# Real captures for the benchmarks: agent/flame_agent.erl on a real BEAM, into
# bench-data/captures/ (git-ignored; emptied first), one folder per capture,
# named after it:
#
#   fixture-top100-5s, -20s, -60s   the fixtures' workload (flame_workload:start(),
#                                   as scripts/make-fixtures.sh), the agent's
#                                   defaults: select => {top, 100}, every 10 ms
#   fixture-all-20s                 the same node, select => all
#   fixture-all-full-15s            select => all, unchanged => full: every
#                                   sample full (agent 1.0's files), nothing
#                                   for a reader to complete
#   busy-top100-20s                 a busier node: flame_workload:start(#{extra => E,
#                                   idle => I}) (E more sets of working
#                                   processes, I idle ones), the defaults
#   busy-all-5s, -20s, -60s         the busier node, select => all
#   busy-all-full-15s               the busier node, select => all, unchanged => full
#
# Every capture uses the agent's defaults otherwise (interval 10 ms,
# max_procs_per_tick 250, unchanged => short, 64 MiB files) and stops by
# itself (duration_ms). The fixtures' workload is warmed up 1 s first, as in
# make-fixtures.sh; the mailbox process's queue passes the agent's
# huge_mailbox_len (10000) some 20 s in, so the longer captures hold its
# {flame_skipped, ...} samples, as a long capture of such a node would.
# On a 2-core machine the node keeps both cores busy and the agent, at normal
# priority, misses many ticks (overruns: see MANIFEST.txt); the busier node
# more so. About 4 minutes; some 150 MB.
#
#   Benchmarks/scripts/make-bench-captures.sh [EXTRA [IDLE]]    (defaults 10, 1000)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="$ROOT/bench-data/captures"
EXTRA="${1:-10}"
IDLE="${2:-1000}"

BUILD="$(mktemp -d "${TMPDIR:-/tmp}/flame-benchcap.XXXXXX")"
trap 'rm -rf "$BUILD"' EXIT
erlc -o "$BUILD" "$ROOT/agent/flame_agent.erl" "$ROOT"/Tests/erlang/workload/*.erl

cat > "$BUILD/flame_benchcap.erl" <<'ERL'
-module(flame_benchcap).
-export([main/1]).

main([Out, Extra, Idle]) ->
    Busy = #{extra => list_to_integer(Extra), idle => list_to_integer(Idle)},
    run(Out, #{}, [{"fixture-top100-5s", 5, #{}},
                   {"fixture-top100-20s", 20, #{}},
                   {"fixture-top100-60s", 60, #{}},
                   {"fixture-all-20s", 20, #{select => all}},
                   {"fixture-all-full-15s", 15, #{select => all, unchanged => full}}]),
    run(Out, Busy, [{"busy-top100-20s", 20, #{}},
                    {"busy-all-5s", 5, #{select => all}},
                    {"busy-all-20s", 20, #{select => all}},
                    {"busy-all-60s", 60, #{select => all}},
                    {"busy-all-full-15s", 15, #{select => all, unchanged => full}}]),
    halt(0).

run(Out, Load, Captures) ->
    ok = flame_workload:start(Load),
    timer:sleep(1000),
    io:format("bench-captures: workload ~p: ~B processes on the node~n",
              [Load, erlang:system_info(process_count)]),
    lists:foreach(fun(C) -> capture(Out, C) end, Captures),
    ok = flame_workload:stop().

capture(Out, {Id, Secs, Opts}) ->
    Dir = filename:join(Out, Id),
    {ok, Pid} = flame_agent:start(Opts#{dir => Dir, capture => list_to_binary(Id),
                                        duration_ms => Secs * 1000}),
    Ref = erlang:monitor(process, Pid),
    receive {'DOWN', Ref, process, Pid, _} -> ok after (Secs + 60) * 1000 -> error(timeout) end,
    Files = filelib:wildcard(filename:join(Dir, "*.flame")),
    %% The agent's counts, from the last file's trailer.
    {ok, Bin} = file:read_file(lists:last(Files)),
    #{capture_ticks := Ticks, capture_samples := Samples, capture_overruns := Overruns} =
        last_trailer(Bin, #{}),
    io:format("bench-captures: ~s: ~B file(s), ~B bytes, ~B ticks, ~B samples, ~B overruns~n",
              [Id, length(Files), lists:sum([filelib:file_size(F) || F <- Files]),
               Ticks, Samples, Overruns]).

last_trailer(<<N:32, T:N/binary, Rest/binary>>, Acc) ->
    case binary_to_term(T) of
        {flame_dump_end, Stats} -> last_trailer(Rest, Stats);
        _ -> last_trailer(Rest, Acc)
    end;
last_trailer(_, Acc) -> Acc.
ERL
erlc -o "$BUILD" "$BUILD/flame_benchcap.erl"

rm -rf "$OUT"
mkdir -p "$OUT"
START=$(date +%s)
# A node name, as the fixtures have (the header's node); without one if
# distribution cannot start.
if ! erl -noshell -name flamebench@127.0.0.1 -setcookie flamebench -pa "$BUILD" \
        -run flame_benchcap main "$OUT" "$EXTRA" "$IDLE" | tee "$BUILD/log.txt"; then
    echo "make-bench-captures: distributed node failed, retrying without a node name" >&2
    rm -rf "$OUT"; mkdir -p "$OUT"
    erl -noshell -pa "$BUILD" -run flame_benchcap main "$OUT" "$EXTRA" "$IDLE" | tee "$BUILD/log.txt"
fi
{
    echo "Made by Benchmarks/scripts/make-bench-captures.sh $EXTRA $IDLE on $(date -u +%FT%TZ)"
    echo "in $(( $(date +%s) - START )) s, OTP $(erl -noshell -eval 'io:format("~s", [erlang:system_info(otp_release)]), halt().'), $(nproc) cores."
    echo "Load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    cat "$BUILD/log.txt"
    echo
    (cd "$OUT" && du -b */*.flame)
} > "$OUT/MANIFEST.txt"
cat "$OUT/MANIFEST.txt"
du -sh "$OUT"
