"""Mirror of Brendan Gregg's stackcollapse-perf.pl (default options).

Source (behaviour mirrored in my own code, nothing copied):
  github.com/brendangregg/FlameGraph @ 41fee1f99f9276008b7cd112fca19dc3ea84ac32,
  stackcollapse-perf.pl. Defaults: process name included, no pid/tid
  (options include_pid / include_tid here), generic and Java tidying on,
  no annotations, no addr2line inlining, no srcline.

The patterns, in my words (Perl on bytes, so \\d \\w \\s are ASCII):

* EVENT line: from the start, a non-space character and then as few
  characters as possible (the comm), whitespace, digits (pid), any number
  of '/', optionally more digits (tid, repeated group: last repetition),
  whitespace. The comm is the SHORTEST prefix for which the rest fits, so
  "comm PID/TID " is found at once, but with flame_prof's TAB and dotted
  pid ("running<TAB>0.85.0 [000] ...") nothing fits until the first
  "<space>digits<space or TAB>" much later in the line: with metrics on the
  line that is the reductions delta (", 1<TAB>"), and the comm becomes the
  whole line up to there, spaces turned to '_'. Each distinct text is its
  own "process".
  When the tid is missing, empty or the string "0" (Perl false), the pid
  becomes the tid and the pid "?".
* PERIOD/EVENT: ':' optional whitespace, optional digits (period), at least
  one whitespace, a non-space run (event name), ':' and only whitespace to
  the end of the line. Any text after "cpu-clock:" makes this fail; then the
  period is 1 and the event is not filtered. When it fits, the first event
  name seen becomes the filter and lines with another name are skipped. A
  period of "0" counts as 1.
* FRAME line: optional whitespace, a word (the address; any \\w+, not only
  hex), optional whitespace, the name (as long as possible), " (", the
  module (as long as possible), ")" -- not anchored at the end. Then:
  a trailing "+0x<hex>" is removed; a name starting with '(' is DROPPED;
  the name is split at "->" (Perl split: trailing empty pieces vanish), each
  piece: "[unknown]" becomes "[<module basename>]" or "[unknown]"; ';'
  becomes ':'; unless it matches ".(...).", everything from the first '('
  (not "(anonymous namespace)") is removed; '"' and "'" are deleted; for a
  comm starting "java", a leading 'L' goes when the name has a '/'.
* A sample ends only at an EMPTY line (after removing the final newline);
  the last sample of a file without a trailing blank line is lost. Lines
  starting with '#' are skipped; anything else unrecognised is warned about.
* Output: "comm;outer;...;inner COUNT" lines, sorted by byte order, COUNT
  the sum of periods.
"""
import re

EVENT_RE = re.compile(r"^(\S.+?)\s+(\d+)/*(\d+)*\s+", re.ASCII)
PERIOD_RE = re.compile(r":\s*(\d+)*\s+(\S+):\s*$", re.ASCII)
FRAME_RE = re.compile(r"^\s*(\w+)\s*(.+) \((.*)\)", re.ASCII)
OFFSET_RE = re.compile(r"\+0x[\da-f]+$", re.ASCII)
DOT_PARENS_RE = re.compile(r"\.\(.*\)\.")
PAREN_TAIL_RE = re.compile(r"\((?!anonymous namespace\)).*")

__all__ = ["parse", "collapse", "collapse_text"]


def _perl_false(s):
    return s is None or s == "" or s == "0"


def _perl_split_arrow(s):
    parts = s.split("->")
    while parts and parts[-1] == "":
        parts.pop()
    return parts


def _perl_lines(text):
    """Lines as <> gives them, then chomp (only '\\n' removed)."""
    if text == "":
        return []
    parts = text.split("\n")
    if parts[-1] == "":
        parts.pop()
    return parts


def parse(text, include_pid=False, include_tid=False, warnings=None):
    """One event per sample the script remembers:
    {comm (the pname it uses), pid, tid, period, event, stack [names]
     with the pname first (outermost first), collapsed "a;b;c"}."""
    events = []
    stack = []
    pname = None
    m_pid = m_tid = None
    m_period = 1
    m_event = None
    event_filter = ""
    for line in _perl_lines(text):
        if line.startswith("#"):
            continue
        if line == "":
            if not pname:
                continue
            full = [pname] + stack
            events.append({"comm": pname, "category": pname, "pid": m_pid, "tid": m_tid,
                           "time": None, "metrics": {}, "period": m_period,
                           "event": m_event, "stack": full,
                           "collapsed": ";".join(full)})
            stack = []
            pname = None
            continue
        m = EVENT_RE.search(line)
        if m:
            comm, pid, tid = m.group(1), m.group(2), m.group(3)
            period = ""
            event = None
            if _perl_false(tid):
                tid = pid
                pid = "?"
            p = PERIOD_RE.search(line)
            if p:
                period = p.group(1)
                event = p.group(2)
                if event_filter == "":
                    event_filter = event
                elif event != event_filter:
                    continue
            if _perl_false(period):
                period = 1
            m_pid, m_tid, m_period, m_event = pid, tid, int(period), event
            if include_tid:
                pname = "%s-%s/%s" % (comm, m_pid, m_tid)
            elif include_pid:
                pname = "%s-%s" % (comm, m_pid)
            else:
                pname = comm
            pname = pname.replace(" ", "_")
            continue
        f = FRAME_RE.search(line)
        if f:
            if not pname:
                continue
            _pc, rawfunc, mod = f.group(1), f.group(2), f.group(3)
            rawfunc = OFFSET_RE.sub("", rawfunc, count=1)
            if rawfunc.startswith("("):
                continue
            pieces = []
            for func in _perl_split_arrow(rawfunc):
                if func == "[unknown]":
                    if mod != "[unknown]":
                        func = "[" + re.sub(r".*/", "", mod, count=1) + "]"
                    else:
                        func = "[unknown]"
                func = func.replace(";", ":")
                if not DOT_PARENS_RE.search(func):
                    func = PAREN_TAIL_RE.sub("", func, count=1)
                func = func.replace('"', "").replace("'", "")
                if pname.startswith("java") and "/" in func and func.startswith("L"):
                    func = func[1:]
                pieces.append(func)
            stack = pieces + stack
            continue
        if warnings is not None:
            warnings.append("Unrecognized line: " + line)
    return events


def collapse(text, **kw):
    """{collapsed stack: summed period}."""
    out = {}
    for e in parse(text, **kw):
        out[e["collapsed"]] = out.get(e["collapsed"], 0) + e["period"]
    return out


def collapse_text(text, **kw):
    """The script's output text."""
    c = collapse(text, **kw)
    return "".join("%s %d\n" % (k, c[k])
                   for k in sorted(c, key=lambda s: s.encode("utf-8")))
