#!/usr/bin/env bash
# End to end with a real BEAM: the workload runs, flame_agent samples it into a
# capture rotated over several small files, the files pass the independent
# dump_check.escript, and flameconv converts the folder as one capture. The
# perf text must hold the workload's functions, the statuses and every metric,
# positive reductions deltas, and deltas that continue across the files.
#
# Usage: Tests/erlang/e2e.sh      (FLAMECONV=path picks the binary; otherwise
#        .build/debug/flameconv, built with `swift build` if missing)
# Needs: erl, erlc, escript, python3. Exit status non-zero on any failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/flame-e2e.XXXXXX")"
trap '[ -n "${E2E_KEEP:-}" ] || rm -rf "$WORK"' EXIT
BUILD="$WORK/ebin"
OUT="$WORK/capture"
mkdir -p "$BUILD" "$OUT"

FLAMECONV="${FLAMECONV:-}"
if [ -z "$FLAMECONV" ]; then
    FLAMECONV="$ROOT/.build/debug/flameconv"
    [ -x "$FLAMECONV" ] || (cd "$ROOT" && swift build --product flameconv >/dev/null)
fi
[ -x "$FLAMECONV" ] || { echo "e2e: no flameconv at $FLAMECONV" >&2; exit 1; }

erlc -o "$BUILD" "$ROOT/agent/flame_agent.erl" "$ROOT"/Tests/erlang/workload/*.erl

cat > "$BUILD/flame_e2e.erl" <<'ERL'
-module(flame_e2e).
-export([main/1]).

main([Out]) ->
    ok = flame_workload:start(),
    timer:sleep(500),
    %% The workload's own processes (a top-N pick at start-up may miss them).
    Pids = [P || {_, P} <- flame_workload:pids()],
    %% At the defaults: idle processes get short samples, which the
    %% converter completes from their full ones (docs/dump-format.md).
    {ok, _} = flame_agent:start(#{dir => Out, capture => <<"e2e">>,
                                  select => Pids, interval_ms => 10,
                                  max_file_bytes => 200 * 1024}),
    timer:sleep(1200),
    S = flame_agent:status(),
    ok = flame_agent:stop(),
    ok = flame_workload:stop(),
    io:format("e2e: ticks=~p samples=~p overruns=~p bytes=~p~n",
              [maps:get(ticks, S), maps:get(samples, S), maps:get(overruns, S),
               maps:get(bytes, S)]),
    halt(0).
ERL
erlc -o "$BUILD" "$BUILD/flame_e2e.erl"
erl -noshell -pa "$BUILD" -run flame_e2e main "$OUT"

shopt -s nullglob
files=("$OUT"/*.flame)
echo "e2e: ${#files[@]} files"
[ "${#files[@]}" -ge 3 ] || { echo "e2e: rotation made ${#files[@]} files, want >= 3" >&2; exit 1; }

(cd "$OUT" && escript "$ROOT/Tests/erlang/dump_check.escript" *.flame) > "$WORK/check.txt" \
    || { cat "$WORK/check.txt" >&2; echo "e2e: dump_check failed" >&2; exit 1; }
tail -1 "$WORK/check.txt"

# The folder, and each file alone (to find where each file's ticks start).
"$FLAMECONV" convert --dialect flame_prof "$OUT" -o "$WORK/all.perf" 2> "$WORK/convert.err" \
    || { cat "$WORK/convert.err" >&2; echo "e2e: convert failed" >&2; exit 1; }
grep -q "of 1 capture (${#files[@]} files)" "$WORK/convert.err" \
    || { cat "$WORK/convert.err" >&2; echo "e2e: not converted as one capture" >&2; exit 1; }
if grep -q -e "error" -e "warning" "$WORK/convert.err"; then cat "$WORK/convert.err" >&2; exit 1; fi
"$FLAMECONV" convert "$OUT" -o "$WORK/all.portable.perf" --quiet
i=0
for f in "${files[@]}"; do
    "$FLAMECONV" convert --quiet --dialect flame_prof "$f" -o "$WORK/file$i.perf"
    i=$((i + 1))
done

python3 - "$WORK" "${#files[@]}" "$ROOT/Tests/reference" <<'PY'
import re, sys
work, nfiles, ref = sys.argv[1], int(sys.argv[2]), sys.argv[3]
sys.path.insert(0, ref)
from readers import pitfalls

EVENT = re.compile(r"^(\w+)\t0\.(\d+)\.(\d+) \[000\] (\d+)\.(\d{6}): cpu-clock:((?:\tmetric_erlang_\w+: -?\d+, -?\d+)+)$")
METRIC = re.compile(r"\tmetric_erlang_(\w+): (-?\d+), (-?\d+)")

def events(path):
    text = open(path, encoding="utf-8").read()
    assert text.endswith("\n\n"), path
    out = []
    for block in text[:-2].split("\n\n"):
        lines = block.split("\n")
        m = EVENT.match(lines[0])
        assert m, lines[0]
        metrics = [(n, int(v), int(d)) for n, v, d in METRIC.findall(m.group(6))]
        out.append({"comm": m.group(1), "pid": (int(m.group(2)), int(m.group(3))),
                    "time": int(m.group(4)) * 10**6 + int(m.group(5)),
                    "metrics": metrics, "frames": lines[1:]})
    return out

def fail(msg):
    print("e2e: " + msg, file=sys.stderr)
    sys.exit(1)

evs = events(work + "/all.perf")
if len(evs) < 100:
    fail("only %d events" % len(evs))
text = open(work + "/all.perf", encoding="utf-8").read()

# the workload's own functions
for fn in ["flame_workload:cpu_burn/1", "flame_workload:gc_churn/1", "flame_workload:deep_a/1",
           "flame_workload_server:"]:
    if fn not in text:
        fail("%s not in the output" % fn)

# categories: process statuses, more than one of them
statuses = {e["comm"] for e in evs}
known = {"running", "runnable", "waiting", "garbage_collecting", "exiting", "suspended", "free"}
if not statuses <= known or len(statuses) < 2 or not statuses & {"running", "runnable"}:
    fail("statuses %s" % sorted(statuses))

# every metric on every line, in flame_prof's order
names = [m[0] for m in evs[0]["metrics"]]
if names[:4] != ["reductions", "message_queue_len", "memory", "total_heap_size"] or names[-1] != "minor_gcs":
    fail("metric order %s" % names)
for need in ["heap_block_size", "old_heap_block_size", "mbuf_size"]:
    if need not in names:
        fail("metric %s missing from %s" % (need, names))
if any([m[0] for m in e["metrics"]] != names for e in evs):
    fail("not every event carries the same metrics")

# deltas: reductions deltas positive; each process's deltas follow its previous sample
prev = {}
for e in evs:
    m = {n: (v, d) for n, v, d in e["metrics"]}
    v, d = m["reductions"]
    if d < 1:
        fail("reductions delta %d at %d for %s" % (d, e["time"], e["pid"]))
    before = prev.get(e["pid"])
    if before is None:
        if d != 1 or any(dd != 0 for n, (vv, dd) in m.items() if n != "reductions"):
            fail("first sample of %s has deltas %s" % (e["pid"], m))
    else:
        r = v - before["reductions"]
        if d != (r + 1 if r >= 0 else -r):
            fail("reductions delta %d after %d -> %d" % (d, before["reductions"], v))
        if m["memory"][1] != m["memory"][0] - before["memory"]:
            fail("memory delta of %s" % (e["pid"],))
        mg = m["minor_gcs"][0] - before["minor_gcs"]
        if m["minor_gcs"][1] != (mg if mg > 0 else m["minor_gcs"][0]):
            fail("minor_gcs delta of %s" % (e["pid"],))
    prev[e["pid"]] = {n: vv for n, (vv, dd) in m.items()}

# rotation: at the first tick of each later file, processes seen before carry on
seen_boundary = 0
for i in range(1, nfiles):
    alone = events("%s/file%d.perf" % (work, i))
    if not alone:
        continue
    start = alone[0]["time"]
    earlier = {e["pid"] for e in evs if e["time"] < start}
    at = [e for e in evs if e["time"] == start and e["pid"] in earlier]
    if not at:
        fail("no process continues into file %d" % i)
    # converted alone, the file starts every process over; in the capture it does not
    if not any(dict((n, d) for n, v, d in e["metrics"])["reductions"] > 1 for e in at):
        fail("reductions deltas restart at file %d" % i)
    seen_boundary += 1
if seen_boundary < 2:
    fail("only %d file boundaries checked" % seen_boundary)

# the portable dialect of the same capture is clean for every reader
problems = pitfalls.check(open(work + "/all.portable.perf", encoding="utf-8").read())
if problems:
    fail("portable pitfalls: %s" % problems[:5])

print("e2e: %d events, %d processes, statuses %s, %d metrics, %d file boundaries: OK"
      % (len(evs), len(prev), ",".join(sorted(statuses)), len(names), seen_boundary))
PY
