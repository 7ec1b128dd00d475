"""flameconv's speedscope JSON on every real capture, judged by the schema of
speedscope's file format, a mirror of speedscope's importer, and stats.

For each capture in Fixtures/captures (and all of them in one run) and
several choices of --category, --weight and --speedscope-by:

  * the file validates against testdata/speedscope-file.schema.json (written
    from speedscope's file-format spec) and speedscope's importer, mirrored
    in readers/speedscope_json.py, reads it without failing;
  * per category path, the weights agree with `flameconv stats --json`:
    a path's weight in stats (a signed sum) is its total outside the
    `negative` root frame minus its total under it; samples lacking the
    weight's metric are the ones stats calls unweighed, and the converter
    says it left them out;
  * with --weight samples, each path's total is its number of samples;
  * per category path and stack, the number of samples equals that of the
    flame_prof perf text of the same run (same frames, same order).

    python3 -m pytest -q -c Tests/reference/pytest.ini Tests/reference/test_speedscope.py
"""
import copy
import json
import os
import re
import subprocess
import sys

import jsonschema
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

# flameconv is that module's fixture: imported, pytest finds it here by name.
from test_flameconv_output import flameconv, capture_names, blocks, CAPTURES  # noqa: E402,F401
from readers import speedscope_json as ssj  # noqa: E402

SCHEMA_PATH = os.path.join(HERE, "testdata", "speedscope-file.schema.json")

CHOICES = [
    ["--category", "status"],
    ["--category", "status", "--speedscope-by", "process"],
    ["--category", "registered_name", "--category", "status", "--weight", "reductions_delta"],
    ["--category", "bucket(memory,log2)", "--category", "status", "--weight", "memory_delta"],
    ["--category", "initial_call", "--weight", "memory_delta", "--speedscope-by", "process"],
    ["--category", "status", "--category", "pid", "--weight", "reductions_per_second"],
    ["--category", "proc_lib_initial_call", "--weight", "total_heap_size_bytes", "--speedscope-by", "process"],
]
CHOICE_IDS = [" ".join(c) for c in CHOICES]

NAMES = capture_names()
MERGED = "merged"
TARGETS = NAMES + ([MERGED] if len(NAMES) > 1 else [])

pytestmark = pytest.mark.skipif(not NAMES, reason="no Fixtures/captures")


@pytest.fixture(scope="module")
def schema():
    with open(SCHEMA_PATH) as f:
        s = json.load(f)
    jsonschema.Draft7Validator.check_schema(s)
    return s


def inputs_of(target):
    names = NAMES if target == MERGED else [target]
    return [os.path.join(CAPTURES, n) for n in names]


def option(choice, name, default):
    return choice[choice.index(name) + 1] if name in choice else default


def levels_of(choice):
    return [v for k, v in zip(choice, choice[1:]) if k == "--category"]


def convert(flameconv, tmp_path, target, choice):
    out = str(tmp_path / "out.speedscope.json")
    p = subprocess.run([flameconv, "convert"] + choice + inputs_of(target) + ["-o", out],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    with open(out, "rb") as f:
        raw = f.read()
    return json.loads(raw.decode("utf-8")), p.stderr


def shared_options(choice):
    """The choice without --speedscope-by, for the other commands and formats."""
    out = list(choice)
    if "--speedscope-by" in out:
        i = out.index("--speedscope-by")
        del out[i:i + 2]
    return out


def stats_categories(flameconv, target, choice):
    """{path: (samples weighed, signed weight)} and unweighed samples, over every capture of the run."""
    p = subprocess.run([flameconv, "stats", "--json"] + shared_options(choice) + inputs_of(target),
                       capture_output=True, text=True, check=True)
    totals, unweighed = {}, 0
    for cap in json.loads(p.stdout)["captures"]:
        for c in cap["categories"]:
            samples, weight = totals.get(tuple(c["path"]), (0, 0))
            totals[tuple(c["path"])] = (samples + c["samples"] - c["unweighed"], weight + c["weight"])
            unweighed += c["unweighed"]
    return totals, unweighed


def nonzero(d):
    return {k: v for k, v in d.items() if v != 0}


def category_view(group, levels, by_process):
    """{category path: (positive total, negative total)} from what the importer read."""
    view = {}
    for profile in group["profiles"]:
        for names, weight in profile["stacks"].items():
            negative = names[:1] == ("negative",)
            rest = names[1:] if negative else names
            if by_process:
                path = tuple(rest[:levels])
            else:
                path = (profile["name"],) + tuple(rest[:levels - 1])
            pos, neg = view.get(path, (0, 0))
            view[path] = (pos, neg + weight) if negative else (pos + weight, neg)
    return view


@pytest.mark.parametrize("choice", CHOICES, ids=CHOICE_IDS)
@pytest.mark.parametrize("target", TARGETS)
def test_speedscope_file(flameconv, schema, tmp_path, target, choice):
    parsed, stderr = convert(flameconv, tmp_path, target, choice)
    jsonschema.validate(parsed, schema)
    assert parsed["exporter"].startswith("flameconv@")
    group = ssj.read(parsed)
    by_process = option(choice, "--speedscope-by", "category") == "process"
    levels = levels_of(choice)
    weight = option(choice, "--weight", "samples")
    assert group["profiles"], "no profile"
    assert 0 <= group["index_to_view"] < len(group["profiles"])

    totals, unweighed = stats_categories(flameconv, target, choice)
    metric = re.sub(r"_delta$", "", weight)
    if unweighed:
        assert "skipped %d samples: missing %s" % (unweighed, metric) in stderr
    else:
        assert "skipped" not in stderr

    # The importer drops zero weights, so paths whose weights are all zero are absent: compare non-zero sums.
    view = category_view(group, len(levels), by_process)
    assert nonzero({path: pos - neg for path, (pos, neg) in view.items()}) == nonzero({path: w for path, (_, w) in totals.items()})
    if weight == "samples":
        assert {path: pos for path, (pos, _) in view.items()} == nonzero({path: s for path, (s, _) in totals.items()})
    assert sum(len(p["time_order"]) for p in group["profiles"]) > 0

    unit = "bytes" if weight.startswith("memory") or weight.endswith("_bytes") else "none"
    names = [p["name"] for p in group["profiles"]]
    assert len(set(names)) == len(names)
    for profile in group["profiles"]:
        assert profile["unit"] == unit
        assert profile["total_weight"] == sum(profile["stacks"].values())
        if by_process:
            assert re.match(r"^<0\.\d+\.\d+>( .+)?$", profile["name"]), profile["name"]
    if not by_process:
        # One profile per first-level label with a weighed sample, in order of first sample.
        assert set(names) == {path[0] for path, (s, _) in totals.items() if s > 0}
    else:
        assert len(names) == len({n.split(" ", 1)[0] for n in names})


def perf_stacks(flameconv, tmp_path, target, choice):
    """{(comm, category frames..., stack frames...): samples} from the flame_prof perf text."""
    out = str(tmp_path / "out.perf")
    subprocess.run([flameconv, "convert", "--quiet", "--dialect", "flame_prof"] + shared_options(choice) + inputs_of(target) + ["-o", out],
                   check=True)
    with open(out, encoding="utf-8") as f:
        text = f.read()
    stacks = {}
    for event, frames in blocks(text):
        comm = event.split("\t", 1)[0]
        names = []
        for text in reversed(frames):
            if text.endswith(" (category)"):
                names.append(text[:-len(" (category)")])
            else:
                name = text.rpartition(" (")[0] if text.endswith(")") and " (" in text else text
                names.append(re.sub(r";(\d+)$", r":\1", name))
        key = (comm,) + tuple(names)
        stacks[key] = stacks.get(key, 0) + 1
    return stacks


@pytest.mark.parametrize("target", TARGETS)
def test_speedscope_stacks_match_perf(flameconv, tmp_path, target):
    """Per category and stack, the samples agree with the perf text: same
    frames, same order, same counts."""
    choice = ["--category", "status", "--category", "registered_name"]
    parsed, _ = convert(flameconv, tmp_path, target, choice)
    group = ssj.read(parsed)
    got = {}
    for profile in group["profiles"]:
        for names, weight in profile["stacks"].items():
            key = (profile["name"],) + names
            got[key] = got.get(key, 0) + weight
    assert got == perf_stacks(flameconv, tmp_path, target, choice)


def test_schema_and_reader_refuse_what_speedscope_refuses(flameconv, schema, tmp_path):
    """The checks above can fail: broken copies of a real file."""
    parsed, _ = convert(flameconv, tmp_path, NAMES[0], ["--category", "status"])
    jsonschema.validate(parsed, schema)
    ssj.read(parsed)

    def broken(change):
        copy_ = copy.deepcopy(parsed)
        change(copy_)
        return copy_

    for bad in (broken(lambda d: d["profiles"][0].pop("weights")),
                broken(lambda d: d["profiles"][0].update(unit="words")),
                broken(lambda d: d["profiles"][0]["samples"][0].append(-1)),
                broken(lambda d: d.update({"$schema": "x"}))):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)
    for bad in (broken(lambda d: d["profiles"][0]["weights"].append(1)),
                broken(lambda d: d["profiles"][0]["weights"].__setitem__(0, -1)),
                broken(lambda d: d["profiles"][0]["samples"][0].append(len(d["shared"]["frames"])))):
        with pytest.raises(ssj.ReaderFailure):
            ssj.read(bad)


def test_reader_mirror_rules():
    frames = [{"name": "a"}, {"name": "b"}, {"name": "a"}]
    group = ssj.read({"$schema": ssj.SCHEMA_URL, "shared": {"frames": frames}, "profiles": [
        {"type": "sampled", "name": "p", "unit": "none", "startValue": 0, "endValue": 100,
         "samples": [[0, 1], [0, 1], [0], [2, 1], [0, 1]], "weights": [1, 2, 0, 4, 8]}]})
    (profile,) = group["profiles"]
    assert group["name"] == "p" and group["index_to_view"] == 0
    # Index 2 is another frame than index 0, even with the same name.
    assert profile["by_index"] == {(0, 1): 11, (2, 1): 4}
    assert profile["stacks"] == {("a", "b"): 15}
    # Zero weights are dropped; equal neighbours merge in the time order.
    assert profile["time_order"] == [((0, 1), 3), ((2, 1), 4), ((0, 1), 8)]
    assert profile["total_weight"] == 100
    with pytest.raises(ssj.ReaderFailure):
        ssj.read({"shared": {"frames": []}, "profiles": []})
    assert ssj.is_speedscope("x.speedscope.json", "")
    assert ssj.is_speedscope("x.json", json.dumps({"$schema": ssj.SCHEMA_URL}))
    assert not ssj.is_speedscope("x.json", "{}")
