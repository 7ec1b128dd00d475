"""Mirror of Netflix FlameScope's perf-script reader.

Source (behaviour mirrored in my own code, nothing copied):
  github.com/Netflix/flamescope @ be26595f1395c32eef71c88a06cb9c8c87f270c2,
  app/perf/regexp.py, app/perf/heatmap.py, app/perf/flame_graph.py,
  app/controllers/heatmap.py, app/common/fileutil.py.

The event, frame, comm and idle patterns (explained in _flamescope_common)
are the same as the fork's; Netflix has no metric pattern: every sample
counts 1, and metric text on the event line is ignored (it only has to
leave the EVENT pattern's first match on the real time, and contain no
digit before the pid if the comm is to stay intact).

Quirks reproduced: comm = text before the first digit (a digit in a
category name cuts it; '<' of a pid lands in the root frame); only lines
not starting with TAB are tested as events in the flame-graph pass;
frame names cut at the first '+' (not at position 0) and split at '->';
a blank first line makes the file not perf; a single sample or strictly
decreasing times break the flame graph range; a last time on a whole second
or out-of-order times break the heatmap grid.
"""
from ._flamescope_common import (
    EVENT_RE, FRAME_RE, COMM_RE, IDLE_RE, ReaderFailure, lines_of, is_perf_file,
    cut_name, split_frames, tree_path, profile_range, heatmap_grid)

__all__ = ["parse", "heatmap", "flame_graph", "is_perf_file", "ReaderFailure"]


def parse(text):
    """Events as the flame-graph pass reads them, in file order:
    {category, comm, pid None, tid None, time, metrics {} (not read),
     frames [(name, lib)] outermost first, stack [names] comm first, idle}."""
    events = []
    cur = None
    stack = []

    def close():
        cur["frames"] = [tuple(p) for p in stack[1:]]
        cur["stack"] = split_frames(stack, cur["comm"])
        cur["idle"] = IDLE_RE.search("".join(p[0] + ";" for p in stack)) is not None
        events.append(cur)

    for line in lines_of(text):
        if line[0] == '#':
            continue
        r = EVENT_RE.search(line) if line[0] != '\t' else None
        if r:
            if cur is not None:
                close()
            c = COMM_RE.search(line)
            comm = c.group(1).rstrip() if c else ""
            root = comm if c else "<unknown>"
            cur = {"category": root, "comm": comm, "pid": None, "tid": None,
                   "time": float(r.group(1)), "metrics": {}}
            stack = [[root, ""]]
        else:
            f = FRAME_RE.search(line)
            if f:
                stack.insert(1, [cut_name(f.group(1)), f.group(2)])
    if cur is not None:
        close()
    return events


def heatmap_offsets(text):
    """app/perf/heatmap.perf_read_offsets: (start, end, [ts])."""
    start = float("+inf")
    end = float("-inf")
    offsets = []
    stack = ""
    ts = -1
    for line in lines_of(text):
        if line[0] == '#':
            continue
        r = EVENT_RE.search(line)
        if r:
            if stack != "":
                if not IDLE_RE.search(stack):
                    offsets.append(ts)
                stack = ""
            ts = float(r.group(1))
            if ts < start:
                start = ts
            stack = line.rstrip()
        else:
            stack += line.rstrip()
    if not IDLE_RE.search(stack):
        offsets.append(ts)
    if ts > end:
        end = ts
    return start, end, offsets


def heatmap(text, rows=50):
    """{(col, row): count}; raises ReaderFailure where the reader fails."""
    start, end, offsets = heatmap_offsets(text)
    _cols, cells = heatmap_grid(start, end, offsets, rows)
    out = {}
    for cell in cells:
        out[cell] = out.get(cell, 0) + 1
    return out


def flame_graph(text, range_start=None, range_end=None):
    """{path: samples} with path the tuple of (name, library type) nodes from
    the comm down. Raises ReaderFailure where the reader fails."""
    start, end = profile_range(text)
    if range_end:
        if start + range_end > end:
            raise ReaderFailure("flame graph: bad range (416)")
        end = start + range_end
    if range_start:
        start = start + range_start
    if start > end:
        raise ReaderFailure("flame graph: bad range (416)")
    tree = {}
    ts = -1
    comm = ""
    stack = []

    def add(stack, comm):
        if stack:
            p = tree_path(stack, comm)
            tree[p] = tree.get(p, 0) + 1

    for line in lines_of(text):
        if line[0] == '#':
            continue
        r = EVENT_RE.search(line) if line[0] != '\t' else None
        if r:
            if stack:
                if IDLE_RE.search("".join(p[0] + ";" for p in stack)):
                    pass
                elif start <= ts <= end:
                    add(stack, comm)
                stack = []
            ts = float(r.group(1))
            if ts > end + 0.1:
                break
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
        add(stack, comm)
    return tree
