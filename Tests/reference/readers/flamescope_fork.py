"""Mirror of the FlameScope fork flame_prof was made for.

Source (behaviour mirrored in my own code, nothing copied):
  github.com/ebegumisa/flamescope, branch master_mo,
  commit 476349953ab1707db1dbba11198d9c1c901a7e72,
  app/perf/regexp.py, app/perf/heatmap.py, app/perf/flame_graph.py,
  app/controllers/heatmap.py, app/common/fileutil.py.
Everything Netflix FlameScope does (see _flamescope_common) plus metrics.

The METRIC pattern, in my words: at a word boundary, "metric_", then a name
of one or more characters that are not ':' (spaces and TABs included, so a
broken pair can swallow the text up to the next colon), ':', exactly ONE
space or TAB, an optional '-' and a run of digits/dots (VALUE), any spaces/
TABs, ',', any spaces/TABs, an optional '-' and a run of digits/dots
(DELTA), then a word boundary. All matches on the event line are used;
the reader converts VALUE and DELTA with int(), so "1.5" passes the pattern
and then crashes the reader. Two spaces after the colon, or a '+' sign,
make the pair invisible.

Scalings offered: "samples" (1 per event), NAME (VALUE) and NAME_delta
(DELTA), for the heatmap and the flame graph.

Quirks reproduced:
* heatmap with all metrics (which=None): an event line without a metric
  simply contributes nothing to that metric's heatmap.
* flame graph scaled by a metric: the coefficient is only assigned when the
  event line carries that metric (the reset is misspelt "ceoff" in the
  source), so a line lacking it silently reuses the previous line's value.
  A negative coefficient goes into a separate "negative" tree as -coeff.
* flame graph range from _flamescope_common.profile_range (fails on one
  sample and on strictly decreasing times).
* heatmap grid: start is the smallest time but end is the LAST event's
  time; the grid fails when any time reaches ceil(end) (a last time exactly
  on a whole second, or events not in time order).
"""
import re

from ._flamescope_common import (
    EVENT_RE, FRAME_RE, COMM_RE, IDLE_RE, ReaderFailure, lines_of, is_perf_file,
    library_type, cut_name, split_frames, tree_path, profile_range, heatmap_grid)

METRIC_RE = re.compile(r"\bmetric_([^:]+):[\t ](-?[0-9.]+)[\t ]*,[\t ]*(-?[0-9.]+)\b")

__all__ = ["parse", "heatmap", "flame_graph", "is_perf_file", "ReaderFailure",
           "METRIC_RE"]


def _int(s, line):
    try:
        return int(s)
    except ValueError:
        raise ReaderFailure("int(%r) fails on metric in line %r" % (s, line.rstrip("\n")))


def metric_pairs(line):
    """[(name, value, delta)] in line order, as the reader converts them."""
    return [(k, _int(v, line), _int(d, line)) for (k, v, d) in METRIC_RE.findall(line)]


def parse(text):
    """Events as the flame-graph pass reads them, in file order.

    event = {category, comm, pid (None: not parsed), tid (None), time,
             metrics {name: (value, delta)} (a repeated name: last one),
             metric_list [(name, value, delta)], frames [(name, lib)]
             outermost first, stack [names] root (comm) first as the
             flame graph tree sees it, idle (bool: dropped by the reader)}.
    """
    events = []
    cur = None
    stack = []
    for line in lines_of(text):
        if line[0] == '#':
            continue
        r = EVENT_RE.search(line) if line[0] != '\t' else None
        if r:
            if cur is not None:
                _close(cur, stack, events)
            elif stack:
                # frame lines before the first event: the reader puts them
                # in a stack with no event (time -1); keep that visible
                _close({"category": "", "comm": "", "pid": None, "tid": None,
                        "time": -1.0, "metrics": {}, "metric_list": []}, stack, events)
            ml = metric_pairs(line)
            c = COMM_RE.search(line)
            comm = c.group(1).rstrip() if c else ""
            root = comm if c else "<unknown>"
            cur = {"category": root, "comm": comm, "pid": None, "tid": None,
                   "time": float(r.group(1)),
                   "metrics": {k: (v, d) for k, v, d in ml}, "metric_list": ml}
            stack = [[root, ""]]
        else:
            f = FRAME_RE.search(line)
            if f:
                stack.insert(1, [cut_name(f.group(1)), f.group(2)])
    if cur is not None:
        _close(cur, stack, events)
    return events


def _close(ev, stack, events):
    ev["frames"] = [tuple(p) for p in stack[1:]]
    ev["stack"] = split_frames(stack, ev["comm"])
    ev["idle"] = IDLE_RE.search("".join(p[0] + ";" for p in stack)) is not None
    events.append(ev)


def heatmap_offsets(text, which=None):
    """app/perf/heatmap.perf_read_offsets: (start, end, [(ts, coeffs)])."""
    start = float("+inf")
    end = float("-inf")
    offsets = []
    stack = ""
    ts = -1
    coeffs = []
    for line in lines_of(text):
        if line[0] == '#':
            continue
        r = EVENT_RE.search(line)
        if r:
            if stack != "":
                if not IDLE_RE.search(stack):
                    offsets.append((ts, coeffs))
                stack = ""
            ts = float(r.group(1))
            if ts < start:
                start = ts
            coeffs = [("samples", 1)]
            if not which:
                for k, v, d in metric_pairs(line):
                    coeffs.append((k + "_delta", d))
                    coeffs.append((k, v))
            elif which != "samples":
                for k, v, d in METRIC_RE.findall(line):
                    if k == which:
                        coeffs.append((k + "_delta", _int(d, line)))
                        coeffs.append((k, _int(v, line)))
                        break
            stack = line.rstrip()
        else:
            stack += line.rstrip()
    if not IDLE_RE.search(stack):
        offsets.append((ts, coeffs))
    if ts > end:
        end = ts
    return start, end, offsets


def heatmap(text, which=None, rows=50):
    """{scaling: {(col, row): summed coefficient}}; raises ReaderFailure
    where the reader's grid would fail."""
    start, end, offsets = heatmap_offsets(text, which)
    _cols, cells = heatmap_grid(start, end, [ts for ts, _ in offsets], rows)
    maps = {}
    for (ts, coeffs), cell in zip(offsets, cells):
        for name, coeff in coeffs:
            m = maps.setdefault(name, {})
            m[cell] = m.get(cell, 0) + coeff
    return maps


def flame_graph(text, which="samples", range_start=None, range_end=None):
    """perf_generate_flame_graph: returns {'positive': {path: value},
    'negative': {path: value}} where path is the tuple of (name, library
    type) nodes from the comm down, and value the coefficient added there.
    Raises ReaderFailure where the reader fails."""
    start, end = profile_range(text)
    if range_end:
        if start + range_end > end:
            raise ReaderFailure("flame graph: bad range (416)")
        end = start + range_end
    if range_start:
        start = start + range_start
    if start > end:
        raise ReaderFailure("flame graph: bad range (416)")
    trees = {"positive": {}, "negative": {}}
    overscan = 0.1
    coeff = 0
    ts = -1
    comm = ""
    stack = []

    def add(stack, comm, coeff):
        if not stack:
            return
        key = "negative" if coeff < 0 else "positive"
        path = tree_path(stack, comm)
        t = trees[key]
        t[path] = t.get(path, 0) + abs(coeff)

    for line in lines_of(text):
        if line[0] == '#':
            continue
        r = EVENT_RE.search(line) if line[0] != '\t' else None
        if r:
            if stack:
                if IDLE_RE.search("".join(p[0] + ";" for p in stack)):
                    stack = []
                elif start <= ts <= end:
                    add(stack, comm, coeff)
                stack = []
            ts = float(r.group(1))
            if ts > end + overscan:
                break
            if which == "samples":
                coeff = 1
            else:
                for k, v, d in METRIC_RE.findall(line):
                    if k == which:
                        coeff = _int(v, line)
                    elif k + "_delta" == which:
                        coeff = _int(d, line)
            c = COMM_RE.search(line)
            if c:
                comm = c.group(1).rstrip()
                stack.append([comm, ""])
            else:
                stack.append(["<unknown>", ""])
        else:
            f = FRAME_RE.search(line)
            if f:
                stack.insert(1, [cut_name(f.group(1)), f.group(2)])
    if start <= ts <= end:
        add(stack, comm, coeff)
    return trees


def scalings(events):
    """The scalings the fork offers for these events: samples, and NAME /
    NAME_delta for every metric name seen."""
    names = set()
    for e in events:
        names.update(e["metrics"].keys())
    out = ["samples"]
    for n in sorted(names):
        out += [n, n + "_delta"]
    return out
