"""flameconv report, opened in headless Chromium and driven by the mouse.

The oracle is independent of the report's code: the same capture converted to
flame_prof perf text, read by Tests/reference/readers/flamescope_fork.py (the
FlameScope fork's heat map and flame graph algorithm, in Python). The page's
heat map cells must equal the fork's cell for cell; its flame graph frames
must carry the fork's totals, at widths in proportion; a range chosen with
the mouse must give the fork's flame graph of the same range (as the fork's
front end turns cells into times); search must find a known frame and its
share; the differential view must colour a frame that grew red and one that
shrank blue. Screenshots go to docs/images/ when REPORT_SCREENSHOTS is set.

    python3 -m pytest -q -c Tests/browser/pytest.ini Tests/browser
"""
import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "Tests", "reference"))
sys.path.insert(0, HERE)

from readers import flamescope_fork as fork  # noqa: E402
from test_flameconv_output import find_flameconv  # noqa: E402
import cdp  # noqa: E402

CAPTURES = os.path.join(REPO, "Fixtures", "captures")
ROWS = 50


@pytest.fixture(scope="module")
def flameconv():
    path = find_flameconv()
    if path is None:
        pytest.skip("no flameconv and no swift to build it")
    return path


@pytest.fixture(scope="module")
def browser():
    if cdp.chromium_path() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is missing: CI must install it (scripts/install-deps.sh)")
        pytest.skip("chromium not installed")
    b = cdp.Browser()
    yield b
    b.close()


def build(flameconv, tmp_path, name, *args):
    """The report and the flame_prof perf text of one bundled capture."""
    src = os.path.join(CAPTURES, name)
    html = str(tmp_path / (name + ".html"))
    perf = str(tmp_path / (name + ".perf"))
    subprocess.run([flameconv, "report", src, "-o", html, "--quiet", *args], check=True)
    subprocess.run([flameconv, "convert", src, "--dialect", "flame_prof", "-o", perf, "--quiet", *args], check=True)
    with open(perf, encoding="utf-8", errors="surrogateescape") as f:
        return html, f.read()


def open_report(browser, html):
    page = browser.new_page()
    page.open(html)
    assert page.eval("window.flameReport && window.flameReport.ready") is True, page.console_errors()
    return page


def fork_prefix_totals(tree):
    """{path of names from the comm: total} of one fork tree ({path: value added at its leaf})."""
    out = {}
    for path, value in tree.items():
        names = tuple(n for n, _lib in path)
        for i in range(1, len(names) + 1):
            out[names[:i]] = out.get(names[:i], 0) + value
    return out


def page_totals(page, frames=None):
    """{path of names: value} of the frames the page drew, under the root named `root`."""
    frames = frames if frames is not None else page.eval("flameReport.frames()")
    out = {}
    for f in frames:
        if f["node"] < 0:
            continue
        path = tuple(page.eval("flameReport.path(%d)" % f["node"]))
        out[(f["root"], path)] = f["value"]
    return out, frames


def fork_range_times(a, b, rows=ROWS):
    """The fork front end's heatmap2time for cells a..b (time order: col * rows + bucket)."""
    offsets = [1000 * (float(i) / rows) for i in range(rows)]
    offsets.reverse()  # the fork's data.rows
    def at(cell, end):
        col, bucket = divmod(cell, rows)
        row = rows - 1 - bucket
        delta = offsets[0] - offsets[1] if end else 0.0
        return col + (offsets[row] + delta) / 1000
    return at(a, False), at(b, True)


def check_range(page, text, cells, weight):
    """The page's frames against the fork's flame graph of cells (a, b), or of the whole capture (None)."""
    trees = fork.flame_graph(text, weight, *fork_range_times(*cells)) if cells else fork.flame_graph(text, weight)
    got, frames = page_totals(page)
    pos = fork_prefix_totals(trees["positive"])
    neg = fork_prefix_totals(trees["negative"])
    has_negative = bool(neg)
    expected = {}
    for path, v in pos.items():
        expected[("positive" if has_negative else "all", path)] = v
    for path, v in neg.items():
        expected[("negative", path)] = v
    roots = {f["name"]: f for f in frames if f["node"] < 0}
    grand = sum(v for p, v in pos.items() if len(p) == 1) + sum(v for p, v in neg.items() if len(p) == 1)
    assert sum(f["value"] for f in roots.values()) == grand
    width = sum(f["w"] for f in roots.values())
    # Every frame drawn carries the fork's total; every frame of the fork at
    # least a pixel wide is drawn (narrower ones are left out, as flame graphs do).
    for key, value in got.items():
        assert expected.get(key) == value, key
    for key, value in expected.items():
        if value / grand * width >= 1:
            assert key in got, key


@pytest.mark.parametrize("name,rows", [("rotated", 50), ("top100", 50), ("top100", 49), ("top100", 99)])
def test_heat_map_cells_match_the_fork(flameconv, browser, tmp_path, name, rows):
    html, text = build(flameconv, tmp_path, name)
    if rows != ROWS:
        subprocess.run([flameconv, "report", os.path.join(CAPTURES, name), "-o", html, "--quiet", "--rows", str(rows)], check=True)
    page = open_report(browser, html)
    maps = fork.heatmap(text, None, rows)
    capture = page.eval("({columns: flameReport.capture.columns, rows: flameReport.capture.rows, metrics: flameReport.capture.metrics})")
    start, end, _ = fork.heatmap_offsets(text)
    import math
    assert capture["columns"] == int(math.ceil(end) - math.floor(start))
    assert capture["rows"] == rows
    scalings = ["samples"] + [s for m in capture["metrics"] for s in (m, m + "_delta")]
    for scaling in scalings:
        heat = page.eval("flameReport.heatValues(%s)" % json.dumps(scaling))
        got = {}
        for i, present in enumerate(heat["present"]):
            if present:
                col, bucket = divmod(i, rows)
                got[(col, rows - 1 - bucket)] = heat["values"][i]
        assert got == maps.get(scaling, {}), scaling
    # Every cell is drawn: columns x rows of them, empty ones apart.
    assert len(heat["present"]) == capture["columns"] * rows
    # A cell's hover text: its time, its samples and its value, as a user reads them.
    col, bucket = next(divmod(i, rows) for i, p in enumerate(heat["present"]) if p)
    page.eval("document.getElementById('heat-canvas').scrollIntoView()")
    c = page.eval("flameReport.cellCentre(%d, %d)" % (col, bucket))
    page.mouse("mouseMoved", c["x"], c["y"])
    hover = page.eval("document.getElementById('heat-hover').textContent")
    n = maps["samples"][(col, rows - 1 - bucket)]
    assert hover.startswith("second %d " % col) and (": %s samples" % format(n, ",")) in hover, hover
    page.close()


def test_whole_capture_flame_graph_has_the_forks_frames_and_widths(flameconv, browser, tmp_path):
    html, text = build(flameconv, tmp_path, "rotated")
    page = open_report(browser, html)
    check_range(page, text, None, "samples")
    frames = page.eval("flameReport.frames()")
    root = [f for f in frames if f["node"] < 0][0]
    for f in frames:
        # Width in proportion to the total: the root spans the canvas.
        assert abs(f["w"] - root["w"] * f["value"] / root["value"]) < 1e-6
    assert any(f["name"] == "flame_workload:cpu_burn/1;122" for f in frames)
    page.close()


def drag_cells(page, a, b):
    ca = page.eval("flameReport.cellCentre(%d, %d)" % divmod(a, ROWS))
    cb = page.eval("flameReport.cellCentre(%d, %d)" % divmod(b, ROWS))
    page.eval("document.getElementById('heat-canvas').scrollIntoView()")
    ca = page.eval("flameReport.cellCentre(%d, %d)" % divmod(a, ROWS))
    cb = page.eval("flameReport.cellCentre(%d, %d)" % divmod(b, ROWS))
    page.drag(ca["x"], ca["y"], cb["x"], cb["y"])


@pytest.mark.parametrize("weight", ["samples", "erlang_reductions_delta", "erlang_memory", "erlang_memory_delta"])
def test_range_drag_gives_the_forks_range_totals(flameconv, browser, tmp_path, weight):
    html, text = build(flameconv, tmp_path, "top100")
    page = open_report(browser, html)
    page.eval("(() => { const s = document.getElementById('weight-select'); s.value = %s; s.dispatchEvent(new Event('change')); })()" % json.dumps(weight))
    a, b = 12, ROWS + 20
    drag_cells(page, a, b)
    assert page.eval("flameReport.state.range") == [a, b]
    check_range(page, text, (a, b), weight)
    whole = sum(1 for _ in fork.parse(text))
    assert page.eval("flameReport.frames()[0].value") < whole or weight != "samples"
    page.close()


def test_click_start_then_end_cell_selects_the_range(flameconv, browser, tmp_path):
    html, text = build(flameconv, tmp_path, "top100")
    page = open_report(browser, html)
    page.eval("document.getElementById('heat-canvas').scrollIntoView()")
    b, a = 30, ROWS + 5
    for cell in (a, b):  # end first: the page orders them
        c = page.eval("flameReport.cellCentre(%d, %d)" % divmod(cell, ROWS))
        page.click(c["x"], c["y"])
    assert page.eval("flameReport.state.range") == [b, a]
    check_range(page, text, (b, a), "samples")
    page.close()


def test_search_finds_a_known_frame_and_its_share(flameconv, browser, tmp_path):
    html, text = build(flameconv, tmp_path, "rotated")
    page = open_report(browser, html)
    page.type_into("#search", "cpu_burn")
    frames = page.eval("flameReport.frames()")
    assert any(f["match"] and "cpu_burn" in f["name"] for f in frames)
    # The fork's samples whose stack holds a cpu_burn frame.
    events = [e for e in fork.parse(text) if not e["idle"]]
    hits = sum(1 for e in events if any("cpu_burn" in n for n in e["stack"][1:]))
    label = page.eval("document.getElementById('search-result').textContent")
    assert label.startswith("matched %s of %s " % (format(hits, ","), format(len(events), ",")))
    page.close()


def test_zoom_breadcrumb_and_reset(flameconv, browser, tmp_path):
    html, _ = build(flameconv, tmp_path, "rotated")
    page = open_report(browser, html)
    page.eval("document.getElementById('flame-canvas').scrollIntoView()")
    frames = page.eval("flameReport.frames()")
    target = max((f for f in frames if f["depth"] == 2), key=lambda f: f["w"])
    rect = page.eval("(() => { const r = document.getElementById('flame-canvas').getBoundingClientRect(); return {x: r.left, y: r.top}; })()")
    page.click(rect["x"] + target["x"] + target["w"] / 2, rect["y"] + target["y"] + 5)
    assert page.eval("flameReport.state.zoom") == target["node"]
    zoomed = page.eval("flameReport.frames()")
    assert [f for f in zoomed if f["node"] == target["node"]][0]["w"] == pytest.approx(zoomed[0]["w"])
    assert target["name"] in page.eval("document.getElementById('breadcrumb').textContent")
    page.eval("document.getElementById('reset-zoom').click()")
    assert page.eval("flameReport.state.zoom") == -1
    page.close()


def shares_of(trees):
    t = fork_prefix_totals(trees["positive"])
    total = sum(v for p, v in t.items() if len(p) == 1)
    return {p: v / total for p, v in t.items()}


def check_differential_colours(page, before, after, frames_fn="frames"):
    """Frames whose share grew are red, those that shrank blue; returns how many of each were checked."""
    checked = {"grew": 0, "shrank": 0}
    canvas = "flame-canvas" if frames_fn == "frames" else "side-canvas"
    for f in page.eval("flameReport.%s()" % frames_fn):
        if f["node"] < 0 or f["w"] < 4:
            continue
        path = tuple(page.eval("flameReport.path(%d)" % f["node"]) if frames_fn == "frames" else f["path"])
        change = after.get(path, 0) - before.get(path, 0)
        if abs(change) < 0.01:
            continue
        r, g, b, _a = page.eval("flameReport.pixel(%s, %f, %f)" % (json.dumps(canvas), f["x"] + 1, f["y"] + 1))
        if change > 0:
            assert r > b, (path, change, (r, g, b))
            checked["grew"] += 1
        else:
            assert b > r, (path, change, (r, g, b))
            checked["shrank"] += 1
    return checked


def test_differential_against_a_baseline_capture(flameconv, browser, tmp_path):
    html = str(tmp_path / "diff.html")
    subprocess.run([flameconv, "report", os.path.join(CAPTURES, "top100"), "--baseline", os.path.join(CAPTURES, "rotated"),
                    "-o", html, "--quiet"], check=True)
    _, text_after = build(flameconv, tmp_path, "top100")
    _, text_before = build(flameconv, tmp_path, "rotated")
    page = open_report(browser, html)
    page.eval("(() => { const s = document.getElementById('diff-mode'); s.value = 'merged'; s.dispatchEvent(new Event('change')); })()")
    before, after = shares_of(fork.flame_graph(text_before)), shares_of(fork.flame_graph(text_after))
    checked = check_differential_colours(page, before, after)
    assert checked["grew"] > 0 and checked["shrank"] > 0, checked
    # Side by side: the baseline drawn beside, coloured by the same change.
    page.eval("(() => { const s = document.getElementById('diff-mode'); s.value = 'side'; s.dispatchEvent(new Event('change')); })()")
    assert page.eval("document.getElementById('flame-side').hidden") is False
    side = check_differential_colours(page, before, after, "sideFrames")
    assert side["shrank"] > 0, side
    shots = os.environ.get("REPORT_SCREENSHOTS")
    if shots:
        page.eval("(() => { const s = document.getElementById('diff-mode'); s.value = 'merged'; s.dispatchEvent(new Event('change')); })()")
        page.eval("document.getElementById('flame').scrollIntoView()")
        rect = page.eval("(() => { const r = document.getElementById('flame').getBoundingClientRect(); return {x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height}; })()")
        page.screenshot(os.path.join(shots, "report-differential.png"), rect)
    page.close()


def test_differential_of_two_ranges(flameconv, browser, tmp_path):
    html, text = build(flameconv, tmp_path, "top100")
    page = open_report(browser, html)
    first, second = (0, ROWS - 1), (ROWS, 2 * ROWS - 1)
    drag_cells(page, *first)
    page.eval("document.getElementById('diff-pin').click()")
    drag_cells(page, *second)
    page.eval("(() => { const s = document.getElementById('diff-mode'); s.value = 'merged'; s.dispatchEvent(new Event('change')); })()")
    assert page.eval("flameReport.state.pinned") == list(first)
    # FlameScope's delta of each frame, from the fork's totals of the two ranges:
    # now - before * (total now / total before).
    def totals(cells):
        t = fork_prefix_totals(fork.flame_graph(text, "samples", *fork_range_times(*cells))["positive"])
        return t, sum(v for p, v in t.items() if len(p) == 1)
    (before, total_before), (after, total_after) = totals(first), totals(second)
    for f in page.eval("flameReport.frames()")[1:20]:
        path = tuple(page.eval("flameReport.path(%d)" % f["node"]))
        delta = page.eval("flameReport.change(%d)" % f["node"])
        assert delta == pytest.approx(after.get(path, 0) - before.get(path, 0) * total_after / total_before, abs=1e-9), path
    page.close()


def test_screenshots_of_heat_map_and_flame_graph(flameconv, browser, tmp_path):
    shots = os.environ.get("REPORT_SCREENSHOTS")
    if not shots:
        pytest.skip("REPORT_SCREENSHOTS not set")
    html, _ = build(flameconv, tmp_path, "top100")
    page = open_report(browser, html)
    drag_cells(page, 20, ROWS + 30)
    for section, name in (("heat", "report-heatmap.png"), ("flame", "report-flamegraph.png")):
        rect = page.eval("(() => { const r = document.getElementById(%s).getBoundingClientRect(); return {x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height}; })()" % json.dumps(section))
        page.screenshot(os.path.join(shots, name), rect)
    page.close()


def test_page_has_no_external_resource(flameconv, tmp_path):
    html, _ = build(flameconv, tmp_path, "rotated")
    with open(html, encoding="utf-8") as f:
        page = f.read()
    for needle in ("http://", "https://", "<link", " src=", "@import", "url("):
        assert needle not in page, needle


def test_a_click_on_a_process_filters_every_view_to_it(flameconv, browser, tmp_path):
    html, _ = build(flameconv, tmp_path, "top100")
    page = open_report(browser, html)
    processes = page.eval("flameReport.capture.processes.map(p => p.pid)")
    chosen = 3
    pid = processes[chosen]
    # The oracle: flameconv's own --pid filter, read by the fork's algorithm.
    perf = str(tmp_path / "one.perf")
    subprocess.run([flameconv, "convert", os.path.join(CAPTURES, "top100"), "--dialect", "flame_prof", "--pid", pid, "-o", perf, "--quiet"], check=True)
    with open(perf, encoding="utf-8", errors="surrogateescape") as f:
        text = f.read()
    page.eval("document.getElementById('processes').scrollIntoView()")
    row = page.eval("(() => { const r = document.getElementById('processes').tBodies[0].rows[%d].getBoundingClientRect(); return {x: r.left + 20, y: r.top + r.height / 2}; })()" % chosen)
    page.click(row["x"], row["y"])
    assert page.eval("flameReport.state.process") == chosen
    # The heat map: the fork's cells of the one process, its columns counted from its own first second.
    import math
    start, _end, _ = fork.heatmap_offsets(text)
    shift = int(math.floor(start)) - page.eval("flameReport.capture.firstSecond")
    want = fork.heatmap(text, None, ROWS)["samples"]
    heat = page.eval("(() => { const h = flameReport.heat.heat; return {values: Array.from(h.values), present: Array.from(h.present)}; })()")
    got = {}
    for i, present in enumerate(heat["present"]):
        if present:
            col, bucket = divmod(i, ROWS)
            got[(col - shift, ROWS - 1 - bucket)] = heat["values"][i]
    assert got == want
    # The flame graph: the fork's tree of the one process.
    check_range(page, text, None, "samples")
    # A second click shows every process again.
    page.click(row["x"], row["y"])
    assert page.eval("flameReport.state.process") is None
    page.close()


def test_merge_by_function_and_icicle(flameconv, browser, tmp_path):
    import re
    html, text = build(flameconv, tmp_path, "rotated")
    page = open_report(browser, html)
    page.eval("document.getElementById('flame').scrollIntoView()")
    for box in ("merge", "invert"):
        r = page.eval("(() => { const r = document.getElementById(%s).getBoundingClientRect(); return {x: r.left + r.width / 2, y: r.top + r.height / 2}; })()" % json.dumps(box))
        page.click(r["x"], r["y"])
    assert page.eval("flameReport.state.merge && flameReport.state.inverted") is True
    # The fork's totals with each frame's line number (";L") dropped, paths merged.
    merged = {}
    for path, v in fork.flame_graph(text)["positive"].items():
        names = tuple(re.sub(r";\d+$", "", n) for n, _lib in path)
        for i in range(1, len(names) + 1):
            merged[names[:i]] = merged.get(names[:i], 0) + v
    frames = page.eval("flameReport.frames()")
    got = {tuple(page.eval("flameReport.path(%d)" % f["node"])): f["value"] for f in frames if f["node"] >= 0}
    assert got and all(merged.get(p) == v for p, v in got.items())
    assert not any(re.search(r";\d+$", f["name"]) for f in frames)
    # Icicle: the root on top, children below.
    root = [f for f in frames if f["node"] < 0][0]
    assert root["y"] == 0 and all(f["y"] > 0 for f in frames if f["node"] >= 0)
    page.close()


def test_bounds_keep_every_sample_or_say_which_are_left_out(flameconv, browser, tmp_path):
    src = os.path.join(CAPTURES, "top100")
    _, text = build(flameconv, tmp_path, "top100")
    events = sum(1 for e in fork.parse(text) if not e["idle"])
    # Few entries: new stacks go to their cell's "[other stacks]"; no sample is lost.
    capped = str(tmp_path / "capped.html")
    run = subprocess.run([flameconv, "report", src, "-o", capped, "--max-report-entries", "100"], capture_output=True, text=True, check=True)
    assert "[other stacks]" in run.stderr
    page = open_report(browser, capped)
    assert page.eval("flameReport.capture.entries") < 100 + 3 * 9 * page.eval("flameReport.capture.columns * flameReport.capture.rows")
    frames = page.eval("flameReport.frames()")
    assert frames[0]["value"] == events
    assert any(f["name"] == "[other stacks]" for f in frames)
    page.close()
    # A short span: the samples past it are left out, and the run says so.
    short = str(tmp_path / "short.html")
    run = subprocess.run([flameconv, "report", src, "-o", short, "--max-report-seconds", "1"], capture_output=True, text=True, check=True)
    assert "more than 1 s from the first one" in run.stderr
    page = open_report(browser, short)
    assert page.eval("flameReport.capture.columns") == 1
    assert page.eval("flameReport.frames()[0].value") < events
    page.close()
