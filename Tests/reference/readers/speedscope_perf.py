"""Mirror of speedscope's "perf script" importer.

Source (behaviour mirrored in my own code, nothing copied):
  github.com/jlfwong/speedscope @ 3613918de0dd55a263d0d04f85b0c8c2039c7bee,
  src/import/linux-tools-perf.ts (parseEvents, parseEvent,
  importFromLinuxPerf), src/lib/profile.ts (appendSampleWithTimestamp),
  src/import/utils.ts (splitLines: split at '\\n' only).

The patterns, in my words (JavaScript: '.' does not match '\\r', '\\n',
U+2028, U+2029; \\d and \\w are ASCII; '$' is the end of the string):

* Samples are the runs of lines between EMPTY lines ('' exactly; a line
  holding a TAB or '\\r' is not empty). Lines starting with optional
  whitespace and '#' are dropped first.
* START of the first line: a non-space, then as few characters as possible
  (the command), whitespace, digits, optionally ('/' optional, then digits),
  whitespace. Without the second number the first is the thread id and
  there is no pid; with it they are pid and tid. Like stackcollapse, the
  shortest command wins, so flame_prof's "status<TAB>0.85.0 [000] ..." only
  fits at the first "<space>digits<whitespace>" later in the line.
* TIME: the first "whitespace digits '.' digits ':' whitespace" anywhere in
  the line (a time without a decimal point is not found; the sample is then
  dropped).
* EVENT TYPE: the last non-space run before a ':' that ends the line
  (only whitespace after it). Text after "cpu-clock:" gives no event type
  (''). The first accepted sample fixes the event type; later samples with
  another one are DROPPED -- so either every event line ends with
  "cpu-clock:" or none does.
* FRAME: optional whitespace, a word (address), optional whitespace, the
  symbol (as long as possible), " (", a file with NO whitespace, ")" -- not
  anchored at the end; a trailing "+0x<hex>" is removed from the symbol.
  A file with a space makes the frame line fit an earlier " (...)" or
  vanish. Names starting with '(' are kept.
* Profiles are keyed by "command pid: P tid: T" (pid/tid only when non-zero
  and present). Within one profile a time earlier than the one before it
  throws "Timestamps received out of order". Weights are time based: each
  sample weighs the time between the midpoints to its neighbours.
"""
import re

_DOT = "[^\\n\\r\\u2028\\u2029]"
COMMENT_RE = re.compile(r"^\s*#")
START_RE = re.compile(r"^(\S" + _DOT + r"+?)\s+([0-9]+)(?:/?([0-9]+))?\s+")
TIME_RE = re.compile(r"\s+([0-9]+\.[0-9]+):\s+")
EVTYPE_RE = re.compile(r"(\S+):\s*\Z")
FRAME_RE = re.compile(r"^\s*([A-Za-z0-9_]+)\s*(" + _DOT + r"+) \((\S*)\)")
OFFSET_RE = re.compile(r"\+0x[0-9a-f]+\Z")

__all__ = ["parse", "parse_events", "profiles", "ReaderFailure"]


class ReaderFailure(Exception):
    """speedscope would throw on this input."""


def _parse_event(raw):
    lines = [l for l in raw if not COMMENT_RE.search(l)]
    if not lines or not lines[0]:
        return None
    first = lines[0]
    m = START_RE.search(first)
    if not m:
        return None
    ev = {"comm": m.group(1), "pid": None, "tid": None, "time": None,
          "event_type": "", "frames": [], "metrics": {}}
    if m.group(3):
        ev["pid"] = int(m.group(2))
        ev["tid"] = int(m.group(3))
    else:
        ev["tid"] = int(m.group(2))
    t = TIME_RE.search(first)
    if t:
        ev["time"] = float(t.group(1))
    e = EVTYPE_RE.search(first)
    if e:
        ev["event_type"] = e.group(1)
    for line in lines[1:]:
        f = FRAME_RE.search(line)
        if not f:
            continue
        sym = OFFSET_RE.sub("", f.group(2), count=1)
        ev["frames"].append((sym, f.group(3)))
    ev["frames"].reverse()
    return ev


def parse_events(text):
    """Every sample parseEvent returns (None ones removed), file order."""
    out = []
    buf = []
    for line in text.split("\n"):
        if line == "":
            ev = _parse_event(buf)
            if ev is not None:
                out.append(ev)
            buf = []
        else:
            buf.append(line)
    if buf:
        ev = _parse_event(buf)
        if ev is not None:
            out.append(ev)
    return out


def _profile_name(ev):
    parts = []
    if ev["comm"]:
        parts.append(ev["comm"])
    if ev["pid"]:
        parts.append("pid: %d" % ev["pid"])
    if ev["tid"]:
        parts.append("tid: %d" % ev["tid"])
    return " ".join(parts)


def parse(text):
    """The samples importFromLinuxPerf keeps, in file order:
    {comm, category (= comm), pid, tid, time (s), event_type, profile,
     frames [(symbol, file)] outermost first, stack [names] outermost
     first ('[unknown]' shown as '??? (file)')}. Raises ReaderFailure on
    out-of-order times within a profile."""
    kept = []
    event_type = None
    last = {}
    for ev in parse_events(text):
        if event_type is not None and event_type != ev["event_type"]:
            continue
        if ev["time"] is None:
            continue
        event_type = ev["event_type"]
        name = _profile_name(ev)
        if name in last and ev["time"] < last[name]:
            raise ReaderFailure("Timestamps received out of order (profile %r: %r after %r)"
                                % (name, ev["time"], last[name]))
        last[name] = ev["time"]
        ev["profile"] = name
        ev["category"] = ev["comm"]
        ev["stack"] = [("??? (%s)" % f) if s == "[unknown]" else s for s, f in ev["frames"]]
        kept.append(ev)
    return kept


def profiles(text):
    """{profile name: [(stack tuple, weight)]} with speedscope's time-based
    weights (a lone sample in a profile weighs 1)."""
    by = {}
    for ev in parse(text):
        by.setdefault(ev["profile"], []).append(ev)
    out = {}
    for name, evs in by.items():
        ws = []
        if len(evs) == 1:
            ws.append((tuple(evs[0]["stack"]), 1.0))
        else:
            start = evs[0]["time"]
            for a, b in zip(evs, evs[1:]):
                mid = (a["time"] + b["time"]) / 2
                ws.append((tuple(a["stack"]), mid - start))
                start = mid
            ws.append((tuple(evs[-1]["stack"]), evs[-1]["time"] - start))
        out[name] = ws
    return out
