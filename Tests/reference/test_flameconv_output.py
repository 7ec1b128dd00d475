"""The built flameconv on every real capture, judged by the reader mirrors.

For each capture in Fixtures/captures, both dialects are converted; then:
  * fork_totals.py says the portable text totals and events are the same as
    the flame_prof text's (what the FlameScope fork would show);
  * pitfalls.check finds nothing in the portable text;
  * each of the five reader mirrors reads every portable event with the
    right comm, pid/tid, time and frames (compared with what flameconv
    wrote and with the flame_prof text of the same samples).

flameconv is $FLAMECONV, else .build/debug/flameconv, else
.build/release/flameconv, else built here with `swift build`.

    python3 -m pytest -q -c Tests/reference/pytest.ini Tests/reference/test_flameconv_output.py
"""
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from readers import flamescope_fork as fork  # noqa: E402
from readers import flamescope_netflix as netflix  # noqa: E402
from readers import stackcollapse_perf as sc  # noqa: E402
from readers import speedscope_perf as ss  # noqa: E402
from readers import firefox_perf as ff  # noqa: E402
from readers import pitfalls  # noqa: E402
import fork_totals  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
CAPTURES = os.path.join(REPO, "Fixtures", "captures")


def find_flameconv():
    env = os.environ.get("FLAMECONV")
    if env:
        return env
    for conf in ("debug", "release"):
        p = os.path.join(REPO, ".build", conf, "flameconv")
        if os.access(p, os.X_OK):
            return p
    if shutil.which("swift") is None:
        return None
    subprocess.run(["swift", "build", "--product", "flameconv"], cwd=REPO, check=True,
                   stdout=subprocess.DEVNULL)
    p = os.path.join(REPO, ".build", "debug", "flameconv")
    return p if os.access(p, os.X_OK) else None


def capture_names():
    if not os.path.isdir(CAPTURES):
        return []
    return sorted(d for d in os.listdir(CAPTURES) if os.path.isdir(os.path.join(CAPTURES, d)))


@pytest.fixture(scope="module")
def flameconv():
    p = find_flameconv()
    if p is None:
        pytest.skip("no flameconv binary and no swift to build one")
    return p


@pytest.fixture(scope="module")
def converted(flameconv, tmp_path_factory):
    """(portable path, portable text, flame_prof path, flame_prof text) per capture."""
    cache = {}
    out = tmp_path_factory.mktemp("flameconv")

    def get(name):
        if name not in cache:
            res = []
            for dialect in ("portable", "flame_prof"):
                path = str(out / ("%s.%s.perf" % (name, dialect)))
                p = subprocess.run([flameconv, "convert", "--quiet", "--dialect", dialect,
                                    os.path.join(CAPTURES, name), "-o", path],
                                   capture_output=True, text=True)
                assert p.returncode == 0, p.stderr
                assert p.stderr == "", p.stderr
                with open(path, encoding="utf-8") as f:
                    res += [path, f.read()]
            cache[name] = tuple(res)
        return cache[name]
    return get


# What flameconv wrote, read plainly (every rule of the text is known here).

def blocks(text):
    """Event blocks: (event line, [frame lines' TEXT]) in file order."""
    assert text.endswith("\n\n")
    out = []
    for block in text[:-2].split("\n\n"):
        lines = block.split("\n")
        frames = []
        for l in lines[1:]:
            assert l.startswith("\tffffffff "), repr(l)
            frames.append(l[len("\tffffffff "):])
        out.append((lines[0], frames))
    return out


def name_of(frame_text):
    """NAME of 'NAME (FILE)'."""
    name, sep, _ = frame_text.rpartition(" (")
    assert sep, frame_text
    return name


def portable_event(line):
    """comm, pid, tid, time text of 'comm PID/TID [000] S.U: 1 cpu-clock:...'."""
    head, _, _ = line.partition(": 1 cpu-clock:")
    comm, ids, cpu, time = head.split(" ")
    pid, tid = ids.split("/")
    assert cpu == "[000]"
    return comm, int(pid), int(tid), time


def flame_prof_event(line):
    """comm, (number, serial), time text of 'comm<TAB>0.N.S [000] S.U: cpu-clock:...'."""
    comm, rest = line.split("\t", 1)
    pid, cpu, time = rest.partition(": cpu-clock:")[0].split(" ")
    zero, number, serial = pid.split(".")
    assert zero == "0" and cpu == "[000]"
    return comm, (int(number), int(serial)), time


def thread_id(number, serial):
    """The portable PID of <0.number.serial>."""
    return (serial << 15) + number or 1 << 28


class ThreadIDs:
    """The portable TID rule of docs/perf-output.md: PID + k * 10^9, k the
    number of distinct comms (first-level labels) met before this one."""
    def __init__(self):
        self.order = {}

    def __call__(self, comm, pid):
        k = self.order.setdefault(comm, len(self.order))
        return pid + k * 10 ** 9


def portable_frame(fp_text):
    """The portable name of a flame_prof frame text, for the names in these captures."""
    name = name_of(fp_text)
    if fp_text == "native ()":
        return "native"
    if name.startswith("(") and name.endswith(")"):
        return "[" + name[1:-1] + "]"
    return name.replace(";", ":")


@pytest.fixture(scope="module")
def expected(converted):
    """Per capture: the events as flameconv meant them, checked against the flame_prof text."""
    cache = {}

    def get(name):
        if name not in cache:
            _, portable, _, fp = converted(name)
            pb, fb = blocks(portable), blocks(fp)
            assert len(pb) == len(fb) > 1
            evs = []
            tids = ThreadIDs()
            for (pl, pframes), (fl, fframes) in zip(pb, fb):
                comm, pid, tid, time = portable_event(pl)
                fcomm, (number, serial), ftime = flame_prof_event(fl)
                assert (comm, pid, time) == (fcomm, thread_id(number, serial), ftime)
                assert tid == tids(comm, pid)
                names = [name_of(f) for f in pframes]
                assert names == [portable_frame(f) for f in fframes]
                # the same metrics, in the same order, values and deltas
                assert pl.partition(": 1 cpu-clock:")[2] == fl.partition(": cpu-clock:")[2]
                evs.append({"comm": comm, "pid": pid, "tid": tid, "time": time, "names": names,
                            "files": [f.rpartition(" (")[2][:-1] for f in pframes],
                            "process": (number, serial)})
            cache[name] = evs
        return cache[name]
    return get


NAMES = capture_names()
pytestmark = pytest.mark.skipif(not NAMES, reason="no Fixtures/captures")


@pytest.mark.parametrize("name", NAMES)
def test_fork_totals_same_for_both_dialects(name, converted, capsys):
    portable_path, _, fp_path, _ = converted(name)
    assert fork_totals.main([fp_path, portable_path]) == 0
    out = capsys.readouterr().out
    assert out.startswith("same: "), out
    assert fork_totals.main(["--stacks", fp_path, fp_path]) == 0


@pytest.mark.parametrize("name", NAMES)
def test_pitfalls_none_in_portable(name, converted):
    _, portable, _, fp = converted(name)
    assert pitfalls.check(portable) == []
    # the flame_prof text, by contrast, has the shapes the spec warns about
    assert {"comm-pid-format", "frame-semicolon"} <= pitfalls.kinds(fp)


@pytest.mark.parametrize("name", NAMES)
def test_flamescope_fork_and_netflix(name, converted, expected):
    _, portable, _, _ = converted(name)
    want = expected(name)
    for mod in (fork, netflix):
        assert mod.is_perf_file(portable)
        evs = mod.parse(portable)
        assert len(evs) == len(want)
        for e, w in zip(evs, want):
            assert e["category"] == w["comm"]
            assert round(e["time"] * 1e6) == int(w["time"].replace(".", ""))
            assert e["stack"] == [w["comm"]] + w["names"][::-1]
        mod.heatmap(portable)
        assert mod.flame_graph(portable)
    evs = fork.parse(portable)
    names = {frozenset(e["metrics"]) for e in evs}
    assert len(names) == 1
    assert {"erlang_reductions", "erlang_memory", "erlang_minor_gcs"} <= set(next(iter(names)))
    for which in ("samples", "erlang_reductions", "erlang_reductions_delta", "erlang_memory_delta"):
        assert fork.flame_graph(portable, which)


@pytest.mark.parametrize("name", NAMES)
def test_stackcollapse(name, converted, expected):
    _, portable, _, _ = converted(name)
    want = expected(name)
    warnings = []
    evs = sc.parse(portable, warnings=warnings)
    assert warnings == []
    assert len(evs) == len(want)
    for e, w in zip(evs, want):
        assert e["comm"] == w["comm"]
        assert (e["pid"], e["tid"]) == (str(w["pid"]), str(w["tid"]))
        assert e["period"] == 1
        assert e["stack"] == [w["comm"]] + w["names"][::-1]
    collapsed = sc.collapse(portable)
    assert sum(collapsed.values()) == len(want)
    assert any("flame_workload:" in k for k in collapsed)
    if name != "top100":
        assert any("flame_workload:cpu_burn/1" in k for k in collapsed)


@pytest.mark.parametrize("name", NAMES)
def test_speedscope(name, converted, expected):
    _, portable, _, _ = converted(name)
    want = expected(name)
    evs = ss.parse(portable)
    assert len(evs) == len(want)
    for e, w in zip(evs, want):
        assert (e["comm"], e["pid"], e["tid"]) == (w["comm"], w["pid"], w["tid"])
        assert round(e["time"] * 1e6) == int(w["time"].replace(".", ""))
        assert e["stack"] == w["names"][::-1]
    # one pid per Erlang process, one tid per process and comm, none shared
    by_pid, by_tid = {}, {}
    for w in want:
        by_pid.setdefault(w["pid"], set()).add(w["process"])
        by_tid.setdefault(w["tid"], set()).add((w["process"], w["comm"]))
    assert all(len(p) == 1 for p in by_pid.values())
    assert all(len(p) == 1 for p in by_tid.values())
    assert {e["tid"] for e in evs} == set(by_tid)
    # one speedscope profile per comm and process
    assert len(ss.profiles(portable)) == len({(w["process"], w["comm"]) for w in want})


@pytest.mark.parametrize("name", NAMES)
def test_firefox(name, converted, expected):
    _, portable, _, _ = converted(name)
    want = expected(name)
    assert ff.detect(portable) == "perf"
    evs = ff.parse(portable)
    assert len(evs) == len(want)
    for e, w in zip(evs, want):
        assert (e["comm"], e["pid"], e["tid"]) == (w["comm"], w["pid"], w["tid"])
        assert round(e["time"] * 1e3) == int(w["time"].replace(".", ""))
        got = e["stack"]
        assert [s.split(" (in ")[0] for s in got] == w["names"][::-1]
        assert [s.split(" (in ")[1][:-1] for s in got] == w["files"][::-1]
    # one thread per process and comm, each named after the comm of all its samples,
    # in one process track per Erlang process
    threads = ff.threads(portable)
    assert len(threads) == len({(w["process"], w["comm"]) for w in want})
    assert ff.misplaced(portable) == []
    assert len({t["pid"] for t in threads.values()}) == len({w["process"] for w in want})


@pytest.mark.parametrize("level", ["bucket(memory,log4)", "registered_name", "initial_call", "proc_lib_initial_call", "pid",
                                   "bucket(message_queue_len,0,1,10,100,1000)",
                                   "bucket(memory_delta,decimal)", "bucket(bin_vheap_size,log2)"])
def test_portable_categories_stay_apart_in_every_reader(flameconv, level, tmp_path):
    """Other first grouping levels hold digits and punctuation (sizes, worker_1, M:F/A, <0.85.0>):
    each group must still be one category of its own in each reader, and clean of pitfalls."""
    capture = os.path.join(CAPTURES, "top100")
    texts = {}
    for dialect in ("portable", "flame_prof"):
        p = subprocess.run([flameconv, "convert", "--quiet", "--dialect", dialect, "--category", level, capture],
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        texts[dialect] = p.stdout
    # The groups as flameconv formed them: the flame_prof comm is the group's name as it stands.
    groups = [line.split("\t", 1)[0] for line, _ in blocks(texts["flame_prof"])]
    assert len(set(groups)) > 1
    portable = texts["portable"]
    assert pitfalls.check(portable) == []
    # each sample in a Firefox thread named after its own group
    assert ff.misplaced(portable) == []
    for categories in ([e["category"] for e in fork.parse(portable)],
                       [e["category"] for e in netflix.parse(portable)],
                       [e["comm"] for e in ss.parse_events(portable)],
                       [e["comm"] for e in ff.parse(portable)]):
        assert len(categories) == len(groups)
        # one category per group, and one group per category
        assert len(set(zip(groups, categories))) == len(set(groups)) == len(set(categories))
    roots = [e["collapsed"].split(";", 1)[0] for e in sc.parse(portable)]
    assert len(roots) == len(groups)
    assert len(set(zip(groups, roots))) == len(set(groups)) == len(set(roots))
