"""Tests of the reference tools themselves: the reader mirrors (on small
hand-written perf texts exercising each reader's quirks), pitfalls.py,
fork_totals.py, and flame_prof_ref.escript (on hand-made dumps with a
hand-written expected output, and on the real captures).

    python3 -m pytest Tests/reference/test_readers.py -q
"""
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile

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
ESCRIPT = os.path.join(HERE, "flame_prof_ref.escript")
TESTDATA = os.path.join(HERE, "testdata")
DUMPS = os.path.join(TESTDATA, "dumps")
CAPTURES = os.path.join(REPO, "Fixtures", "captures")
GOLDEN = os.path.join(REPO, "Fixtures", "golden")
HAVE_ESCRIPT = shutil.which("escript") is not None

T = "\t"


def ev(comm_pid, time, metrics="", end=": cpu-clock:"):
    return "%s [000] %s%s%s\n" % (comm_pid, time, end, metrics)


def frames(*names):
    return "".join("\tffffffff %s\n" % n for n in names) + "\n"


# A text every reader reads as intended: pitfalls.check must say nothing.
GOOD = (ev("running 0/85", "1700000000.100000", end=": 1 cpu-clock:",
           metrics="\tmetric_erlang_reductions: 100, 1\tmetric_erlang_memory: 5, 0")
        + frames("lists:reverse/1:147 (lists.erl)", "proc_lib:init_p/5 (proc_lib.erl)")
        + ev("waiting 0/86", "1700000000.200000", end=": 1 cpu-clock:",
             metrics="\tmetric_erlang_reductions: 7, 1\tmetric_erlang_memory: 9, -2")
        + frames("gen_server:loop/7:437 (gen_server.erl)"))

# flame_prof's own shape
FP = ("running\t0.85.0 [000] 1700000000.100000: cpu-clock:\tmetric_erlang_reductions: 100, 1"
      "\tmetric_erlang_memory: 5, 0\n"
      + frames("lists:reverse/1;147 (lists.erl)", "proc_lib:init_p/5 (proc_lib.erl)",
               "(my:init/1) (my.erl)")
      + "waiting\t0.86.0 [000] 1700000000.200000: cpu-clock:\tmetric_erlang_reductions: 7, 12"
      "\tmetric_erlang_memory: 9, -2\n"
      + frames("native ()"))


# --------------------------------------------------------------------------
# FlameScope (Netflix and fork)
# --------------------------------------------------------------------------

@pytest.mark.parametrize("mod", [fork, netflix])
def test_flamescope_comm_is_text_before_first_digit(mod):
    text = ev("erl2vm 12/3", "10.5") + frames("a (m)") + ev("running\t<0.85.0>", "11.5") \
        + frames("b (m)")
    e = mod.parse(text)
    assert [x["category"] for x in e] == ["erl", "running\t<"]
    assert e[1]["stack"] == ["running\t<", "b"]


@pytest.mark.parametrize("mod", [fork, netflix])
def test_flamescope_frames(mod):
    text = ev("x 1/1", "10.5") + (
        "\tffff inner+0x10 (lib)\n"      # cut at '+'
        "\tffff +plus (lib)\n"          # '+' first: kept
        "\tffff a->b->c (lib)\n"        # split at '->'
        "\tnothex name (lib)\n"         # no hex address: ignored
        "\tffff noparen\n"              # no ' (...)': ignored
        "\tffff (init:x/1) (init.erl)\n"  # kept, name in parentheses
        "\tffff m:f/1;12 (my file.erl)\n"  # spaces in module are fine here
        "\n")
    e = mod.parse(text)[0]
    assert e["stack"] == ["x", "m:f/1;12", "(init:x/1)", "a", "b", "c", "+plus", "inner"]
    assert e["frames"][0] == ("m:f/1;12", "my file.erl")


@pytest.mark.parametrize("mod", [fork, netflix])
def test_flamescope_event_needs_space_before_time(mod):
    assert mod.parse("x\t10.5: cpu-clock:\n\tffff a (m)\n\n") == []
    assert len(mod.parse("x 10.5: cpu-clock:\n\tffff a (m)\n\n")) == 1


@pytest.mark.parametrize("mod", [fork, netflix])
def test_flamescope_blank_first_line_is_not_perf(mod):
    assert mod.is_perf_file(GOOD)
    assert not mod.is_perf_file("\n" + GOOD)
    assert mod.is_perf_file("# comment\n" + GOOD)


@pytest.mark.parametrize("mod", [fork, netflix])
def test_flamescope_flame_graph_needs_two_times(mod):
    one = ev("x 1/1", "10.5") + frames("a (m)")
    with pytest.raises(mod.ReaderFailure):
        mod.flame_graph(one)
    same = one + ev("x 1/2", "10.5") + frames("a (m)")
    assert mod.flame_graph(same)        # the 2nd event passes the 'elif'
    down = one + ev("x 1/2", "10.4") + frames("a (m)") + ev("x 1/2", "9.5") + frames("a (m)")
    with pytest.raises(mod.ReaderFailure):
        mod.flame_graph(down)
    two = one + ev("x 1/2", "10.6") + frames("a (m)")
    assert mod.flame_graph(two)


@pytest.mark.parametrize("mod", [fork, netflix])
def test_flamescope_heatmap_whole_second_and_order(mod):
    ok = ev("x 1/1", "10.5") + frames("a (m)") + ev("x 1/1", "11.5") + frames("a (m)")
    mod.heatmap(ok)
    whole = ev("x 1/1", "10.5") + frames("a (m)") + ev("x 1/1", "12.000000") + frames("a (m)")
    with pytest.raises(mod.ReaderFailure):
        mod.heatmap(whole)
    disorder = ev("x 1/1", "12.5") + frames("a (m)") + ev("x 1/1", "10.5") + frames("a (m)")
    with pytest.raises(mod.ReaderFailure):
        mod.heatmap(disorder)


def test_netflix_ignores_metrics():
    e = netflix.parse(FP)
    assert e[0]["metrics"] == {}
    assert sum(netflix.flame_graph(FP).values()) == 2


def test_fork_metric_pattern_strictness():
    line = ev("x 1/1", "10.5", metrics="\tmetric_a: 5, 1\tmetric_b:  6, 1\tmetric_c: +7, 1"
              "\tmetric_d: 8 ,\t-2\tmetric_e f: 9, 3")
    e = fork.parse(line + frames("a (m)"))[0]
    assert e["metrics"] == {"a": (5, 1), "d": (8, -2), "e f": (9, 3)}
    with pytest.raises(fork.ReaderFailure):
        fork.parse(ev("x 1/1", "10.5", metrics="\tmetric_a: 1.5, 1") + frames("a (m)"))


def test_fork_missing_metric_reuses_previous_value_in_flame_graph():
    text = (ev("x 1/1", "10.1", metrics="\tmetric_r: 5, 1") + frames("a (m)")
            + ev("x 1/1", "10.2") + frames("b (m)")
            + ev("x 1/1", "10.3", metrics="\tmetric_r: 7, -3") + frames("c (m)"))
    fg = fork.flame_graph(text, "r")
    pos = {p[-1][0]: v for p, v in fg["positive"].items()}
    assert pos == {"a": 5, "b": 5, "c": 7}
    fgd = fork.flame_graph(text, "r_delta")
    assert {p[-1][0]: v for p, v in fgd["positive"].items()} == {"a": 1, "b": 1}
    assert {p[-1][0]: v for p, v in fgd["negative"].items()} == {"c": 3}
    # the heatmap just leaves the line out of that metric
    hm = fork.heatmap(text)
    assert sum(hm["r"].values()) == 12 and sum(hm["samples"].values()) == 3


def test_fork_reads_flame_prof_shape():
    e = fork.parse(FP)
    assert [x["category"] for x in e] == ["running", "waiting"]
    assert e[0]["metrics"] == {"erlang_reductions": (100, 1), "erlang_memory": (5, 0)}
    assert e[0]["stack"] == ["running", "(my:init/1)", "proc_lib:init_p/5",
                             "lists:reverse/1;147"]
    assert e[1]["stack"] == ["waiting", "native"]
    assert fork.scalings(e)[:3] == ["samples", "erlang_memory", "erlang_memory_delta"]


# --------------------------------------------------------------------------
# stackcollapse-perf.pl
# --------------------------------------------------------------------------

def test_stackcollapse_frame_tidying():
    text = ev("java 1/2", "10.5") + (
        "\tffff inner+0x1f (lib)\n"
        "\tffff m:f/1;12 (m.erl)\n"
        "\tffff a->b (lib)\n"
        "\tffff fn(int) const (lib)\n"
        "\tffff 'quoted' (lib)\n"
        "\tffff Ljava/Foo;::bar (lib)\n"
        "\tffff (init:x/1) (init.erl)\n"
        "\tffff [unknown] (/usr/lib/libz.so)\n"
        "\n")
    e = sc.parse(text)[0]
    assert e["stack"] == ["java", "[libz.so]", "java/Foo:::bar", "quoted", "fn", "a", "b",
                          "m:f/1:12", "inner"]
    assert e["collapsed"] == ";".join(e["stack"])


def test_stackcollapse_needs_blank_line_at_end():
    text = ev("xx 1/2", "10.5") + "\tffff a (m)\n\n" + ev("xx 1/2", "10.6") + "\tffff b (m)\n"
    assert [e["stack"] for e in sc.parse(text)] == [["xx", "a"]]
    assert sc.collapse_text(text + "\n") == "xx;a 1\nxx;b 1\n"


def test_stackcollapse_pid_tid_period_event_filter():
    text = (ev("xx 12/0", "10.5") + frames("a (m)")          # tid "0": Perl-false
            + ev("xx 13", "10.6", end=": 7 cpu-clock:") + frames("b (m)")
            + ev("xx 14/15", "10.7", end=": 1 cycles:") + frames("c (m)"))
    e = sc.parse(text, include_tid=True)
    assert [(x["pid"], x["tid"], x["period"]) for x in e] == [("?", "12", 1), ("?", "13", 7)]
    assert e[0]["comm"] == "xx-?/12"
    assert sc.collapse(text) == {"xx;a": 1, "xx;b": 7}


def test_stackcollapse_on_flame_prof_shape():
    e = sc.parse(FP)
    # no "comm PID" up front: the shortest comm reaching "<space>digits<ws>"
    # is the text up to the reductions delta; spaces become '_'
    assert e[0]["comm"].startswith("running\t0.85.0_[000]_1700000000.100000:_cpu-clock:")
    assert e[0]["comm"].endswith("reductions:_100,")
    assert (e[0]["pid"], e[0]["tid"]) == ("?", "1")
    assert e[0]["stack"][1:] == ["proc_lib:init_p/5", "lists:reverse/1:147"]  # '(' frame gone
    assert e[1]["stack"][1:] == ["native"]


def test_one_character_comm_is_not_an_event_line():
    # '\\S.+?' needs two characters: a one-letter comm never fits
    text = ev("x 1/2", "10.5") + frames("a (m)")
    w = []
    assert sc.parse(text, warnings=w) == [] and "Unrecognized line" in w[0]
    assert ss.parse(text) == []
    assert ff.parse(text)[0]["comm"] == "x"
    assert fork.parse(text)[0]["category"] == "x"


def test_stackcollapse_warns_unrecognised():
    w = []
    sc.parse(ev("xx 1/2", "10.5") + "\t???\n\n", warnings=w)
    assert w and "Unrecognized line" in w[0]


# --------------------------------------------------------------------------
# speedscope
# --------------------------------------------------------------------------

def test_speedscope_ids_time_and_profiles():
    text = (ev("xx 12/34", "10.5") + frames("a (m)") + ev("xx 0/35", "10.6") + frames("b (m)")
            + ev("V8 Worker 7", "10.7") + frames("c (m)"))
    e = ss.parse(text)
    assert [(x["comm"], x["pid"], x["tid"], x["profile"]) for x in e] == [
        ("xx", 12, 34, "xx pid: 12 tid: 34"), ("xx", 0, 35, "xx tid: 35"),
        ("V8 Worker", None, 7, "V8 Worker tid: 7")]


def test_speedscope_needs_decimal_time_and_same_event_type():
    text = ev("xx 1/2", "10") + frames("a (m)") + ev("xx 1/2", "10.5") + frames("b (m)") \
        + ev("xx 1/2", "10.6", metrics="\tmetric_a: 1, 2") + frames("c (m)")
    e = ss.parse(text)
    assert [x["stack"] for x in e] == [["b"]]   # no time: dropped; '' event type: dropped


def test_speedscope_frames():
    text = ev("xx 1/2", "10.5") + (
        "\tffff inner+0x1f (lib)\n"
        "\tffff m:f/1 (my file.erl)\n"     # space in file: no ' (\\S*)' fits -> gone
        "\tffff (init:x/1) (init.erl)\n"   # kept
        "\tffff [unknown] (lib)\n"
        "\n")
    e = ss.parse(text)[0]
    assert e["stack"] == ["??? (lib)", "(init:x/1)", "inner"]


def test_speedscope_whitespace_line_does_not_split_and_order_fails():
    text = ev("xx 1/2", "10.5") + "\tffff a (m)\n\t\n" + ev("xx 1/2", "10.6") + "\tffff b (m)\n\n"
    assert len(ss.parse(text)) == 1
    bad = ev("xx 1/2", "10.6") + frames("a (m)") + ev("xx 1/2", "10.5") + frames("b (m)")
    with pytest.raises(ss.ReaderFailure):
        ss.parse(bad)
    # separate profiles may interleave freely
    ss.parse(ev("xx 1/2", "10.6") + frames("a (m)") + ev("xx 1/3", "10.5") + frames("b (m)"))


def test_speedscope_on_flame_prof_shape():
    e = ss.parse(FP)
    assert e[0]["comm"].startswith("running\t0.85.0 [000]")
    assert e[0]["tid"] == 1 and e[0]["pid"] is None
    assert e[1]["tid"] == 12
    assert len({x["profile"] for x in e}) == 2
    assert e[0]["stack"] == ["(my:init/1)", "proc_lib:init_p/5", "lists:reverse/1;147"]


def test_speedscope_weights_are_time_based():
    text = ev("xx 1/2", "10.0") + frames("a (m)") + ev("xx 1/2", "10.2") + frames("b (m)") \
        + ev("xx 1/2", "10.6") + frames("a (m)")
    w = ss.profiles(text)["xx pid: 1 tid: 2"]
    assert [round(x[1], 6) for x in w] == [0.1, 0.3, 0.2]


# --------------------------------------------------------------------------
# Firefox Profiler
# --------------------------------------------------------------------------

def test_firefox_detection():
    assert ff.detect(GOOD) == "perf"
    assert ff.detect(FP) == "flamegraph"
    assert ff.detect("# ========\n" + FP) == "perf"
    assert ff.detect(ev("x 1/2", "10.5").rstrip("\n")) == "json"   # no newline: no first line
    assert ff.detect("\n" + GOOD) == "json"


def test_firefox_threads_and_times():
    text = (ev("x 1/2", "10.5") + frames("a (m)") + ev("y 9/2", "10.25") + frames("b (m)")
            + ev("z 3", "10.75") + frames("c (m)"))
    e = ff.parse(text)
    assert [(x["comm"], x["pid"], x["tid"], x["time"]) for x in e] == [
        ("x", 1, 2, 10500.0), ("y", 9, 2, 10250.0), ("z", 0, 3, 10750.0)]
    th = ff.threads(text)
    assert th[2]["name"] == "y" and [s[0] for s in th[2]["samples"]] == [10250.0, 10500.0]


def test_firefox_names_a_thread_after_its_latest_sample():
    # one tid, two comms: every sample shows under the comm read last
    text = (ev("running 1/5", "10.1") + frames("a (m)") + ev("waiting 1/5", "10.2") + frames("b (m)")
            + ev("running 1/6", "10.3") + frames("c (m)"))
    th = ff.threads(text)
    assert (th[5]["name"], th[5]["pid"], th[6]["name"]) == ("waiting", 1, "running")
    assert ff.misplaced(text) == [(5, "running", "waiting")]
    assert ff.misplaced(text.replace("waiting 1/5", "waiting 1/7")) == []


def test_firefox_time_is_last_number_colon():
    text = ev("x 1/2", "10.5", metrics="\tnote 12: x") + frames("a (m)")
    assert ff.parse(text)[0]["time"] == 12000.0
    assert ff._parse_float("1.2.3") == 1.2


def test_firefox_frames_and_sample_ends():
    text = ev("x 1/2", "10.5") + (
        "\tffff inner+0x1f (lib)\n"
        "\tffff (init:x/1) (init.erl)\n"    # dropped
        "\tffff native ()\n"                # empty module: no ' (in )'
        "\tffff m:f/1;12 (m.erl)\n"
        "  \n"                               # whitespace line ends the sample
        + ev("x 1/2", "10.6") + "\tffff (only:paren/0) (p.erl)\n\n")   # empty stack: dropped
    e = ff.parse(text)
    assert len(e) == 1
    assert e[0]["stack"] == ["m:f/1;12 (in m.erl)", "native", "inner (in lib)"]


def test_firefox_without_blank_line_swallows_next_sample():
    text = ev("x 1/2", "10.5") + "\tffff a (m)\n" + ev("x 1/2", "10.6") + frames("b (m)")
    e = ff.parse(text)
    assert len(e) == 1 and e[0]["stack"] == ["b (in m)", "a (in m)"]


def test_firefox_on_flame_prof_shape():
    e = ff.parse(FP)
    assert [(x["comm"], x["pid"], x["tid"]) for x in e] == [("running", 0, 0), ("waiting", 0, 0)]
    assert len(ff.threads(FP)) == 1


# --------------------------------------------------------------------------
# pitfalls
# --------------------------------------------------------------------------

def test_all_five_readers_agree_on_the_portable_shape():
    want_stacks = [["proc_lib:init_p/5", "lists:reverse/1:147"], ["gen_server:loop/7:437"]]
    fk = fork.parse(GOOD)
    assert [e["stack"][1:] for e in fk] == want_stacks
    assert [e["category"] for e in fk] == ["running", "waiting"]
    assert [e["metrics"]["erlang_memory"] for e in fk] == [(5, 0), (9, -2)]
    assert [e["stack"][1:] for e in netflix.parse(GOOD)] == want_stacks
    c = sc.parse(GOOD)
    assert [(e["comm"], e["pid"], e["tid"], e["period"], e["stack"][1:]) for e in c] == [
        ("running", "0", "85", 1, want_stacks[0]), ("waiting", "0", "86", 1, want_stacks[1])]
    p = ss.parse(GOOD)
    assert [(e["comm"], e["pid"], e["tid"], e["time"], e["stack"]) for e in p] == [
        ("running", 0, 85, 1700000000.1, want_stacks[0]),
        ("waiting", 0, 86, 1700000000.2, want_stacks[1])]
    assert ff.detect(GOOD) == "perf"
    f = ff.parse(GOOD)
    assert [(e["comm"], e["pid"], e["tid"], e["time"], [x.split(" (in ")[0] for x in e["stack"]])
            for e in f] == [("running", 0, 85, 1700000000100.0, want_stacks[0]),
                            ("waiting", 0, 86, 1700000000200.0, want_stacks[1])]
    fork.heatmap(GOOD)
    fork.flame_graph(GOOD, "erlang_memory_delta")
    netflix.heatmap(GOOD)


def test_pitfalls_good_text_is_clean():
    assert pitfalls.check(GOOD) == []


PITFALL_CASES = [
    ("comm-digit", lambda t: t.replace("running 0/85", "erl2 0/85")),
    ("comm-angle", lambda t: t.replace("running 0/85", "running <0/85>")),
    ("blank-first-line", lambda t: "\n" + t),
    ("time-order", lambda t: t.replace("1700000000.200000", "1699999999.500000")),
    ("last-time-whole-second", lambda t: t.replace("1700000000.200000", "1700000001.000000")),
    ("single-sample", lambda t: t.split("\n\n")[0] + "\n\n"),
    ("flame-graph-range", lambda t: t.replace("1700000000.200000", "1699999999.500000")),
    ("metric-missing", lambda t: t.replace("\tmetric_erlang_memory: 9, -2", "")),
    ("metric-format", lambda t: t.replace("metric_erlang_memory: 9, -2", "metric_erlang_memory:  9, -2")),
    ("metric-format", lambda t: t.replace("metric_erlang_memory: 9, -2", "metric_erlang_memory: 9.5, -2")),
    ("frame-no-address", lambda t: t.replace("\tffffffff gen_server", "\tgen_server")),
    ("frame-no-module", lambda t: t.replace("(gen_server.erl)", "gen_server.erl")),
    ("frame-module-space", lambda t: t.replace("(gen_server.erl)", "(gen server.erl)")),
    ("frame-plus", lambda t: t.replace("gen_server:loop/7", "erlang:+/2")),
    ("frame-arrow", lambda t: t.replace("gen_server:loop/7", "a->b")),
    ("frame-semicolon", lambda t: t.replace("gen_server:loop/7:437", "gen_server:loop/7;437")),
    ("frame-paren-start", lambda t: t.replace("gen_server:loop/7:437", "(gen_server:loop/7)")),
    ("frame-quote", lambda t: t.replace("gen_server:loop/7", "'Elixir.X':f/1")),
    ("comm-pid-format", lambda t: t.replace("running 0/85", "running\t0.85.0")),
    ("tid-zero", lambda t: t.replace("running 0/85", "running 0/0")),
    ("tid-shared", lambda t: t.replace("waiting 0/86", "waiting 0/85")),
    ("tid-shared", lambda t: t.replace("waiting 0/86", "running 7/85")),
    ("id-precision", lambda t: t.replace("running 0/85", "running 0/9007199254740993")),
    ("event-type-mixed", lambda t: t.replace("\tmetric_erlang_reductions: 7, 1\tmetric_erlang_memory: 9, -2", "")),
    ("no-final-blank-line", lambda t: t[:-1]),
    ("no-blank-between-samples", lambda t: t.replace("(proc_lib.erl)\n\n", "(proc_lib.erl)\n", 1)),
    ("whitespace-line", lambda t: t.replace("(proc_lib.erl)\n\n", "(proc_lib.erl)\n\t\n\n", 1)),
    ("firefox-not-perf", lambda t: t.replace("running 0/85", "running\t0.85.0")),
    ("time-disagree", lambda t: t.replace("metric_erlang_memory: 5, 0", "metric_erlang_memory: 5, 0\tx 12:")),
    ("sample-without-frames", lambda t: t.replace("\tffffffff gen_server:loop/7:437 (gen_server.erl)\n", "")),
    ("time-no-decimal-point", lambda t: t.replace("1700000000.100000", "1700000000")),
    ("carriage-return", lambda t: t.replace("\n", "\r\n")),
]


@pytest.mark.parametrize("code,mutate", PITFALL_CASES,
                         ids=["%s-%d" % (c, i) for i, (c, _) in enumerate(PITFALL_CASES)])
def test_pitfalls_each_flagged(code, mutate):
    text = mutate(GOOD)
    assert text != GOOD
    assert code in pitfalls.kinds(text), pitfalls.check(text)


def test_pitfalls_flame_prof_shape():
    k = pitfalls.kinds(FP)
    assert {"comm-pid-format", "firefox-not-perf", "frame-semicolon",
            "frame-paren-start"} <= k
    assert "metric-missing" not in k and "metric-format" not in k


# --------------------------------------------------------------------------
# fork_totals
# --------------------------------------------------------------------------

def test_fork_totals_compare(tmp_path, capsys):
    a = tmp_path / "a.perf"
    a.write_text(GOOD)
    assert fork_totals.main([str(a)]) == 0
    tot = json.loads(capsys.readouterr().out)
    assert tot["events"] == 2
    assert tot["categories"]["waiting"]["metrics"]["erlang_memory_delta"] == -2
    # equal timestamps may come in another order
    b = tmp_path / "b.perf"
    b.write_text(GOOD)
    assert fork_totals.main([str(a), str(b)]) == 0
    b.write_text(GOOD.replace("metric_erlang_memory: 9, -2", "metric_erlang_memory: 9, -3"))
    assert fork_totals.main([str(a), str(b)]) == 1
    out = capsys.readouterr().out
    assert "erlang_memory (9, -2) vs (9, -3)" in out and "erlang_memory_delta: -2 vs -3" in out


# --------------------------------------------------------------------------
# flame_prof_ref.escript
# --------------------------------------------------------------------------

needs_escript = pytest.mark.skipif(not HAVE_ESCRIPT, reason="escript not installed")


def run_ref(*args):
    p = subprocess.run(["escript", ESCRIPT] + list(args), capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


@needs_escript
@pytest.mark.parametrize("name", ["basic.flame", "basic_concat.flame",
                                  "basic_compressed_terms.flame", "basic.flame.gz",
                                  "basic_members.flame.gz", "rotated"])
def test_escript_hand_made_dumps(name):
    rc, out, err = run_ref(os.path.join(DUMPS, name))
    with open(os.path.join(TESTDATA, "basic.expected.perf")) as f:
        assert out == f.read()
    assert rc == 0
    assert "samples_skipped missing memory: 1" in err


@needs_escript
def test_escript_odd_shapes():
    rc, out, err = run_ref(os.path.join(DUMPS, "odd.flame"))
    with open(os.path.join(TESTDATA, "odd.expected.perf"), encoding="utf-8") as f:
        assert out == f.read()
    assert rc == 0
    for msg in ["no capture id", "no {flame_dump_end, _} trailer", "samples_skipped malformed: 1",
                "improper sample list tail: 1", "process gone (items undefined): 1"]:
        assert msg in err


@needs_escript
def test_escript_never_crashes_on_junk(tmp_path):
    (tmp_path / "random.bin").write_bytes(bytes(range(256)) * 20)
    (tmp_path / "biglen.flame").write_bytes(b"\x7f\xff\xff\xff\x83abc")
    (tmp_path / "empty.flame").write_bytes(b"")
    (tmp_path / "concat.flame").write_bytes(b"\x83\x68\x02")
    (tmp_path / "README.md").write_text("# not a dump\n")
    rc, out, err = run_ref(str(tmp_path))
    assert rc == 1 and out == "" and err.count("file skipped") == 5
    assert "Traceback" not in err and "exception" not in err


@needs_escript
def test_escript_truncated_tail():
    rc, out, err = run_ref(os.path.join(DUMPS, "truncated.flame"))
    assert rc == 0
    with open(os.path.join(TESTDATA, "basic.expected.perf")) as f:
        expected = f.read()
    assert out == expected[:len(out)] and out.count("cpu-clock:") == 3
    assert "truncated.flame: truncated frame" in err and "at byte 3226" in err


@needs_escript
def test_escript_captures_merge_by_time_and_keep_state_apart():
    rc, out, _ = run_ref(os.path.join(DUMPS, "other_capture.flame"),
                         os.path.join(DUMPS, "basic.flame"))
    e = fork.parse(out)
    assert [x["time"] for x in e] == sorted(x["time"] for x in e)
    other = [x for x in e if x["time"] == 1700000000.128456][0]
    assert other["metrics"]["erlang_reductions"] == (100, 1)   # its own first sample


@needs_escript
def test_escript_zstd_is_skipped_with_a_message(tmp_path):
    z = tmp_path / "x.flame.zst"
    z.write_bytes(b"\x28\xb5\x2f\xfd" + b"\0" * 16)
    rc, out, err = run_ref(str(z))
    assert rc == 1 and out == "" and "zstd" in err


@needs_escript
def test_escript_summary_matches_fork_reading_of_its_text(tmp_path):
    rc, out, _ = run_ref(os.path.join(DUMPS, "basic.flame"))
    rc2, summary, _ = run_ref("--summary", os.path.join(DUMPS, "basic.flame"))
    assert rc == rc2 == 0
    assert fork_totals.totals(fork.parse(out)) == json.loads(summary)


# --------------------------------------------------------------------------
# real captures (Fixtures/captures) and their goldens
# --------------------------------------------------------------------------

def capture_names():
    if not os.path.isdir(CAPTURES):
        return []
    return sorted(d for d in os.listdir(CAPTURES) if os.path.isdir(os.path.join(CAPTURES, d)))


def read_golden(name):
    p = os.path.join(GOLDEN, name + ".flame_prof.perf")
    if os.path.exists(p):
        with open(p) as f:
            return f.read()
    if os.path.exists(p + ".gz"):
        with gzip.open(p + ".gz", "rt") as f:
            return f.read()
    return None


@pytest.fixture(scope="module")
def converted():
    cache = {}

    def get(name):
        if name not in cache:
            d = os.path.join(CAPTURES, name)
            cache[name] = (run_ref(d), run_ref("--summary", d))
        return cache[name]
    return get


@needs_escript
@pytest.mark.skipif(not capture_names(), reason="no Fixtures/captures yet")
@pytest.mark.parametrize("name", capture_names())
def test_real_capture_reads_in_the_fork(name, converted):
    (rc, out, err), (rc2, summary, _) = converted(name)
    assert rc == 0 and rc2 == 0, err
    events = fork.parse(out)
    tot = json.loads(summary)
    assert len(events) == tot["events"] > 1
    assert fork_totals.totals(events) == tot
    assert fork.is_perf_file(out)
    assert [e["time"] for e in events] == sorted(e["time"] for e in events)
    # the fork's heatmaps (every scaling) and flame graphs load
    fork.heatmap(out)
    for which in ["samples", "erlang_reductions", "erlang_reductions_delta"]:
        assert fork.flame_graph(out, which)
    # every event carries every metric (no silent reuse in the flame graph)
    names = {frozenset(e["metrics"]) for e in events}
    assert len(names) == 1
    # nothing the FlameScope readers would misread, for this dialect
    k = pitfalls.kinds(out)
    assert not k & {"metric-missing", "metric-format", "time-order", "blank-first-line",
                    "single-sample", "comm-digit", "comm-angle", "frame-no-address",
                    "frame-no-module", "last-time-whole-second"}, k


@needs_escript
@pytest.mark.skipif(not capture_names(), reason="no Fixtures/captures yet")
@pytest.mark.parametrize("name", capture_names())
def test_golden_is_current(name, converted):
    (rc, out, _), (_, summary, _) = converted(name)
    golden = read_golden(name)
    assert golden is not None, "no golden for %s: run Tests/reference/make-golden.sh" % name
    assert out == golden, "golden for %s is stale: run Tests/reference/make-golden.sh" % name
    with open(os.path.join(GOLDEN, name + ".flame_prof.summary.json")) as f:
        assert json.load(f) == json.loads(summary)
