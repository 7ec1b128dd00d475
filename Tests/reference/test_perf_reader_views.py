"""What the Firefox Profiler and speedscope show of flameconv's portable perf
text, on the real captures, through the reader mirrors in readers/.

* Firefox keeps one thread per TID and names it after the comm of its latest
  sample. Every sample must land in a thread named after its own first-level
  category (its status by default). With TID = PID, a process that moved
  between running and waiting became one thread named after its last status.
* speedscope weighs each perf sample by time (the span between the midpoints
  to its neighbours in the same profile), not as one sample. Its sample
  counts are right, but a (status, process) profile whose samples are far
  apart in time weighs far more than its count. This test measures that skew
  and prints it (pytest -rP shows the figures); README.md and
  docs/perf-output.md quote them.

flameconv is $FLAMECONV, else .build/debug/flameconv, as in
test_flameconv_output.py. Running these tests with FLAMECONV set to a build
of the commit before the per-status TIDs shows the Firefox tests fail.

    python3 -m pytest -q -rP -c Tests/reference/pytest.ini Tests/reference/test_perf_reader_views.py
"""
import os
import statistics
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from readers import firefox_perf as ff  # noqa: E402
from readers import speedscope_perf as ss  # noqa: E402
from test_flameconv_output import CAPTURES, blocks, capture_names, flameconv  # noqa: E402,F401 (flameconv: the fixture)

NAMES = capture_names()
pytestmark = pytest.mark.skipif(not NAMES, reason="no Fixtures/captures")

CATEGORY_CHOICES = {
    "status": [],
    "memory": ["--category", "bucket(memory,log4)"],
    "status>registered_name": ["--category", "status", "--category", "registered_name"],
    "queue>status": ["--category", "bucket(message_queue_len,0,1,10,100,1000)", "--category", "status"],
}


@pytest.fixture(scope="module")
def texts(flameconv):
    """(portable text, [(group as flameconv formed it, process)] per sample in
    file order, read from the flame_prof text of the same samples)."""
    cache = {}

    def get(name, choice):
        key = (name, choice)
        if key not in cache:
            out = {}
            for dialect in ("portable", "flame_prof"):
                p = subprocess.run([flameconv, "convert", "--quiet", "--dialect", dialect]
                                   + CATEGORY_CHOICES[choice] + [os.path.join(CAPTURES, name)],
                                   capture_output=True, text=True)
                assert p.returncode == 0, p.stderr
                out[dialect] = p.stdout
            samples = []
            for line, _ in blocks(out["flame_prof"]):
                group, rest = line.split("\t", 1)
                samples.append((group, rest.split(" ", 1)[0]))
            cache[key] = (out["portable"], samples)
        return cache[key]
    return get


# --------------------------------------------------------------------------
# Firefox Profiler
# --------------------------------------------------------------------------

@pytest.mark.parametrize("choice", list(CATEGORY_CHOICES))
@pytest.mark.parametrize("name", NAMES)
def test_firefox_shows_every_sample_under_its_own_group(name, choice, texts):
    portable, samples = texts(name, choice)
    events = ff.parse(portable)
    assert len(events) == len(samples) > 1
    threads = ff.threads(portable)
    wrong = ff.misplaced(portable)
    print("%s, %s: %d threads, %d of %d samples under another group's name (%.2f%%)"
          % (name, choice, len(threads), len(wrong), len(events), 100.0 * len(wrong) / len(events)))
    assert wrong == [], "%d of %d samples in a thread named after another group, e.g. %r" % (
        len(wrong), len(events), wrong[:3])
    # one thread per (group, process): the portable comm is the group, spelled
    pairs = set(zip((e["comm"] for e in events), (p for _, p in samples)))
    assert len({g for g, _ in samples}) == len({c for c, _ in pairs})
    assert len(threads) == len(pairs) == len(set(samples))
    # and one process track (pid) per Erlang process
    assert len({t["pid"] for t in threads.values()}) == len({p for _, p in samples})


# --------------------------------------------------------------------------
# speedscope
# --------------------------------------------------------------------------

def _skew(portable):
    """Per speedscope profile: (samples, total weight in s, total / (samples x
    the capture's sampling interval)), and the interval."""
    events = ss.parse(portable)
    ticks = sorted({e["time"] for e in events})
    interval = statistics.median(b - a for a, b in zip(ticks, ticks[1:]))
    out = {}
    for profile, weighted in ss.profiles(portable).items():
        total = sum(w for _, w in weighted)
        out[profile] = (len(weighted), total, total / (len(weighted) * interval))
    return out, interval


@pytest.mark.parametrize("name", NAMES)
def test_speedscope_counts_right_durations_weighed_by_time(name, texts):
    portable, samples = texts(name, "status")
    events = ss.parse(portable)
    # Counts are right: every sample is read, once, in the profile of its
    # status and process.
    assert len(events) == len(samples)
    assert [e["comm"] for e in events] == [g for g, _ in samples]
    profiles = {}
    for e, (_, process) in zip(events, samples):
        profiles.setdefault(e["profile"], set()).add((e["comm"], process))
    assert all(len(v) == 1 for v in profiles.values())
    assert len(profiles) == len(set(samples))
    # Durations: a profile's weights add up to its time span (first to last
    # sample), whatever happened to the process in between.
    times = {}
    for e in events:
        times.setdefault(e["profile"], []).append(e["time"])
    skew, interval = _skew(portable)
    for profile, (n, total, _) in skew.items():
        span = times[profile][-1] - times[profile][0]
        assert n == len(times[profile])
        assert total == pytest.approx(span if n > 1 else 1.0, abs=1e-6)
    # The skew that follows: total time against samples x sampling interval.
    statuses, process_of = {}, {}
    for e, (_, process) in zip(events, samples):
        statuses.setdefault(process, set()).add(e["comm"])
        process_of[e["profile"]] = process
    changing = [p for p in skew if len(statuses[process_of[p]]) > 1]
    steady = [p for p in skew if p not in changing and skew[p][0] > 1]
    worst = max(skew, key=lambda p: skew[p][2])
    print("%s: interval %.0f ms, %d profiles; largest total/(samples x interval): %.1fx (%s, %d samples);"
          " processes in one status: %.2fx..%.2fx"
          % (name, interval * 1e3, len(skew), skew[worst][2], worst, skew[worst][0],
             min((skew[p][2] for p in steady), default=float("nan")),
             max((skew[p][2] for p in steady), default=float("nan"))))
    # A process that stays in one status is weighed about as its count says
    # (its span is (n - 1) intervals, more only where ticks were late); one
    # that moves between statuses is weighed well past it.
    assert all(skew[p][2] <= 1.25 for p in steady), {p: skew[p] for p in steady}
    assert changing and skew[worst][2] > 2, skew[worst]
    assert worst in changing


def test_speedscope_skew_across_the_captures(texts):
    """The largest skew over every bundled capture: the figure the README
    quotes is this run's printout; the test holds it to 'an order of
    magnitude' so that the README's wording stays true."""
    worst = max((r, name, p) for name in NAMES
                for p, (_, _, r) in _skew(texts(name, "status")[0])[0].items())
    print("largest speedscope skew over the captures: %.1fx (%s, %s)" % worst)
    assert worst[0] > 10
