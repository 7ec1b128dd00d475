"""Behaviour shared by Netflix FlameScope and the ebegumisa fork (master_mo).

Mirrored (behaviour only, own code) from:
  Netflix/flamescope @ be26595f1395c32eef71c88a06cb9c8c87f270c2
  ebegumisa/flamescope branch master_mo @ 476349953ab1707db1dbba11198d9c1c901a7e72
  files app/perf/regexp.py, app/perf/heatmap.py, app/perf/flame_graph.py,
        app/common/fileutil.py (file-type sniffing), app/common/libtype.py,
        app/controllers/heatmap.py (heatmap grid)
The event / frame / comm patterns are the same in both.

What the patterns mean, in my words:

* EVENT: searched anywhere in a line: one or more spaces, then a run of
  digits and dots (the time, taken with float()), then ": ", then the
  shortest run of at least one character up to the next ":". Only a space
  (not a TAB) may precede the time. The first place this fits in the line
  wins, so an earlier " 12: x:" in the comm would be taken as the time.
* FRAME: whole line: optional spaces/TABs, a hex address, exactly one space,
  a name (as long as possible), one space, "(", the shortest text, ")" at
  the end of the line. The name is what lies before the *last* " (...)"
  group; the library is inside it.
* COMM: from the start of the line, optional spaces, then everything up to
  the first digit (then right-stripped). A line that starts with a digit
  has no comm and the root frame becomes "<unknown>".
* IDLE: a sample is dropped when its text contains "swapper" followed later
  by one of a few kernel idle function names.

Line handling: lines are read from a text file, each keeping its "\\n";
lines starting with '#' are skipped. The flame-graph pass only looks for an
event on lines that do not start with a TAB; the heatmap pass looks on every
line. Frame names are cut at the first '+' (unless it is the first
character) and split at '->' into several frames; for comm "java" a leading
'L' is removed from each name.
"""
import math
import re

EVENT_RE = re.compile(r" +([0-9.]+): .+?:")
FRAME_RE = re.compile(r"^[\t ]*[0-9a-fA-F]+ (.+) \((.*?)\)$")
COMM_RE = re.compile(r"^ *([^0-9]+)")
IDLE_RE = re.compile(
    r"swapper.*(cpuidle|cpu_idle|cpu_bringup_and_idle|native_safe_halt|"
    r"xen_hypercall_sched_op|xen_hypercall_vcpu_op)")


class ReaderFailure(Exception):
    """The real reader would fail (exception / HTTP error) on this input."""


def lines_of(text):
    """Lines as Python's text-mode file iteration gives them (keeping '\\n').

    Universal newlines: '\\r\\n' and '\\r' become '\\n' when FlameScope
    opens the file with open(path, 'r')."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.splitlines(keepends=True)


def is_perf_file(text):
    """fileutil._is_perf_file: only the first line that is not a '#'
    comment is looked at; it must contain an event. (A blank first line
    makes the file 'trace_event' instead of 'perf'.)"""
    for line in lines_of(text):
        if line[0] == '#':
            continue
        return EVENT_RE.search(line) is not None
    return False


def library_type(lib):
    if lib == "":
        return ""
    if lib.startswith("/tmp/perf-"):
        return "jit"
    if lib.startswith("["):
        return "kernel"
    if lib.find("vmlinux") > 0:
        return "kernel"
    return "user"


def cut_name(name):
    c = name.find("+")
    return name[:c] if c > 0 else name


def split_frames(stack, comm):
    """The names a stack becomes in the flame graph tree (root first):
    each [name, lib] pair split at '->', 'L' stripped for java."""
    out = []
    for name, _lib in stack:
        for part in name.split('->'):
            if comm == "java" and part.startswith("L"):
                part = part[1:]
            out.append(part)
    return out


def tree_path(stack, comm):
    """The flame graph tree nodes a stack adds to, root first: (name,
    library type); pieces after a '->' split are typed "inlined"."""
    out = []
    for name, lib in stack:
        for n, part in enumerate(name.split('->')):
            if comm == "java" and part.startswith("L"):
                part = part[1:]
            out.append((part, library_type(lib) if n == 0 else "inlined"))
    return tuple(out)


def profile_range(text):
    """flame_graph._get_profile_range: start is the smallest time; end is
    only raised in an 'elif' after the 'is it a new minimum' test, so an
    event that lowers the minimum never sets it (the first one always
    does). A single event, or every later event being a new minimum
    (strictly decreasing times), leaves end at -inf: floor/ceil then fail."""
    start = float("+inf")
    end = float("-inf")
    for line in lines_of(text):
        if line[0] == '#' or line[0] == '\t':
            continue
        r = EVENT_RE.search(line)
        if r:
            ts = float(r.group(1))
            if ts < start:
                start = ts
            elif ts > end:
                end = ts
    try:
        return math.floor(start), math.ceil(end)
    except (OverflowError, ValueError) as e:
        raise ReaderFailure("flame graph: profile range (%r, %r): %s" % (start, end, e))


def heatmap_grid(start, end, offsets, rows=50):
    """controllers/heatmap.generate_heatmap's cell arithmetic: returns the
    (col, row) of every offset, failing like the reader when a time falls
    outside the grid (e.g. the last time on a whole second, or any time
    past the *last* event's time)."""
    try:
        cols = int(math.ceil(end) - math.floor(start))
    except (OverflowError, ValueError) as e:
        raise ReaderFailure("heatmap: range (%r, %r): %s" % (start, end, e))
    cells = []
    for ts in offsets:
        col = int(math.floor(ts - math.floor(start)))
        row = rows - int(math.floor(rows * (ts % 1))) - 1
        if not (0 <= col < cols) or not (0 <= row < rows):
            # Python lists: a negative index would silently wrap; the reader
            # only crashes for col >= cols. Report both as failures here
            # because a wrapped cell is a wrong heatmap.
            raise ReaderFailure(
                "heatmap: time %r lands in column %d of %d (start %r, end %r)"
                % (ts, col, cols, start, end))
        cells.append((col, row))
    return cols, cells
