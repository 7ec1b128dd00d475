"""Folded stacks of flameconv, read by the flamegraph.pl and inferno mirrors.

For every real capture in Fixtures/captures (each alone, and all merged in
one run) and several choices of --category/--weight, `flameconv convert
--format folded` is read by readers/flamegraph_folded.py and
readers/inferno_folded.py; then:

  * both read every line (nothing ignored, dropped or read as a
    differential line), and read the same stacks with the same totals;
  * per category path, the lines' totals (those under the `negative` root
    frame counted below zero) equal `flameconv stats --json`'s weight, and
    the weight category_totals.escript (the independent Erlang oracle)
    works out from the dumps;
  * per stack, stats' heaviest stacks (top_by_weight) have the same total;
  * with --split-negative, the two files hold the same lines as the one
    file, the `negative` root frame left out; `.gz` holds the same text.

A dump made here with hostile registered names and functions (separators,
blanks, line ends, a comment mark, the empty atom) is read by both mirrors
without a problem, every name reading back as itself.

    python3 -m pytest -q -c Tests/reference/pytest.ini Tests/reference/test_folded.py
"""
import gzip
import json
import os
import re
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

# flameconv is that module's fixture: imported, pytest finds it here by name.
from test_flameconv_output import flameconv, capture_names, CAPTURES  # noqa: E402,F401
from readers import flamegraph_folded as fg  # noqa: E402
from readers import inferno_folded as inferno  # noqa: E402

TOTALS = os.path.join(HERE, "category_totals.escript")

CHOICES = [
    ["--category", "status"],
    ["--category", "registered_name", "--weight", "reductions_delta"],
    ["--category", "bucket(memory,log2)", "--category", "status", "--weight", "memory_delta"],
    ["--category", "proc_lib_initial_call", "--weight", "reductions_per_second"],
    ["--category", "pid", "--weight", "total_heap_size_delta"],
    ["--category", "initial_call", "--category", "process_label", "--category", "node",
     "--weight", "heap_size_bytes_delta"],
]
CHOICE_IDS = [" ".join(c) for c in CHOICES]

NAMES = capture_names()
MERGED = "merged"
TARGETS = NAMES + ([MERGED] if len(NAMES) > 1 else [])

pytestmark = pytest.mark.skipif(not NAMES, reason="no Fixtures/captures")

ESCAPE = re.compile(rb"%([0-9A-F]{2})")


def unescape(frame):
    """A frame's name: each %XX back to its byte (docs/output-formats.md)."""
    raw = ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), frame.encode("utf-8"))
    return raw.decode("utf-8", "surrogateescape")


def inputs_of(target):
    names = NAMES if target == MERGED else [target]
    return [os.path.join(CAPTURES, n) for n in names]


def levels_of(choice):
    return sum(1 for a in choice if a == "--category") or 1


def convert(flameconv, args, out):
    p = subprocess.run([flameconv, "convert", "--quiet"] + args + ["-o", str(out)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-3000:]
    return p.stderr


def read_both(data):
    """The stacks both mirrors read, after checking they read every line the same."""
    ours, problems = fg.parse(data)
    assert problems == [], problems[:5]
    theirs, problems = inferno.parse(data)
    assert problems == [], problems[:5]
    assert ours == theirs
    lines = data.count(b"\n")
    assert len(ours) == lines, "some lines read as the same stack"
    assert all(isinstance(v, int) and v > 0 for v in ours.values())
    return ours


def signed(stacks, levels):
    """[(category path, frames, signed total)] with names unescaped."""
    out = []
    for frames, total in stacks.items():
        names = [unescape(f) for f in frames]
        sign = 1
        if names[0] == "negative":
            names, sign = names[1:], -1
        out.append((tuple(names[:levels]), tuple(names[levels:]), sign * total))
    return out


def per_path(rows):
    tot = {}
    for path, _, w in rows:
        tot[path] = tot.get(path, 0) + w
    return {p: w for p, w in tot.items() if w != 0}


def stats_of(flameconv, choice, inputs):
    p = subprocess.run([flameconv, "stats", "--json"] + choice + inputs, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout)["captures"]


def stats_paths(captures):
    tot = {}
    for cap in captures:
        for c in cap["categories"]:
            tot[tuple(c["path"])] = tot.get(tuple(c["path"]), 0) + c["weight"]
    return {p: w for p, w in tot.items() if w != 0}


def unweighed(captures):
    return sum(c["unweighed"] for cap in captures for c in cap["categories"])


@pytest.fixture(scope="module")
def oracle(escript):
    """choice index -> {capture folder: [capture totals]} from category_totals.escript."""
    cache = []

    def get(index):
        if not cache:
            args = [a for c in CHOICES for a in ("--choice", " ".join(c))]
            p = subprocess.run([escript, TOTALS, "--each"] + args + inputs_of(MERGED), capture_output=True, text=True)
            assert p.returncode == 0, p.stderr
            cache.extend({i["input"]: i["captures"] for i in c["inputs"]} for c in json.loads(p.stdout)["choices"])
        return cache[index]
    return get


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("index", range(len(CHOICES)), ids=CHOICE_IDS)
def test_folded_totals(flameconv, oracle, tmp_path, index, target):
    choice = CHOICES[index]
    inputs = inputs_of(target)
    stderr = convert(flameconv, choice + inputs, tmp_path / "out.folded")
    data = (tmp_path / "out.folded").read_bytes()
    rows = signed(read_both(data), levels_of(choice))
    got = per_path(rows)
    captures = stats_of(flameconv, choice, inputs)
    assert got == stats_paths(captures)
    # The oracle: every capture of the inputs, added up per path.
    per_input = oracle(index)
    assert got == stats_paths([c for path in inputs for c in per_input[path]])
    # Samples without the weight's metric: counted, named.
    left_out = unweighed(captures)
    skipped = re.findall(r"skipped (\d+) samples?: missing (\S+)", stderr)
    assert sum(int(n) for n, _ in skipped) == left_out, stderr
    # Per stack: stats' heaviest stacks of a capture alone.
    if target != MERGED and "--weight" in choice:
        per_stack = {}
        for _, frames, w in rows:
            per_stack[frames] = per_stack.get(frames, 0) + w
        (cap,) = captures
        assert cap["top_by_weight"]
        for top in cap["top_by_weight"]:
            assert per_stack.get(tuple(top["frames"]), 0) == top["weight"], top["frames"]


@pytest.mark.parametrize("target", TARGETS)
def test_split_negative_and_gzip(flameconv, tmp_path, target):
    choice = ["--category", "status", "--weight", "memory_delta"]
    inputs = inputs_of(target)
    convert(flameconv, choice + inputs, tmp_path / "one.folded")
    convert(flameconv, choice + ["--split-negative"] + inputs, tmp_path / "two.folded.gz")
    one = read_both((tmp_path / "one.folded").read_bytes())
    main = read_both(gzip.decompress((tmp_path / "two.folded.gz").read_bytes()))
    negative = read_both(gzip.decompress((tmp_path / "two.negative.folded.gz").read_bytes()))
    assert negative, "memory falls in every capture"
    assert not any(f[0] == "negative" for f in main)
    assert {("negative",) + f: w for f, w in negative.items()} == {f: w for f, w in one.items() if f[0] == "negative"}
    assert main == {f: w for f, w in one.items() if f[0] != "negative"}


HOSTILE = ["a;b", "two words", "line\nbreak", "cr\rhere", "tab\there", "# not a comment", "%41", " lead", "trail ",
           "nbsp\u00a0", "ends 12", "x 1.5", "", "#", "caf\u00e9 \u2028", "negativ;e"]

# One process per name, registered under it and running a function of a
# module of that name, over two ticks; its memory then rises or falls by 7.
HOSTILE_DUMP = r"""
Names = [%s],
H = {flame_dump, 1, #{started_at => 1700000000000000, monotonic_start => 0, capture => <<"hostile">>,
                      seq => 0, node => 'hostile@host', word_size => 8}},
Sample = fun(I, Name, Tick) ->
    {list_to_pid("<0." ++ integer_to_list(100 + I) ++ ".0>"),
     [{status, waiting}, {registered_name, Name}, {current_function, {Name, Name, I}},
      {current_stacktrace, [{Name, Name, I, []}, {m, loop, 0, [{file, "m.erl"}, {line, 3}]}]},
      {memory, 1000 * I + Tick * ((I rem 2) * 14 - 7)}, {reductions, 10 * I}]}
end,
S = fun(Tick) -> [Sample(I, N, Tick) || {I, N} <- lists:zip(lists:seq(1, length(Names)), Names)] end,
Terms = [H, {samples, 1000, S(0)}, {samples, 11000, S(1)}, {flame_dump_end, #{}}],
ok = file:write_file("%s", [begin B = term_to_binary(T), [<<(byte_size(B)):32>>, B] end || T <- Terms]).
"""


def erlang_atom(name):
    """An Erlang expression for the atom `name` (from its UTF-8 code points)."""
    return "list_to_atom(%s)" % ("[" + ",".join(str(ord(c)) for c in name) + "]")


def test_hostile_names(flameconv, escript, tmp_path):
    dump = tmp_path / "hostile.flame"
    erl = os.path.join(os.path.dirname(escript), "erl")
    subprocess.run([erl, "-noshell", "-eval", HOSTILE_DUMP % (",".join(map(erlang_atom, HOSTILE)), dump),
                    "-s", "init", "stop"], check=True, capture_output=True)
    for weight in ("samples", "memory_delta"):
        convert(flameconv, ["--category", "registered_name", "--weight", weight, str(dump)], tmp_path / "h.folded")
        data = (tmp_path / "h.folded").read_bytes()
        stacks = read_both(data)
        rows = signed(stacks, 1)
        labels = {path[0] for path, _, _ in rows}
        # The empty atom is written as Erlang writes it.
        assert labels == {n if n else "''" for n in HOSTILE}
        for name in HOSTILE:
            leaf = "%s:%s/" % (name, name)
            assert any(frames[-1].startswith(leaf) for _, frames, _ in rows), name
        totals = per_path(rows)
        if weight == "samples":
            assert totals == {(n if n else "''",): 2 for n in HOSTILE}
        else:
            # Odd processes (first, third ... name) rose by 7, even ones fell.
            assert totals == {(n if n else "''",): 7 if i % 2 == 0 else -7 for i, n in enumerate(HOSTILE)}


# What the escapes avoid: each line below is read wrongly by one mirror or
# both, as the readers' sources say.
@pytest.mark.parametrize("line, flamegraph_problem, inferno_problem, same", [
    (b"a;b c 5\n", False, False, True),                 # a blank inside a name: fine for both
    (b"a;f 12 5\n", True, True, True),                  # a name ending in blank + digits: differential
    (b"# x;f 5\n", False, True, False),                 # inferno drops it as a comment
    (b" lead;f 5\n", False, False, False),              # inferno trims the blank, flamegraph.pl keeps it
    (b"a;f\xc2\xa0 5\n", False, False, False),          # NBSP at a name's end: inferno trims it
    (b"a\xff;f 5\n", False, True, False),               # not UTF-8: inferno reads nothing
    (b"a;f\t5\n", False, True, False),                  # a tab before the count: inferno needs a space
    (b"a;f; 5\n", False, False, False),                 # an empty last frame: Perl's split drops it
    (b"a;f 0\n", True, True, True),                     # a total of 0: both refuse
])
def test_mirrors_see_what_escapes_avoid(line, flamegraph_problem, inferno_problem, same):
    ours, p1 = fg.parse(line)
    theirs, p2 = inferno.parse(line)
    assert bool(p1) == flamegraph_problem, p1
    assert bool(p2) == inferno_problem, p2
    assert (ours == theirs) == same, (ours, theirs)
