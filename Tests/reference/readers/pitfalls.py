"""Flags every reader pitfall of docs/perf-output.md in a perf
text, plus the ones found while mirroring the readers (see the modules
next to this one for the reasons).

    check(text) -> ["code: line N: detail", ...]   ([] = all five readers
                                                    read it as intended)
    kinds(text) -> {code, ...}

A text meant for all readers should look like this (one sample):

    comm PID/TID [000] SECONDS.MICROS: 1 cpu-clock:<TAB>metric_NAME: INT, INT ...
    <TAB>HEX NAME (FILE)
    <TAB>HEX NAME (FILE)
    <empty line>

comm without digits, spaces, '<', '>'; integer PID and non-zero TID, both
below 2^53, each TID with one comm and one PID throughout; the
time after a single space, with a decimal point; every event line with the
same metrics and the same ending; frame names without '+', '->', ';', '(',
')', quotes; FILE without whitespace or parentheses; an empty line after
every sample, also the last; events in time order; at least two samples;
the last time not on a whole second.
"""
import math
import re

from . import flamescope_fork as fork
from . import stackcollapse_perf as sc
from . import speedscope_perf as ss
from . import firefox_perf as ff
from ._flamescope_common import (EVENT_RE as FS_EVENT_RE, COMM_RE as FS_COMM_RE,
                                 ReaderFailure, profile_range)

STRICT_METRIC_RE = re.compile(r"metric_([A-Za-z0-9_]+): (-?[0-9]+), (-?[0-9]+)(?=\t|$)")
ANY_METRIC_RE = re.compile(r"\bmetric_")
HEX_ADDR_RE = re.compile(r"^[\t ]*[0-9a-fA-F]+ ")
FRAME_TAIL_RE = re.compile(r" \(([^()]*)\)$")

MAX_EXACT_US = 2 ** 53
MAX_EXACT_ID = 2 ** 53

__all__ = ["check", "kinds"]


def _code(p):
    return p.split(":", 1)[0]


def kinds(text):
    return {_code(p) for p in check(text)}


def _event_comm_flamescope(line):
    m = FS_COMM_RE.search(line)
    return m.group(1).rstrip() if m else "<unknown>"


def check(text, max_per_kind=5):
    problems = []
    counts = {}

    def flag(code, lineno, detail):
        counts[code] = counts.get(code, 0) + 1
        if counts[code] <= max_per_kind:
            where = "line %d: " % lineno if lineno else ""
            problems.append("%s: %s%s" % (code, where, detail))

    if text == "":
        flag("empty", 0, "no text at all")
        return problems
    if "\r" in text:
        flag("carriage-return", 0, "'\\r' in the text: JavaScript readers stop '.' at it, "
             "FlameScope turns it into a line break")

    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()

    # --- file type sniffing ------------------------------------------------
    first = next((l for l in lines if not l.startswith("#")), "")
    if first.strip() == "":
        flag("blank-first-line", 1, "first non-comment line is blank: FlameScope "
             "does not take the file as perf")
    elif not fork.is_perf_file(text):
        flag("not-perf-for-flamescope", 1, "FlameScope's event pattern does not fit the "
             "first line")
    det = ff.detect(text)
    if det != "perf":
        flag("firefox-not-perf", 1, "the Firefox Profiler sniffs the first line as %r, "
             "not perf script" % det)

    # --- structure: event lines, frame lines, separators ----------------------
    events = []          # (lineno, line, frames[(lineno, line)])
    cur = None
    prev_blank = True
    for i, line in enumerate(lines, 1):
        if line.startswith("#"):
            continue
        if line == "":
            if cur is not None:
                events.append(cur)
                cur = None
            prev_blank = True
            continue
        if line.strip() == "":
            flag("whitespace-line", i, "a line of only whitespace: speedscope does not "
                 "end a sample there, stackcollapse-perf.pl warns")
            continue
        if not line[0].isspace():
            if cur is not None:
                flag("no-blank-between-samples", i, "event line not preceded by an empty "
                     "line: stackcollapse and Firefox merge or lose samples")
                events.append(cur)
            elif not prev_blank:
                flag("no-blank-between-samples", i, "event line not preceded by an empty line")
            cur = (i, line, [])
            prev_blank = False
            continue
        prev_blank = False
        if cur is None:
            flag("frame-outside-sample", i, "frame line with no event line before it")
            continue
        cur[2].append((i, line))
    if cur is not None:
        events.append(cur)
        flag("no-final-blank-line", cur[0], "the last sample is not followed by an empty "
             "line: stackcollapse-perf.pl drops it")

    # --- event lines ---------------------------------------------------------
    times = []
    metric_sets = []
    thread_owner = {}    # TID -> (comm, PID, line) of its first event line
    endings = set()
    for lineno, line, frames in events:
        fs = FS_EVENT_RE.search(line)
        if not fs:
            flag("event-no-time", lineno, "FlameScope finds no ' TIME: x:' on the event line "
                 "(the time must follow a single space, then ': ' and an event name)")
            continue
        t_text = fs.group(1)
        try:
            t = float(t_text)
        except ValueError:
            flag("time-not-number", lineno, "time %r" % t_text)
            continue
        times.append((lineno, t, t_text))
        if "." not in t_text:
            flag("time-no-decimal-point", lineno, "speedscope needs SECONDS.FRACTION")
        if t * 1e6 >= MAX_EXACT_US:
            flag("time-precision", lineno, "time %s in microseconds is past 2^53: a "
                 "double cannot hold it exactly" % t_text)

        # comm, pid, tid as each reader sees them
        fs_comm = _event_comm_flamescope(line)
        scm = sc.EVENT_RE.search(line)
        ssm = ss.START_RE.search(line)
        ffm = ff.START_RE.search(line)
        fft = ff.THREAD_RE.search(ffm.group(1)) if ffm else None
        if scm is None or ssm is None or fft is None:
            flag("comm-pid-format", lineno, "not 'comm PID/TID ...': stackcollapse, "
                 "speedscope or Firefox find no comm and pid")
        else:
            sc_comm = scm.group(1).replace(" ", "_")
            ss_comm = ssm.group(1)
            ff_comm = ff._js_trim(fft.group(1))
            ids = {(scm.group(2), scm.group(3)), (ssm.group(2), ssm.group(3)),
                   (fft.group(2), fft.group(3))}
            if len({fs_comm, ss_comm, ff_comm}) != 1 or sc_comm != fs_comm.replace(" ", "_"):
                flag("comm-pid-format", lineno, "readers disagree on the comm: FlameScope %r, "
                     "stackcollapse %r, speedscope %r, Firefox %r"
                     % (fs_comm, sc_comm[:60], ss_comm[:60], ff_comm[:60]))
            elif len(ids) != 1 or None in next(iter(ids)):
                flag("comm-pid-format", lineno, "readers disagree on PID/TID or there is no "
                     "PID/TID pair: %r" % sorted(ids, key=str))
            elif int(next(iter(ids))[1]) == 0:
                flag("tid-zero", lineno, "TID 0: stackcollapse-perf.pl takes it as missing, "
                     "speedscope leaves it out of the profile name")
            else:
                pid, tid = (int(x) for x in next(iter(ids)))
                if max(pid, tid) >= MAX_EXACT_ID:
                    flag("id-precision", lineno, "PID/TID %d/%d past 2^53: speedscope and the "
                         "Firefox Profiler read them as JavaScript numbers, which round it"
                         % (pid, tid))
                owner = thread_owner.setdefault(tid, (fs_comm, pid, lineno))
                if owner[:2] != (fs_comm, pid):
                    flag("tid-shared", lineno, "TID %d has comm %r and PID %d here, %r and %d "
                         "on line %d: the Firefox Profiler keeps one thread per TID, in the "
                         "first PID's process, named after its latest sample's comm"
                         % (tid, fs_comm, pid, owner[0], owner[1], owner[2]))
            if " " in fs_comm:
                flag("space-in-comm", lineno, "stackcollapse-perf.pl turns spaces into '_'")
        comm_part = line[:fs.start()]
        head = comm_part.split(None, 1)[0] if comm_part.split() else ""
        if re.search(r"[0-9]", head):
            flag("comm-digit", lineno, "digit in comm %r: FlameScope cuts the comm at the "
                 "first digit" % head)
        if "<" in fs_comm or ">" in fs_comm or "<" in comm_part or ">" in comm_part:
            flag("comm-angle", lineno, "'<' or '>' before the time: shows up in FlameScope's "
                 "root frame")
        if ffm:
            ff_t = ff._parse_float(ffm.group(2))
            if ff_t != t:
                flag("time-disagree", lineno, "Firefox takes %r as the time, FlameScope %r "
                     "(a later ' DIGITS:' on the line)" % (ffm.group(2), t_text))
        sst = ss.TIME_RE.search(line)
        if sst and float(sst.group(1)) != t:
            flag("time-disagree", lineno, "speedscope takes %r as the time, FlameScope %r"
                 % (sst.group(1), t_text))
        endings.add(ss.EVTYPE_RE.search(line).group(1) if ss.EVTYPE_RE.search(line) else "")

        # metrics
        names = []
        for m in ANY_METRIC_RE.finditer(line):
            s = STRICT_METRIC_RE.match(line, m.start())
            if not s:
                flag("metric-format", lineno, "%r is not 'metric_NAME: INT, INT' followed by "
                     "TAB or the line end" % line[m.start():m.start() + 60])
            else:
                names.append(s.group(1))
        try:
            fork_pairs = fork.metric_pairs(line)
        except fork.ReaderFailure as e:
            flag("metric-format", lineno, "FlameScope fork fails: %s" % e)
            fork_pairs = []
        if [k for k, _, _ in fork_pairs] != names:
            flag("metric-format", lineno, "the fork reads metrics %r, intended %r"
                 % ([k for k, _, _ in fork_pairs], names))
        if len(set(names)) != len(names):
            flag("metric-repeated", lineno, "a metric appears twice on one line")
        metric_sets.append((lineno, frozenset(names)))

        # frames
        if not frames:
            flag("sample-without-frames", lineno, "no frame lines: the Firefox Profiler "
                 "drops the sample")
        for flineno, fl in frames:
            _check_frame(flineno, fl, flag)

    if len(endings) > 1:
        flag("event-type-mixed", 0, "event lines end differently (%r): speedscope keeps "
             "only samples of the first kind" % sorted(endings))

    all_names = frozenset().union(*[s for _, s in metric_sets]) if metric_sets else frozenset()
    for lineno, s in metric_sets:
        if s != all_names:
            flag("metric-missing", lineno, "lacks %s: the fork's flame graph silently "
                 "reuses the previous line's value" % sorted(all_names - s))

    # --- times -------------------------------------------------------------------
    if len(times) == 1:
        flag("single-sample", times[0][0], "one sample: FlameScope's flame graph fails")
    elif times:
        try:
            profile_range(text)
        except ReaderFailure as e:
            flag("flame-graph-range", times[0][0], "FlameScope's flame graph range fails "
                 "(times only decreasing?): %s" % e)
    for (l1, t1, _), (l2, t2, _) in zip(times, times[1:]):
        if t2 < t1:
            flag("time-order", l2, "time %r after %r: FlameScope's heatmap and flame graph, "
                 "speedscope fail" % (t2, t1))
    if times:
        lineno, t, t_text = times[-1]
        if t == math.floor(t):
            flag("last-time-whole-second", lineno, "last time %s is on a whole second: "
                 "FlameScope's heatmap fails" % t_text)
    return problems


def _check_frame(lineno, fl, flag):
    if not fl.startswith("\t"):
        flag("frame-indent", lineno, "frame line does not start with TAB: FlameScope tests "
             "it as an event line")
    if FS_EVENT_RE.search(fl):
        flag("frame-looks-like-event", lineno, "FlameScope's heatmap takes this frame line "
             "for an event (' DIGITS: x:')")
    if not HEX_ADDR_RE.search(fl):
        flag("frame-no-address", lineno, "no hex address followed by one space")
        return
    tail = FRAME_TAIL_RE.search(fl)
    if not tail:
        flag("frame-no-module", lineno, "does not end in ' (MODULE)' with no parentheses "
             "inside")
        return
    name = fl[HEX_ADDR_RE.search(fl).end():tail.start()]
    module = tail.group(1)
    if re.search(r"\s", module):
        flag("frame-module-space", lineno, "whitespace in %r: speedscope's module pattern "
             "allows none" % module)
    if name == "":
        flag("frame-empty-name", lineno, "empty name")
        return
    if name.startswith("("):
        flag("frame-paren-start", lineno, "%r starts with '(': stackcollapse-perf.pl and "
             "Firefox drop it" % name)
    elif "(" in name or ")" in name:
        flag("frame-paren", lineno, "'(' or ')' in %r: stackcollapse-perf.pl cuts the name "
             "there, FlameScope and speedscope may take the wrong ' (...)'" % name)
    if "+" in name:
        flag("frame-plus", lineno, "'+' in %r: FlameScope cuts the name there" % name)
    if "->" in name:
        flag("frame-arrow", lineno, "'->' in %r: FlameScope and stackcollapse-perf.pl split "
             "the frame there" % name)
    if ";" in name:
        flag("frame-semicolon", lineno, "';' in %r: stackcollapse-perf.pl turns it into ':'"
             % name)
    if '"' in name or "'" in name:
        flag("frame-quote", lineno, "quote in %r: stackcollapse-perf.pl deletes it" % name)
    if name == "[unknown]":
        flag("frame-unknown", lineno, "'[unknown]' is replaced by the module name")
