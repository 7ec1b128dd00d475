"""`flameconv stats` on every real capture, judged by two independent readers.

* Tests/erlang/dump_check.escript (binary_to_term, written from the spec)
  gives each file's seq, ticks, samples and trailer, and the header's node
  and OTP release.
* Tests/reference/flame_prof_ref.escript gives the flame_prof text of the
  capture, from which processes, statuses, metric names and both top-stack
  rankings are counted here.

stats --json must agree with both, and the text report must show the same
figures.

    python3 -m pytest -q -c Tests/reference/pytest.ini Tests/reference/test_stats.py
"""
import json
import os
import re
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

# flameconv is that module's fixture: imported, pytest finds it here by name.
from test_flameconv_output import flameconv, capture_names, blocks, CAPTURES, REPO  # noqa: E402,F401

DUMP_CHECK = os.path.join(REPO, "Tests", "erlang", "dump_check.escript")
ORACLE = os.path.join(HERE, "flame_prof_ref.escript")
FILE_LINE = re.compile(r"^(?P<path>\S+): \d+ bytes \S+ capture=(?P<capture>\S+) seq=(?P<seq>\d+) "
                       r"node='?(?P<node>[^' ]+)'? otp=(?P<otp>\S+) .* ticks=(?P<ticks>\d+) samples=(?P<samples>\d+) "
                       r".* trailer_overruns=(?P<overruns>\S+)$")


def files_of(name):
    d = os.path.join(CAPTURES, name)
    return sorted(os.path.join(d, f) for f in os.listdir(d) if not f.startswith(".") and f != "README.md")


def display(frame_text):
    """A flame_prof frame text as stats shows it: ' (File)' dropped, ';LINE' as ':LINE'."""
    name = frame_text.rpartition(" (")[0]
    return re.sub(r";(\d+)$", r":\1", name)


def oracle_view(escript, name):
    """(pids, statuses, metric names, stacks) from the oracle's flame_prof text."""
    text = subprocess.run([escript, ORACLE, os.path.join(CAPTURES, name)],
                          capture_output=True, text=True, check=True).stdout
    pids, statuses, metrics, stacks = set(), {}, [], {}
    for event, frames in blocks(text):
        comm, rest = event.split("\t", 1)
        pids.add(rest.split(" ", 1)[0])
        statuses[comm] = statuses.get(comm, 0) + 1
        pairs = re.findall(r"\tmetric_erlang_([^:]+): (-?\d+), (-?\d+)", event)
        for metric, _, _ in pairs:
            if metric not in metrics:
                metrics.append(metric)
        reductions = int(dict((m, d) for m, _, d in pairs)["reductions"])
        key = tuple(display(f) for f in reversed(frames))
        samples, total = stacks.get(key, (0, 0))
        stacks[key] = (samples + 1, total + reductions)
    return pids, statuses, metrics, stacks


def ranked(stacks, by_samples, top=10):
    """stats' order: the figure, then the other figure, then the frames' text."""
    def key(item):
        frames, (samples, reductions) = item
        first, second = (samples, reductions) if by_samples else (reductions, samples)
        return (-first, -second, "".join(frames))
    return [{"frames": list(f), "samples": s, "reductions_delta": r}
            for f, (s, r) in sorted(stacks.items(), key=key)[:top]]


@pytest.mark.parametrize("name", capture_names())
def test_stats_agrees_with_independent_readers(flameconv, escript, name):
    files = files_of(name)
    # Short relative names: dump_check prints the file with ~p, which wraps long ones.
    check = subprocess.run([escript, DUMP_CHECK] + [os.path.basename(f) for f in files],
                           cwd=os.path.join(CAPTURES, name), capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    per_file = [FILE_LINE.match(l).groupdict() for l in check.stdout.splitlines() if FILE_LINE.match(l)]
    assert len(per_file) == len(files)

    out = subprocess.run([flameconv, "stats", "--json", os.path.join(CAPTURES, name)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    (report,) = json.loads(out.stdout)["captures"]

    assert report["capture"] == per_file[0]["capture"]
    assert report["node"] == per_file[0]["node"]
    assert report["otp_release"] == per_file[0]["otp"]
    assert report["ticks"] == sum(int(f["ticks"]) for f in per_file)
    assert report["samples"] == sum(int(f["samples"]) for f in per_file)
    assert report["overruns"] == sum(int(f["overruns"]) for f in per_file)
    assert [(os.path.basename(f["path"]), f["seq"], f["ticks"], f["truncated"]) for f in report["files"]] == \
        sorted(((os.path.basename(f["path"]), int(f["seq"]), int(f["ticks"]), False) for f in per_file),
               key=lambda f: f[1])
    assert report["first_tick_us"] < report["last_tick_us"]

    pids, statuses, metrics, stacks = oracle_view(escript, name)
    assert report["processes"] == len(pids)
    assert report["statuses"] == statuses
    assert sum(statuses.values()) == report["samples"]
    assert report["metrics"] == ["reductions", "message_queue_len", "memory", "total_heap_size", "minor_gcs"] + \
        [m for m in metrics if m not in ("reductions", "message_queue_len", "memory", "total_heap_size", "minor_gcs")]
    assert report["top_by_samples"] == ranked(stacks, by_samples=True)
    assert report["top_by_reductions"] == ranked(stacks, by_samples=False)

    text = subprocess.run([flameconv, "stats", os.path.join(CAPTURES, name)],
                          capture_output=True, text=True, check=True).stdout
    for label, value in (("capture", report["capture"]), ("ticks", report["ticks"]),
                         ("samples", report["samples"]), ("processes", report["processes"])):
        assert re.search(r"^%s +%s$" % (label, re.escape(str(value))), text, re.M), (label, text)
    assert "all closed cleanly" in text
    top = report["top_by_samples"][0]
    assert re.search(r"^ +%d +[0-9.]+%%  %s$" % (top["samples"], re.escape(";".join(top["frames"]))), text, re.M), text
