#!/usr/bin/env bash
# Scale benchmark of agent/flame_agent.erl (issue 14); writes
# bench-data/agent-scale.md (the "Agent at scale" part of BENCHMARKS.md).
#   (a) nodes of 1k, 10k, 100k and 1M idle processes (a quarter proc_lib)
#       plus 4 processes busy ~10% each: without the agent, at the defaults,
#       and with select => all; SECS seconds each, a fresh node each time;
#   (b) one process with 1,000,000 queued messages, on a node with one
#       scheduler (+S 1) so that a latency probe sees any stalled scheduler:
#       at the defaults, with select => [it], and the same with the rule off
#       (huge_mailbox_len => infinity) to show what it prevents. The probe
#       is watched as long without the agent as with it.
# Usage: Benchmarks/agent/agent_scale.sh [SECS] [SIZES]
#        (defaults: 15 "1000 10000 100000 1000000")
# Runs under nice -n 10: the 1M-process nodes use ~3 GB and both cores.
set -euo pipefail

SECS="${1:-15}"
SIZES="${2:-1000 10000 100000 1000000}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="$(mktemp -d "${TMPDIR:-/tmp}/flame-scale.XXXXXX")"
trap 'rm -rf "$BUILD"' EXIT

erlc -o "$BUILD" "$ROOT/agent/flame_agent.erl" "$ROOT/Benchmarks/agent/flame_scale.erl"
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"

: > "$BUILD/procs.txt"
: > "$BUILD/events.txt"
for n in $SIZES; do
    for mode in none defaults all; do
        rm -rf "$BUILD/dump"
        echo "agent_scale: $n processes, $mode" >&2
        echo "== $n processes, $mode" >> "$BUILD/events.txt"
        nice -n 10 erl +P 2000000 -noshell -pa "$BUILD" \
            -run flame_scale procs "$n" 4 "$SECS" "$BUILD/dump" "$mode" \
            2>> "$BUILD/events.txt" | tee -a "$BUILD/procs.txt" >&2
    done
done

: > "$BUILD/mailbox.txt"
for sel in defaults pid pid_norule; do
    rm -rf "$BUILD/dump"
    echo "agent_scale: 1M-message mailbox, $sel" >&2
    echo "== mailbox, $sel" >> "$BUILD/events.txt"
    nice -n 10 erl +S 1 -noshell -pa "$BUILD" \
        -run flame_scale mailbox "$SECS" "$BUILD/dump" "$sel" \
        2>> "$BUILD/events.txt" | tee -a "$BUILD/mailbox.txt" >&2
done
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"

# key=value lines to markdown rows.
kv() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<< " $1"; }
OTP="$(erl -noshell -eval 'io:format("~s (erts ~s)", [erlang:system_info(otp_release), erlang:system_info(version)]), halt().')"
CPU="$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //' || echo unknown)"
mkdir -p "$ROOT/bench-data"
{
cat <<MD
# flame_agent at scale

Machine: $(nproc) cores ($CPU), $(free -g | awk '/Mem:/ {print $2}') GB RAM, $(uname -sr), Erlang/OTP $OTP.
Measured $(date -u +%Y-%m-%d) with

    Benchmarks/agent/agent_scale.sh $SECS "$SIZES"

(sources: Benchmarks/agent/agent_scale.sh, Benchmarks/agent/flame_scale.erl).
Load average (1, 5, 15 min) before: $LOAD_BEFORE; after: $LOAD_AFTER.

### (a) Nodes of many processes, $SECS s each, agent at the defaults / select all

N idle processes (a quarter proc_lib) and 4 processes that each work ~1 ms
out of every 10. "start"/"status max" are the latency of \`flame_agent:start/1\`
and the worst of the \`status/0\` calls made every 500 ms; "agent MB" is the
peak of status()'s \`memory\` (agent + lister + unwritten frames), "node MB" the
peak of \`erlang:memory(total)\` above the level before start, "after stop"
the same 0.5 s after \`stop/0\`. "lost" is overruns / (ticks + overruns).
"long sched" counts \`long_schedule\` (10 ms) and \`long_gc\` events of the agent
and its lister / of every other process. "sched util" is the schedulers'
busy share over the run (both schedulers), from \`scheduler_wall_time\`: the
difference from the \`none\` row is the agent's cost.

| processes | agent | start ms | status max ms | agent MB | node MB | after stop MB | ticks | lost | tick avg µs | tick max µs | samples | short | bytes/s | bytes/sample | passes (last ms) | long sched agent / other | long GC agent | sched util |
| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: |
MD
while read -r line; do
    [[ "$line" == RESULT* ]] || continue
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s%% | %s | %s | %s | %s | %s | %s | %s (%s) | %s / %s | %s | %s%% |\n' \
        "$(kv "$line" procs)" "$(kv "$line" mode)" "$(kv "$line" start_ms)" "$(kv "$line" status_ms_max)" \
        "$(kv "$line" agent_mem_peak_mb)" "$(kv "$line" node_mem_peak_mb)" "$(kv "$line" node_mem_after_stop_mb)" \
        "$(kv "$line" ticks)" "$(kv "$line" lost_pct)" "$(kv "$line" tick_us_avg)" "$(kv "$line" tick_us_max)" \
        "$(kv "$line" samples)" "$(kv "$line" unchanged)" "$(kv "$line" bytes_per_s)" "$(kv "$line" bytes_per_sample)" \
        "$(kv "$line" passes)" "$(kv "$line" last_pass_ms)" "$(kv "$line" long_sched_agent)" "$(kv "$line" long_sched_other)" \
        "$(kv "$line" long_gc_agent)" "$(kv "$line" sched_util_pct)"
done < "$BUILD/procs.txt"
cat <<MD

### (b) One process with 1,000,000 queued messages (+S 1), $SECS s

"probe late" is the worst lateness of a high-priority process sleeping 1 ms
at a time, before the agent starts / while it runs: a stalled scheduler
shows there (a queue walk inside \`process_info\` is not reported by
\`long_schedule\`). "victim samples" are the samples of the process with the
huge queue, "skipped" those with \`flame_skipped\` (the later ones are short
samples pointing at it), "with memory" those where \`memory\` was read.

| select | queue | ticks | overruns | tick avg µs | tick max µs | victim samples | skipped | with memory | long sched agent / other | probe late ms before / during |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |
MD
while read -r line; do
    [[ "$line" == RESULT* ]] || continue
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s / %s | %s / %s |\n' \
        "$(kv "$line" select)" "$(kv "$line" queue)" "$(kv "$line" ticks)" "$(kv "$line" overruns)" \
        "$(kv "$line" tick_us_avg)" "$(kv "$line" tick_us_max)" "$(kv "$line" victim_samples)" \
        "$(kv "$line" victim_skipped)" "$(kv "$line" victim_with_memory)" \
        "$(kv "$line" long_sched_agent)" "$(kv "$line" long_sched_other)" \
        "$(kv "$line" probe_late_ms_before)" "$(kv "$line" probe_late_ms_during)"
done < "$BUILD/mailbox.txt"
echo
echo "Raw RESULT lines:"
echo
sed 's/^/    /' "$BUILD/procs.txt" "$BUILD/mailbox.txt"
} > "$ROOT/bench-data/agent-scale.md"

# The agent's long schedule / long GC events, in full, to see what ran.
cp "$BUILD/events.txt" "$ROOT/bench-data/agent-scale-events.txt"
echo "agent_scale: wrote $ROOT/bench-data/agent-scale.md (events: agent-scale-events.txt)" >&2
