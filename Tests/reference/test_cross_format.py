"""Totals agree across formats: perf, folded, speedscope and pprof.

For every real capture in Fixtures/captures and several choices of
--category/--weight, ONE `flameconv convert` run writes all four formats
(`-o a.perf -o a.folded -o a.speedscope.json -o a.pprof`); each file is read
the way its reader reads it, and the readings must agree:

  format      read by                                  weight per sample
  perf        readers/flamescope_fork.py flame_graph   the fork's scaling: samples,
              (positive and negative trees) and        erlang_NAME (VALUE) or
              fork_totals.totals (per comm)            erlang_NAME_delta (DELTA)
  folded      readers/flamegraph_folded.py (and        the line's count, under the
              inferno_folded.py must read the same)    `negative` root if it fell
  speedscope  readers/speedscope_json.py               the sample weights, likewise
  pprof       `go tool pprof -raw` (test_pprof.py's    the [dflt] column, signed; its
              helpers and offline go environment)      `samples` column counts samples

Compared (each reading becomes {(category path, frames root first): (rises,
falls)}, falls as a magnitude, entries of (0, 0) dropped):

  1. per category path (every level) and per first-level category: rises and
     falls apart in all four formats (pprof keeps each sample's signed value,
     so its samples are split by sign), and the signed totals; the fork's
     per-comm totals made from the event lines' metrics (fork_totals.py, the
     heat map's arithmetic) must give the same signed first-level totals as
     its flame graph trees;
  2. per stack, keyed by (category path, frame names root first), exactly;
  3. samples: the fork's event count, pprof's `samples` column, and, when the
     weight is `samples`, the folded and speedscope totals; per category path
     and per stack, the fork's `samples` scaling equals pprof's `samples`
     column in every choice.

Canonical names: a frame is named as flameconv names it (`M:F/A`,
`M:F/A:LINE`, `(M:F/A)` for proc_lib's initial call, `native`), a category
by its label, as raw text. Per format:

  perf (portable)  comm -> its label by undoing the comm spelling (letters
                   `_ : / . @` as they are; `-` + an English digit name ->
                   the digit; `--` -> `-`; `-xAB` (letters a..p) -> the byte
                   0xAB; a final `-_` pad dropped); every frame and category
                   pseudo frame: `%XX` -> its byte; `[M:F/A]` -> `(M:F/A)`.
                   The fork's tree puts the levels after the first right below
                   the comm (their lines say `(category)`, checked), then the
                   stack.
  folded           `negative` root frame -> falls; then the levels, then the
                   stack; `%XX` -> its byte; `''` (the empty atom) -> ''.
  speedscope       the profile's name is the first level (one profile per
                   first-level label); in a sample, `negative` -> falls, then
                   the later levels, then the stack; names as they are.
  pprof            the levels from the labels (key: the level's spec with
                   other characters than [A-Za-z0-9_] made `_`); frames from
                   -raw's location table, root first, `FUNCTION:LINE` when
                   the line is not 0 (what `-lines` shows), else `FUNCTION`.

Every key matched exactly on the real captures, so no fallback (comparing the
multiset of stack totals per category) is needed.

The checks can fail: test_tampered_outputs_are_caught flips one folded
weight, moves one folded line to another stack, and changes one speedscope
weight, and the comparisons must name the stack or category that differs.

    python3 -m pytest -q -c Tests/reference/pytest.ini Tests/reference/test_cross_format.py
"""
import json
import os
import re
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

# flameconv and gotool are those modules' fixtures: imported, pytest finds them here by name.
from test_flameconv_output import flameconv, capture_names, CAPTURES  # noqa: E402,F401
from test_pprof import gotool, parse_raw, label_key  # noqa: E402,F401
from readers import flamescope_fork as fork  # noqa: E402
from readers import flamegraph_folded as fg  # noqa: E402
from readers import inferno_folded as inferno  # noqa: E402
from readers import speedscope_json as ssj  # noqa: E402
import fork_totals  # noqa: E402

NAMES = capture_names()
pytestmark = pytest.mark.skipif(not NAMES, reason="no Fixtures/captures")

# (levels, weight); no levels means flameconv's default, status.
CHOICES = [
    ([], "samples"),
    ([], "reductions_delta"),
    (["status"], "memory_delta"),  # memory falls: the negative trees are not empty
    (["registered_name"], "memory"),
    (["status", "bucket(memory,log4)"], "reductions"),
]
CHOICE_IDS = ["%s %s" % ("+".join(c[0]) or "default", c[1]) for c in CHOICES]
FORMATS = ("perf", "folded", "speedscope", "pprof")
OUTPUTS = {"perf": "a.perf", "folded": "a.folded", "speedscope": "a.speedscope.json", "pprof": "a.pprof"}


# ---------------------------------------------------------------- names

DIGIT_NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
PERCENT = re.compile(rb"%([0-9A-F]{2})")


def unescape(text):
    """`%XX` back to its byte (perf portable and folded names)."""
    raw = PERCENT.sub(lambda m: bytes([int(m.group(1), 16)]), text.encode("utf-8", "surrogateescape"))
    return raw.decode("utf-8", "surrogateescape")


def unspell_comm(comm):
    """The label a portable perf comm spells (docs/perf-output.md, "The comm is spelled")."""
    out, i = bytearray(), 0
    while i < len(comm):
        c = comm[i]
        if c != "-":
            out += c.encode("utf-8")
            i += 1
            continue
        nxt = comm[i + 1]
        if nxt == "-":
            out += b"-"
            i += 2
        elif nxt == "x":
            out.append((ord(comm[i + 2]) - 97) * 16 + ord(comm[i + 3]) - 97)
            i += 4
        elif nxt == "_":
            i += 2  # the pad of a name shorter than two characters
        else:
            digit = next(d for d, w in enumerate(DIGIT_NAMES) if comm.startswith(w, i + 1))
            out += str(digit).encode()
            i += 1 + len(DIGIT_NAMES[digit])
    return out.decode("utf-8", "surrogateescape")


def perf_frame(name):
    name = unescape(name)
    if name.startswith("[") and name.endswith("]"):
        return "(" + name[1:-1] + ")"
    return name


def folded_frame(name):
    name = unescape(name)
    return "" if name == "''" else name


# ---------------------------------------------------------------- readings

def add(table, key, value):
    """Adds a signed value to table[key] = [rises, falls]."""
    t = table.setdefault(key, [0, 0])
    if value >= 0:
        t[0] += value
    else:
        t[1] -= value


def settle(table):
    return {k: tuple(v) for k, v in table.items() if v != [0, 0]}


def read_perf(text, nlevels, weight):
    """The FlameScope fork's flame graph of the weight (and of samples)."""
    events = [e for e in fork.parse(text) if not e["idle"]]
    for e in events:
        assert all(lib == "category" for _, lib in e["frames"][:nlevels - 1]), e["frames"]
    which = "samples" if weight == "samples" else "erlang_" + weight

    def key(path):
        names = [n for n, _ in path]
        return ((unspell_comm(names[0]),) + tuple(unescape(n) for n in names[1:nlevels]),
                tuple(perf_frame(n) for n in names[nlevels:]))

    trees = fork.flame_graph(text, which)
    stacks = {}
    for sign, tree in ((1, trees["positive"]), (-1, trees["negative"])):
        for path, value in tree.items():
            add(stacks, key(path), sign * value)
    counts = {}
    for path, n in fork.flame_graph(text, "samples")["positive"].items():
        k = key(path)
        counts[k] = counts.get(k, 0) + n
    # The heat map's arithmetic (fork_totals): per comm, the sum of the scaling.
    heat = fork_totals.totals(events)
    first = {}
    for comm, c in heat["categories"].items():
        value = c["samples"] if weight == "samples" else c["metrics"].get(which, 0)
        first[unspell_comm(comm)] = value
    return {"stacks": settle(stacks), "stack_samples": counts, "samples": heat["events"],
            "first_level_heat": {k: v for k, v in first.items() if v != 0}}


def read_folded(data, nlevels, weight):
    stacks_read, problems = fg.parse(data)
    assert problems == [], problems[:5]
    theirs, problems = inferno.parse(data)
    assert problems == [] and theirs == stacks_read, "inferno reads the folded text otherwise"
    stacks = {}
    for frames, total in stacks_read.items():
        names = [folded_frame(f) for f in frames]
        sign = 1
        if names[0] == "negative":
            names, sign = names[1:], -1
        add(stacks, (tuple(names[:nlevels]), tuple(names[nlevels:])), sign * total)
    stacks = settle(stacks)
    samples = sum(p for p, _ in stacks.values()) if weight == "samples" else None
    return {"stacks": stacks, "samples": samples}


def read_speedscope(parsed, nlevels, weight):
    group = ssj.read(parsed)
    stacks = {}
    for profile in group["profiles"]:
        for names, w in profile["stacks"].items():
            sign = 1
            if names[:1] == ("negative",):
                names, sign = names[1:], -1
            path = (profile["name"],) + tuple(names[:nlevels - 1])
            add(stacks, (path, tuple(names[nlevels - 1:])), sign * w)
    stacks = settle(stacks)
    samples = sum(p for p, _ in stacks.values()) if weight == "samples" else None
    return {"stacks": stacks, "samples": samples}


def read_pprof(raw, levels):
    headers, samples, locations = parse_raw(raw)
    [column] = [i for i, h in enumerate(headers) if h.endswith("[dflt]")]
    assert headers[0].startswith("samples/count"), headers
    keys = [label_key(l) for l in levels]
    stacks, counts, total = {}, {}, 0
    for values, ids, labels in samples:
        k = (tuple(labels[key] for key in keys), tuple(locations[i] for i in reversed(ids)))
        add(stacks, k, values[column])
        counts[k] = counts.get(k, 0) + values[0]
        total += values[0]
    return {"stacks": settle(stacks), "stack_samples": counts, "samples": total}


# ---------------------------------------------------------------- comparing

def show(key):
    """A readable key: category path | frames."""
    if isinstance(key, tuple) and len(key) == 2 and isinstance(key[0], tuple):
        return "%s | %s" % (" / ".join(key[0]), ";".join(key[1]))
    if isinstance(key, tuple):
        return " / ".join(key)
    return str(key)


def diff(name_a, a, name_b, b, limit=12):
    """Lines saying where two {key: value} tables differ."""
    out = []
    for key in sorted(set(a) | set(b), key=repr):
        va, vb = a.get(key), b.get(key)
        if va != vb:
            out.append("  %s: %s %s, %s %s" % (show(key), name_a, "missing" if va is None else va,
                                               name_b, "missing" if vb is None else vb))
    if len(out) > limit:
        out = out[:limit] + ["  … and %d more" % (len(out) - limit)]
    return out


def agree(what, tables, reference="perf"):
    """Asserts every table equals the reference one; the message lists the differences."""
    problems = []
    for name, table in tables.items():
        if name != reference:
            lines = diff(reference, tables[reference], name, table)
            if lines:
                problems.append("%s: %s vs %s (rises, falls):" % (what, reference, name))
                problems += lines
    assert not problems, "\n" + "\n".join(problems)


def per_path(stacks, depth=None):
    out = {}
    for (path, _), (rises, falls) in stacks.items():
        p = path if depth is None else path[:depth]
        t = out.setdefault(p, [0, 0])
        t[0] += rises
        t[1] += falls
    return settle(out)


def signed(table):
    out = {k: r - f for k, (r, f) in table.items()}
    return {k: v for k, v in out.items() if v != 0}


# ---------------------------------------------------------------- the run

def convert(flameconv, folder, name, choice):
    levels, weight = choice
    args = [flameconv, "convert", os.path.join(CAPTURES, name), "--weight", weight]
    args += [a for l in levels for a in ("--category", l)]
    for fmt in FORMATS:
        args += ["-o", str(folder / OUTPUTS[fmt])]
    p = subprocess.run(args, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-3000:]
    # Every format leaves out the same samples; these choices leave out none,
    # so the fork (which reads every event of the perf text) sees the same ones.
    assert "skipped" not in p.stderr, p.stderr
    return p.stderr


@pytest.fixture(scope="module")
def readings(flameconv, gotool, tmp_path_factory):
    """(capture, choice index) -> ({format: reading}, folder of the outputs)."""
    cache = {}

    def get(name, index):
        if (name, index) not in cache:
            levels, weight = CHOICES[index]
            levels = levels or ["status"]
            folder = tmp_path_factory.mktemp("cross")
            convert(flameconv, folder, name, CHOICES[index])
            with open(folder / OUTPUTS["perf"], encoding="utf-8", errors="surrogateescape") as f:
                perf_text = f.read()
            p = gotool("-raw", str(folder / OUTPUTS["pprof"]))
            assert p.returncode == 0, p.stderr
            with open(folder / OUTPUTS["speedscope"], "rb") as f:
                parsed = json.loads(f.read().decode("utf-8"))
            cache[(name, index)] = ({
                "perf": read_perf(perf_text, len(levels), weight),
                "folded": read_folded((folder / OUTPUTS["folded"]).read_bytes(), len(levels), weight),
                "speedscope": read_speedscope(parsed, len(levels), weight),
                "pprof": read_pprof(p.stdout, levels),
            }, folder)
        return cache[(name, index)]
    return get


def check_categories(views):
    stacks = {f: v["stacks"] for f, v in views.items()}
    # Rises and falls apart: pprof's signed samples are split by sign, like the
    # fork's two trees and the other formats' `negative` root frame.
    agree("total per category path", {f: per_path(s) for f, s in stacks.items()})
    agree("total per first-level category", {f: per_path(s, 1) for f, s in stacks.items()})
    agree("signed total per category path", {f: signed(per_path(s)) for f, s in stacks.items()})
    first = {f: {k[0]: v for k, v in signed(per_path(s, 1)).items()} for f, s in stacks.items()}
    first["perf (heat map totals)"] = views["perf"]["first_level_heat"]
    agree("signed total per first-level category", first)


def check_stacks(views):
    agree("total per stack", {f: v["stacks"] for f, v in views.items()})


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("index", range(len(CHOICES)), ids=CHOICE_IDS)
def test_totals_per_category(readings, index, name):
    views, _ = readings(name, index)
    assert views["perf"]["stacks"], "nothing read"
    check_categories(views)
    if CHOICES[index][1].endswith("_delta") and CHOICES[index][1] != "reductions_delta":
        # reductions_delta is never negative (d + 1, or -d when it fell:
        # docs/perf-output.md); memory falls in every capture.
        assert any(f for _, f in views["perf"]["stacks"].values()), "no negative weight to compare"


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("index", range(len(CHOICES)), ids=CHOICE_IDS)
def test_totals_per_stack(readings, index, name):
    views, _ = readings(name, index)
    check_stacks(views)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("index", range(len(CHOICES)), ids=CHOICE_IDS)
def test_samples(readings, index, name):
    views, _ = readings(name, index)
    default, _ = readings(name, 0)
    counts = {f: v["samples"] for f, v in views.items() if v["samples"] is not None}
    if CHOICES[index][1] == "samples":
        assert set(counts) == set(FORMATS)
    # Every choice keeps every sample (none is skipped), so the count is the default run's.
    counts["perf, --weight samples run"] = default["perf"]["samples"]
    assert len(set(counts.values())) == 1, counts
    # Samples per category path and per stack: the fork's `samples` scaling and pprof's column.
    agree("samples per stack", {f: views[f]["stack_samples"] for f in ("perf", "pprof")})
    per = {f: {} for f in ("perf", "pprof")}
    for f in per:
        for (path, _), n in views[f]["stack_samples"].items():
            per[f][path] = per[f].get(path, 0) + n
    agree("samples per category path", per)


def test_tampered_outputs_are_caught(readings):
    """The comparisons above fail, and say where, when one output is changed."""
    index = 2  # status, memory_delta: rises and falls
    views, folder = readings(NAMES[0], index)
    levels = CHOICES[index][0]
    data = (folder / OUTPUTS["folded"]).read_bytes()
    lines = data.splitlines(keepends=True)

    # One folded weight plus one.
    stack, count = lines[0].rstrip(b"\n").rsplit(b" ", 1)
    bumped = b"".join([stack + b" " + str(int(count) + 1).encode() + b"\n"] + lines[1:])
    tampered = dict(views, folded=read_folded(bumped, len(levels), "memory_delta"))
    first = stack.split(b";")[0].decode()
    with pytest.raises(AssertionError) as e:
        check_categories(tampered)
    assert "perf vs folded" in str(e.value) and first in str(e.value), str(e.value)
    with pytest.raises(AssertionError) as e:
        check_stacks(tampered)
    assert ";".join(f.decode() for f in stack.split(b";")[1:]) in str(e.value), str(e.value)
    print(e.value)

    # One line moved to another stack of the same category: the category
    # totals still agree, the stack totals do not.
    stack, count = lines[0].rstrip(b"\n").rsplit(b" ", 1)
    moved = b"".join([stack + b";extra:frame/0 " + count + b"\n"] + lines[1:])
    tampered = dict(views, folded=read_folded(moved, len(levels), "memory_delta"))
    check_categories(tampered)
    with pytest.raises(AssertionError) as e:
        check_stacks(tampered)
    assert "extra:frame/0" in str(e.value), str(e.value)

    # One speedscope weight changed.
    with open(folder / OUTPUTS["speedscope"], "rb") as f:
        parsed = json.loads(f.read().decode("utf-8"))
    profile = parsed["profiles"][0]
    i = next(k for k, w in enumerate(profile["weights"]) if w > 0)
    profile["weights"][i] += 1
    profile["endValue"] += 1
    tampered = dict(views, speedscope=read_speedscope(parsed, len(levels), "memory_delta"))
    with pytest.raises(AssertionError) as e:
        check_stacks(tampered)
    assert "perf vs speedscope" in str(e.value), str(e.value)


def test_comm_spelling_reads_back():
    """The comm spelling undone, on the examples of docs/perf-output.md."""
    assert unspell_comm("worker_-one") == "worker_1"
    assert unspell_comm("erlang:apply/-two") == "erlang:apply/2"
    assert unspell_comm("a--b") == "a-b"
    assert unspell_comm("two-xcawords") == "two words"
    assert unspell_comm("x-_") == "x"
    assert unspell_comm("waiting") == "waiting"
    assert perf_frame("[proc_lib:init_p/5]") == "(proc_lib:init_p/5)"
    assert perf_frame("erlang:%2B/2") == "erlang:+/2"
    assert folded_frame("two%20words") == "two words"
