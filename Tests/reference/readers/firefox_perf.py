"""Mirror of the Firefox Profiler's "perf script" importer.

Source (behaviour mirrored in my own code, nothing copied):
  github.com/firefox-devtools/profiler @ df31314e16bf32fd3a6dd0d61806a80dbb8a99f5,
  src/profile-logic/import/linux-perf.ts (was linux-perf.js):
  isPerfScriptFormat, convertPerfScriptProfile; the format sniffing in
  src/profile-logic/process-profile.ts and isFlameGraphFormat in
  src/profile-logic/import/flame-graph.ts.

The patterns, in my words (JavaScript: '.' stops at '\\r' '\\n' U+2028
U+2029, \\d \\w \\b are ASCII):

* DETECTION looks at the FIRST LINE only (unless the text starts with the
  perf header line "# ========"): a non-space, as few characters as
  possible, whitespace, optional "digits/", digits, whitespace, optional
  "[digits]" and whitespace, digits/dots, ':'. flame_prof's first line does
  not fit (TAB + dotted pid), so the file is not taken as perf at all; its
  first line does contain " <digits>", which is what the collapsed-stack
  ("flame graph") detector wants, so it is read as THAT format instead.
  A text with no '\\n' has an empty first line.
* SAMPLE START (any line that is not '' and not starting '#'): everything
  up to the LAST "whitespace, digits/dots, ':'" is "before", the digits the
  time (parseFloat: the longest numeric prefix, x1000 -> milliseconds).
  Then in "before": everything up to the LAST "whitespace, optional
  'digits/', digits, word boundary" is the thread name (trimmed); the
  numbers are pid (0 when absent) and tid. Metric text after the event is
  harmless unless it holds "<whitespace><digits>:" (that would become the
  time).
* FRAMES: following lines until one that is empty after trim (a line of
  spaces or a TAB also ends the sample). Pattern: optional whitespace, a
  word, optional whitespace, the function (as long as possible), " (",
  a module with no ')', ")". "+0x<hex>" at the end of the function is
  removed; a function starting with '(' is DROPPED; a non-empty module is
  appended as " (in MODULE)". A sample whose stack ends up empty is
  dropped. Without a blank line between samples the next event line is
  swallowed as a (non-matching) frame line.
* Threads are keyed by tid ALONE: a thread gets the pid of its first
  sample, and its name is the name of its latest sample in file order
  (every sample renames it), so when one tid carries samples of several
  comms, all of them show under the last comm. Samples are sorted by time
  per thread. pid and tid are JavaScript numbers (Number(...)): exact below
  2^53. The profiler then groups threads into one process track per pid
  (none is a main thread: that needs the name "GeckoMain"; see
  computeGlobalTracks in src/profile-logic/tracks.ts).
"""
import re

_DOT = "[^\\n\\r\\u2028\\u2029]"
DETECT_RE = re.compile(r"^\S" + _DOT + r"*?\s+(?:[0-9]+/)?[0-9]+\s+(?:\[[0-9]+\]\s+)?[0-9.]+:")
FLAMEGRAPH_RE = re.compile(r"[^;]*(?:;[^;]*)* [0-9]+")
START_RE = re.compile(r"^(" + _DOT + r"*)\s+([0-9.]+):")
THREAD_RE = re.compile(r"^(" + _DOT + r"*)\s+(?:([0-9]+)/)?([0-9]+)(?![A-Za-z0-9_])")
FRAME_RE = re.compile(r"^\s*([A-Za-z0-9_]+)\s*(" + _DOT + r"+) \(([^)]*)\)")
OFFSET_RE = re.compile(r"\+0x[0-9a-f]+\Z")
PARSEFLOAT_RE = re.compile(r"^[0-9]*\.?[0-9]*")

__all__ = ["detect", "is_perf_script_format", "parse", "threads", "misplaced"]


def _first_line(text):
    i = text.find("\n")
    return text[:i] if i >= 0 else ""


def is_perf_script_format(text):
    if text.startswith("# ========\n"):
        return True
    if text.startswith("{"):
        return False
    return DETECT_RE.search(_first_line(text)) is not None


def detect(text):
    """'perf', 'flamegraph' (collapsed stacks) or 'json', in the order the
    profiler tries them for a text file."""
    if is_perf_script_format(text):
        return "perf"
    if not text.startswith("{") and FLAMEGRAPH_RE.search(_first_line(text)):
        return "flamegraph"
    return "json"


def _parse_float(s):
    m = PARSEFLOAT_RE.match(s).group(0)
    if m in ("", "."):
        return float("nan")
    return float(m)


def _js_trim(s):
    return s.strip(" \t\n\r\v\f\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
                   "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff")


def parse(text):
    """Samples convertPerfScriptProfile keeps, in file order (call it even
    when detect() says otherwise, to see what the converter would do):
    {comm (thread name of this line), category, pid, tid, time (ms),
     stack [names] outermost first ('fn (in module)'), metrics {}}."""
    lines = text.split("\n")
    out = []
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if line == "" or line.startswith("#"):
            continue
        m = START_RE.search(line)
        if not m:
            continue
        before, ts = m.group(1), _parse_float(m.group(2)) * 1000
        t = THREAD_RE.search(before)
        if not t:
            continue
        name = _js_trim(t.group(1))
        pid = int(t.group(2) or 0)
        tid = int(t.group(3) or 0)
        stack = []
        while i < len(lines):
            fl = lines[i]
            i += 1
            if _js_trim(fl) == "":
                break
            f = FRAME_RE.search(fl)
            if f:
                fn = OFFSET_RE.sub("", f.group(2), count=1)
                mod = f.group(3)
                if fn.startswith("("):
                    continue
                if mod:
                    fn += " (in %s)" % mod
                stack.append(fn)
        if stack:
            stack.reverse()
            out.append({"comm": name, "category": name, "pid": pid, "tid": tid,
                        "time": ts, "stack": stack, "metrics": {}})
    return out


def threads(text):
    """{tid: {'name': last sample's name, 'pid': first pid, 'samples':
    [(time ms, stack)] sorted by time}} as the converter builds them."""
    th = {}
    for ev in parse(text):
        t = th.setdefault(ev["tid"], {"name": ev["comm"], "pid": ev["pid"], "samples": []})
        t["name"] = ev["comm"]
        t["samples"].append((ev["time"], tuple(ev["stack"])))
    for t in th.values():
        t["samples"].sort(key=lambda s: s[0])
    return th


def misplaced(text):
    """The samples shown in a thread named after another comm than their
    own: [(tid, the sample's comm, the thread's name)], file order."""
    th = threads(text)
    return [(ev["tid"], ev["comm"], th[ev["tid"]]["name"])
            for ev in parse(text) if th[ev["tid"]]["name"] != ev["comm"]]
