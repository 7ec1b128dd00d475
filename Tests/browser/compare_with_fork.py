#!/usr/bin/env python3
"""Compare a capture's report with the FlameScope fork's view of its perf text.

    Tests/browser/compare_with_fork.py DUMP_OR_DIR [--ranges N] [--flameconv PATH] [--keep DIR]

Writes the report and the portable perf text of the capture, opens the report
in headless Chromium, and compares, with the fork's algorithm in Python
(Tests/reference/readers/flamescope_fork.py): every heat map cell of every
scaling, then the flame graph totals (positive and negative roots) of N
random ranges for samples, a metric and a delta. Prints what differs; exit
status 0 when nothing does, 1 otherwise. Also prints the report's size and
the page's open time.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "reference"))

import cdp  # noqa: E402
from test_report import ROWS, fork, fork_range_times, find_flameconv  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("capture")
    ap.add_argument("--ranges", type=int, default=10)
    ap.add_argument("--flameconv", default=None)
    ap.add_argument("--keep", default=None, help="write the report and perf text here")
    args = ap.parse_args()
    flameconv = args.flameconv or find_flameconv()
    out = args.keep or tempfile.mkdtemp(prefix="flameconv-compare-")
    html, perf = os.path.join(out, "report.html"), os.path.join(out, "capture.perf")
    t = time.time()
    subprocess.run([flameconv, "report", args.capture, "-o", html, "--quiet"], check=True)
    print("report: %d bytes in %.2f s" % (os.path.getsize(html), time.time() - t))
    subprocess.run([flameconv, "convert", args.capture, "-o", perf, "--quiet"], check=True)
    with open(perf, encoding="utf-8", errors="surrogateescape") as f:
        text = f.read()
    failures = 0
    browser = cdp.Browser()
    try:
        page = browser.new_page()
        print("open: %.2f s" % page.open(html, timeout=300))
        maps = fork.heatmap(text, None, ROWS)
        cap = page.eval("({columns: flameReport.capture.columns, metrics: flameReport.capture.metrics})")
        for scaling in ["samples"] + [s for m in cap["metrics"] for s in (m, m + "_delta")]:
            heat = page.eval("flameReport.heatValues(%s)" % json.dumps(scaling))
            got = {}
            for i, present in enumerate(heat["present"]):
                if present:
                    col, bucket = divmod(i, ROWS)
                    got[(col, ROWS - 1 - bucket)] = heat["values"][i]
            want = maps.get(scaling, {})
            bad = [k for k in set(got) | set(want) if got.get(k) != want.get(k)]
            print("heat map %s: %d cells, %s" % (scaling, len(want), "same" if not bad else "%d differ" % len(bad)))
            failures += bool(bad)
        random.seed(1)
        cells = cap["columns"] * ROWS
        weights = ["samples"] + [cap["metrics"][0] + "_delta", cap["metrics"][min(2, len(cap["metrics"]) - 1)]]
        for _ in range(args.ranges):
            a = random.randrange(cells)
            b = random.randrange(a, cells)
            for w in weights:
                page.eval("flameReport.state.range = [%d, %d]; flameReport.state.weight = %s; flameReport.render()" % (a, b, json.dumps(w)))
                roots = {f["name"]: f["value"] for f in page.eval("flameReport.frames()") if f["node"] < 0}
                trees = fork.flame_graph(text, w, *fork_range_times(a, b))
                pos, neg = sum(trees["positive"].values()), sum(trees["negative"].values())
                got = (roots.get("all", roots.get("positive", 0)), roots.get("negative", 0))
                same = got == (pos, neg)
                print("range %d..%d %s: page %s, fork %s %s" % (a, b, w, got, (pos, neg), "same" if same else "DIFFER"))
                failures += not same
    finally:
        browser.close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
