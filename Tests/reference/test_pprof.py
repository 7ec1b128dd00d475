"""flameconv's pprof output, read by the real reader: `go tool pprof`.

For every real capture in Fixtures/captures and several choices of
--category/--weight/--metrics, `flameconv convert -o out.pprof` is read by
`go tool pprof` (Debian's golang-go; scripts/install-deps.sh installs it):

  * `-raw` must list the value columns this test expects (samples, then a
    counter's delta or a gauge's value per metric, then the weight, marked
    [dflt]), and its samples, added up per category path (the level labels),
    must give the per-category totals that Tests/reference/category_totals.escript
    (an independent Erlang reader of the dumps) works out from the docs:
    samples, the weight, and each metric column's value or delta sums;
  * per stack, the -raw samples (frames named through the -raw location
    table) must give the weight and samples of `flameconv stats --json`'s top
    stacks (another format, another code path);
  * `-top -tagroot=LEVEL` must show each category's total as the cum of its
    `LEVEL:LABEL` root pseudo frame, and `-traces` must show every sample with
    its labels.

The go tool runs offline: GOTOOLCHAIN=local, GOFLAGS empty, HOME and GOCACHE
in a temporary folder.

    python3 -m pytest -q -c Tests/reference/pytest.ini Tests/reference/test_pprof.py
"""
import json
import os
import re
import shutil
import subprocess
import sys
import zlib

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

# flameconv is that module's fixture: imported, pytest finds it here by name.
from test_flameconv_output import flameconv, capture_names, CAPTURES  # noqa: E402,F401
from test_category_totals import run_totals  # noqa: E402

NAMES = capture_names()
pytestmark = pytest.mark.skipif(not NAMES, reason="no Fixtures/captures")

# Metrics whose pprof column is their delta (counters, docs/categories.md);
# every other metric's column is its value.
COUNTERS = {"reductions", "minor_gcs"}

# (levels, weight, metrics or None)
CHOICES = [
    (["status"], "samples", None),
    (["registered_name"], "reductions_delta", None),
    (["bucket(memory,log2)", "status"], "memory_delta", ["reductions", "memory", "message_queue_len"]),
    (["pid"], "total_heap_size", ["minor_gcs", "total_heap_size_bytes"]),
    (["initial_call", "bucket(message_queue_len,0,1,10,100,1000)"], "reductions", ["heap_size", "stack_size"]),
    (["proc_lib_initial_call"], "reductions_per_second", None),
]
CHOICE_IDS = ["%s %s" % ("+".join(c[0]), c[1]) for c in CHOICES]


def label_key(spec):
    """The label key of a level: its spec, every run of other characters than
    letters, digits and _ one _, none at the ends (docs/output-formats.md)."""
    return re.sub(r"[^A-Za-z0-9_]+", "_", spec).strip("_")


def expected_columns(weight, metrics):
    """[(name, metric, 'value'|'delta'|None)]: samples, the metrics, the weight."""
    cols = [("samples", None, None)]

    def add(name):
        if name in [c[0] for c in cols]:
            return
        if name == "samples":
            return
        if name.endswith("_delta"):
            cols.append((name, name[:-len("_delta")], "delta"))
        else:
            cols.append((name, name, "value"))
    base = weight[:-len("_delta")] if weight.endswith("_delta") else weight
    for m in metrics if metrics is not None else ([] if weight == "samples" else [base]):
        add(m + "_delta" if m in COUNTERS else m)
    add(weight)
    return cols


@pytest.fixture(scope="module")
def gotool(tmp_path_factory):
    """The environment `go tool pprof` runs in, offline."""
    go = shutil.which("go")
    if go is None:
        if os.environ.get("CI") == "true":
            pytest.fail("go is missing: CI must install golang-go (scripts/install-deps.sh)")
        pytest.skip("go not installed")
    home = tmp_path_factory.mktemp("gohome")
    env = dict(os.environ, HOME=str(home), GOCACHE=str(home / "cache"), GOPATH=str(home / "gopath"),
               GOTOOLCHAIN="local", GOFLAGS="", GOPROXY="off", GOTELEMETRY="off")
    return lambda *args: subprocess.run([go, "tool", "pprof"] + list(args), capture_output=True, text=True, env=env)


def choice_args(levels, weight, metrics):
    """A choice as the command-line options both flameconv and the escript take."""
    args = [a for level in levels for a in ("--category", level)] + ["--weight", weight]
    return args + (["--metrics", ",".join(metrics)] if metrics else [])


@pytest.fixture(scope="module")
def reference(escript):
    cache = []

    def get(index, name):
        if not cache:
            cache.extend(run_totals(escript, [choice_args(*c) for c in CHOICES],
                                    [os.path.join(CAPTURES, n) for n in NAMES]))
        return cache[index][os.path.join(CAPTURES, name)]
    return get


def convert(flameconv, tmp_path, name, choice, extra=()):
    out = str(tmp_path / (name + ".pprof"))
    args = [flameconv, "convert", os.path.join(CAPTURES, name), "-o", out] + choice_args(*choice)
    p = subprocess.run(args + list(extra), capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-3000:]
    with open(out, "rb") as f:
        assert f.read(2) == b"\x1f\x8b", "pprof output must be gzip"
    return out, p.stderr


RAW_SAMPLE = re.compile(r"^((?:\s+-?\d+)+): ((?:\d+ )*)$")
RAW_LABEL = re.compile(r"(\w+):\[([^\]]*)\]")
RAW_LOCATION = re.compile(r"^\s*(\d+): 0x0 M=1 (\S+) (\S*):(\d+) s=0(?:\(\S+\))?$")


def parse_raw(text):
    """(column headers, samples [(values, location ids, labels)], locations {id: frame name})."""
    lines = text.splitlines()
    i = lines.index("Samples:")
    headers = lines[i + 1].split()
    samples, locations = [], {}
    j = i + 2
    while lines[j] != "Locations":
        m = RAW_SAMPLE.match(lines[j])
        assert m, lines[j]
        values = [int(v) for v in m.group(1).split()]
        ids = [int(v) for v in m.group(2).split()]
        labels = {}
        j += 1
        while j < len(lines) and lines[j].startswith("                ") and lines[j].strip():
            for key, value in RAW_LABEL.findall(lines[j]):
                labels[key] = value
            j += 1
        samples.append((values, ids, labels))
    for line in lines[j + 1:]:
        if line == "Mappings":
            break
        m = RAW_LOCATION.match(line)
        assert m, line
        name, line_no = m.group(2), int(m.group(4))
        locations[int(m.group(1))] = name + (":%d" % line_no if line_no > 0 else "")
    return headers, samples, locations


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("index", range(len(CHOICES)), ids=CHOICE_IDS)
def test_raw_totals_per_category(flameconv, gotool, reference, tmp_path, index, name):
    levels, weight, metrics = CHOICES[index]
    out, stderr = convert(flameconv, tmp_path, name, CHOICES[index])
    p = gotool("-raw", out)
    assert p.returncode == 0, p.stderr
    headers, samples, _ = parse_raw(p.stdout)
    columns = expected_columns(weight, metrics)
    units = {"samples": "count"}
    assert [h.split("/")[0] for h in headers] == [c[0] for c in columns]
    assert [h for h in headers if h.endswith("[dflt]")] == [h for h in headers if h.split("/")[0] == weight]
    assert headers[0] == "samples/count" + ("[dflt]" if weight == "samples" else "")
    del units

    keys = [label_key(l) for l in levels]
    got = {}
    for values, _, labels in samples:
        path = tuple(labels[k] for k in keys)
        t = got.setdefault(path, [0] * len(values))
        for k, v in enumerate(values):
            t[k] += v

    # The escript's totals, the same way: samples with the weight, then each column.
    [capture] = reference(index, name)
    expected, unweighed = {}, 0
    for c in capture["categories"]:
        unweighed += c["unweighed"]
        kept = c["samples"] - c["unweighed"]
        if kept == 0:
            continue
        row = []
        for col, metric, part in columns:
            if col == "samples":
                row.append(kept)
            elif col == weight:
                row.append(c["weight"])
            elif c["unweighed"] == 0:
                sums = c["metrics"].get(metric, {"value": 0, "delta": 0})
                row.append(sums[part])
            else:
                row.append(None)  # the escript sums samples pprof leaves out
        expected[tuple(c["path"])] = row
    assert set(got) == set(expected)
    for path, row in expected.items():
        for k, want in enumerate(row):
            if want is not None:
                assert got[path][k] == want, (path, columns[k][0])
    assert len(samples) == capture["samples"] - unweighed
    if unweighed:
        assert "skipped %d samples: missing %s" % (unweighed, weight) in stderr
    else:
        assert "skipped" not in stderr


def stack_totals(samples, locations, column):
    """Per stack (frame names, root first): [samples, weight]."""
    out = {}
    for values, ids, _ in samples:
        key = tuple(locations[i] for i in reversed(ids))
        t = out.setdefault(key, [0, 0])
        t[0] += values[0]
        t[1] += values[column]
    return out


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("index", [1, 3], ids=[CHOICE_IDS[1], CHOICE_IDS[3]])
def test_raw_totals_per_stack_match_stats(flameconv, gotool, tmp_path, index, name):
    levels, weight, metrics = CHOICES[index]
    out, _ = convert(flameconv, tmp_path, name, CHOICES[index])
    p = gotool("-raw", out)
    assert p.returncode == 0, p.stderr
    headers, samples, locations = parse_raw(p.stdout)
    column = [h.split("/")[0] for h in headers].index(weight)
    got = stack_totals(samples, locations, column)
    s = subprocess.run([flameconv, "stats", "--json", "--weight", weight, os.path.join(CAPTURES, name)]
                       + [a for l in levels for a in ("--category", l)], capture_output=True, text=True)
    assert s.returncode == 0, s.stderr
    [cap] = json.loads(s.stdout)["captures"]
    assert cap["top_by_weight"]
    for stack in cap["top_by_weight"] + [dict(st, weight=None) for st in cap["top_by_samples"]]:
        key = tuple(stack["frames"])
        assert key in got, key
        assert got[key][0] == stack["samples"], key
        if stack["weight"] is not None:
            assert got[key][1] == stack["weight"], key


def raw_function_names(gotool, out):
    """The function names of a profile, from -raw's location table."""
    p = gotool("-raw", out)
    assert p.returncode == 0, p.stderr
    return {RAW_LOCATION.match(l).group(2) for l in p.stdout.split("Locations\n", 1)[1].split("Mappings")[0].splitlines()}


# flat, flat%, sum%, cum, cum%, name; a figure is followed by its unit unless the unit is count.
TOP_LINE = re.compile(r"^\s*(-?\d+)[a-z_]*\s+\S+%\s+\S+%\s+(-?\d+)[a-z_]*\s+\S+%\s+(.+)$")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("index", [0, 1], ids=CHOICE_IDS[:2])
def test_top_with_tagroot_and_traces(flameconv, gotool, reference, tmp_path, index, name):
    levels, weight, _ = CHOICES[index]
    out, _ = convert(flameconv, tmp_path, name, CHOICES[index])
    key = label_key(levels[0])
    [capture] = reference(index, name)
    expected = {c["path"][0]: c["weight"] for c in capture["categories"]}
    p = gotool("-top", "-nodecount=1000000", "-nodefraction=0", "-tagroot=" + key, out)
    assert p.returncode == 0, p.stderr
    # -tagroot's pseudo frames: `LABEL` (go 1.19's pprof) or `KEY:LABEL` (later
    # ones). -top adds up frames by name, so where a label is also a function's
    # name (registered_name's `M:F/A` for unregistered processes) only -traces
    # can tell them apart: such labels are checked there alone.
    functions = raw_function_names(gotool, out)
    cum = {}
    for line in p.stdout.splitlines():
        m = TOP_LINE.match(line)
        if m is None:
            continue
        frame = m.group(3)
        frame = frame[len(key) + 1:] if frame.startswith(key + ":") and frame[len(key) + 1:] in expected else frame
        if frame in expected:
            cum[frame] = int(m.group(2))
    distinct = {label: total for label, total in expected.items() if label not in functions}
    assert distinct, "no category label to check in -top"
    assert {label: cum.get(label) for label in distinct} == distinct

    # -traces: one block per sample, each with its labels; per category, as many as the escript counts.
    p = gotool("-traces", out)
    assert p.returncode == 0, p.stderr
    # Blocks between separator lines; the last separator closes the list.
    blocks = [b for b in p.stdout.split("-----------+-------------------------------------------------------")[1:] if b.strip()]
    assert len(blocks) == capture["samples"]
    per_label = {}
    for block in blocks:
        m = re.search(r"^\s*%s:\s*(\S+)\s*$" % key, block, re.M)
        assert m, block
        assert re.search(r"^\s*pid:\s*<0\.\d+\.\d+>\s*$", block, re.M), block
        per_label[m.group(1)] = per_label.get(m.group(1), 0) + 1
    assert per_label == {c["path"][0]: c["samples"] for c in capture["categories"]}


@pytest.mark.parametrize("name", NAMES)
def test_one_gzip_member_whatever_the_options(flameconv, gotool, tmp_path, name):
    """pprof is one gzip member, not a member per block as .gz text is:
    speedscope, which imports pprof, inflates a file with pako 1.0's
    inflate, which stops at the end of the first member. The compression
    options for text change nothing in it, and go tool pprof reads it."""
    import zlib
    outs = []
    for extra in ([], ["--gzip-block-size", "4096", "--threads", "1"], ["--gzip-block-size", "4096", "--threads", "2"]):
        folder = tmp_path / str(len(outs))
        folder.mkdir()
        out, _ = convert(flameconv, folder, name, CHOICES[1], extra)
        with open(out, "rb") as f:
            outs.append(f.read())
        p = gotool("-raw", out)
        assert p.returncode == 0, p.stderr
    assert outs[0] == outs[1] == outs[2]
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    d.decompress(outs[0])
    assert d.eof and d.unused_data == b"", "more than one gzip member"
