#!/usr/bin/env python3
"""What the FlameScope fork (master_mo) would total from a perf text.

    fork_totals.py A.perf              print A's totals as JSON
    fork_totals.py A.perf B.perf       compare A and B; exit 1 with a diff
    fork_totals.py A.perf B.json       compare A's totals with a JSON of
                                       totals (e.g. flame_prof_ref.escript
                                       --summary); totals only
    options: --stacks  also compare each event's stack (as the fork sees it)
             --json    with two inputs, print both totals too

Totals JSON (the shape flame_prof_ref.escript --summary prints):
    {"events": N,
     "categories": {CATEGORY: {"samples": n,
                               "metrics": {NAME: sum of VALUE,
                                           NAME_delta: sum of DELTA}}}}
NAME and NAME_delta are the two scalings the fork offers per metric
(e.g. erlang_reductions, erlang_reductions_delta); CATEGORY is the fork's
comm (the root frame: text before the first digit). Idle samples (which
the fork drops) are left out.

Comparing events: each event is (time in microseconds, category, metrics);
the two files must hold the same multiset of them (samples that share a
timestamp may be in another order). Exit 0 same, 1 different, 2 a reader
failure or bad arguments.
"""
import json
import os
import sys
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from readers import flamescope_fork as fork  # noqa: E402


def totals(events):
    cats = {}
    n = 0
    for e in events:
        if e["idle"]:
            continue
        n += 1
        c = cats.setdefault(e["category"], {"samples": 0, "metrics": {}})
        c["samples"] += 1
        m = c["metrics"]
        for k, v, d in e["metric_list"]:
            m[k] = m.get(k, 0) + v
            m[k + "_delta"] = m.get(k + "_delta", 0) + d
    return {"events": n, "categories": cats}


def event_key(e, stacks=False):
    k = (round(e["time"] * 1e6), e["category"], tuple(sorted(e["metrics"].items())))
    if stacks:
        k += (tuple(e["stack"]),)
    return k


def load(path):
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        text = f.read()
    if path.endswith(".json"):
        return None, json.loads(text)
    if not fork.is_perf_file(text):
        print("%s: the fork would not take this file as perf (first line)" % path,
              file=sys.stderr)
    evs = [e for e in fork.parse(text) if not e["idle"]]
    return evs, totals(evs)


def fmt_event(k):
    t, cat, metrics = k[0], k[1], k[2]
    s = "%d.%06d %s %s" % (t // 1000000, t % 1000000, cat,
                           " ".join("%s=%d,%d" % (n, v, d) for n, (v, d) in metrics))
    if len(k) > 3:
        s += " stack=" + ";".join(k[3])
    return s


def pair_diff(only_a, only_b, na, nb):
    """Pairs unmatched events at the same time (and category when
    possible) and says which fields differ; the rest are listed whole."""
    out = []
    rest_b = list(only_b)
    for ka in only_a:
        cands = [kb for kb in rest_b if kb[0] == ka[0]]
        cands.sort(key=lambda kb: (kb[1] != ka[1],
                                   -len(set(kb[2]) & set(ka[2]))))
        if not cands:
            out.append("only in %s: %s" % (na, fmt_event(ka)))
            continue
        kb = cands[0]
        rest_b.remove(kb)
        t = "%d.%06d" % (ka[0] // 1000000, ka[0] % 1000000)
        diffs = []
        if ka[1] != kb[1]:
            diffs.append("category %r vs %r" % (ka[1], kb[1]))
        ma, mb = dict(ka[2]), dict(kb[2])
        for m in sorted(set(ma) | set(mb)):
            if ma.get(m) != mb.get(m):
                diffs.append("%s %s vs %s" % (m, ma.get(m, "missing"), mb.get(m, "missing")))
        if len(ka) > 3 and ka[3] != kb[3]:
            diffs.append("stack %s vs %s" % (";".join(ka[3]), ";".join(kb[3])))
        out.append("%s %s: %s" % (t, ka[1], "; ".join(diffs)))
    out += ["only in %s: %s" % (nb, fmt_event(kb)) for kb in rest_b]
    return out


def diff_totals(a, b, na, nb):
    out = []
    if a["events"] != b["events"]:
        out.append("events: %s has %d, %s has %d" % (na, a["events"], nb, b["events"]))
    ca, cb = a["categories"], b["categories"]
    for cat in sorted(set(ca) | set(cb)):
        if cat not in ca or cat not in cb:
            out.append("category %r only in %s" % (cat, na if cat in ca else nb))
            continue
        if ca[cat]["samples"] != cb[cat]["samples"]:
            out.append("category %r samples: %d vs %d" % (cat, ca[cat]["samples"],
                                                         cb[cat]["samples"]))
        ma, mb = ca[cat]["metrics"], cb[cat]["metrics"]
        for m in sorted(set(ma) | set(mb)):
            if ma.get(m) != mb.get(m):
                out.append("category %r %s: %s vs %s" % (cat, m, ma.get(m), mb.get(m)))
    return out


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    opts = {a for a in argv if a.startswith("--")}
    unknown = opts - {"--stacks", "--json"}
    if unknown or not 1 <= len(args) <= 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        loaded = [load(p) for p in args]
    except fork.ReaderFailure as e:
        print("the fork would fail: %s" % e, file=sys.stderr)
        return 2
    if len(args) == 1:
        if loaded[0][0] is None:
            print("one input must be a perf text", file=sys.stderr)
            return 2
        json.dump(loaded[0][1], sys.stdout, indent=1, sort_keys=True)
        print()
        return 0
    (ea, ta), (eb, tb) = loaded
    na, nb = args
    if "--json" in opts:
        for n, t in ((na, ta), (nb, tb)):
            print("== %s" % n)
            json.dump(t, sys.stdout, indent=1, sort_keys=True)
            print()
    problems = []
    if ea is not None and eb is not None:
        st = "--stacks" in opts
        ka = Counter(event_key(e, st) for e in ea)
        kb = Counter(event_key(e, st) for e in eb)
        only_a = sorted((ka - kb).elements())
        only_b = sorted((kb - ka).elements())
        if only_a or only_b:
            problems.append("%d event(s) of %s and %d of %s have no equal in the other; "
                            "first differences:" % (len(only_a), na, len(only_b), nb))
            problems += ["  " + l for l in pair_diff(only_a, only_b, na, nb)[:12]]
        # same multiset but a different file order beyond equal timestamps
        ta_order = [round(e["time"] * 1e6) for e in ea]
        if ta_order != sorted(ta_order):
            problems.append("%s: events not in time order" % na)
        tb_order = [round(e["time"] * 1e6) for e in eb]
        if tb_order != sorted(tb_order):
            problems.append("%s: events not in time order" % nb)
    problems += diff_totals(ta, tb, na, nb)
    if problems:
        print("DIFFERENT: %s vs %s" % (na, nb))
        for p in problems:
            print(p)
        return 1
    print("same: %d events, %d categories" % (ta["events"], len(ta["categories"])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
