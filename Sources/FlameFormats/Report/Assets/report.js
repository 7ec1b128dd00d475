// flameconv report: the page's script. Plain JavaScript, no library, no
// build step: it reads the data embedded in #report-data and draws the heat
// maps and flame graphs on canvases (docs/report.md).
"use strict";

// ---------------------------------------------------------------- data

// A column: zigzag LEB128 varints in base64, as ReportEncoding writes them.
// Base64 is decoded through a table (atob's string of a million characters
// costs more than the numbers); one-byte numbers take the fast path, and
// numbers past 2^31 are read with arithmetic, not bit operations.
const base64Values = (() => {
  const t = new Uint8Array(128);
  const a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (let i = 0; i < a.length; i++) t[a.charCodeAt(i)] = i;
  return t;
})();

function base64Bytes(text) {
  let n = text.length;
  while (n > 0 && text.charCodeAt(n - 1) === 61) n--;  // '=' padding
  const out = new Uint8Array((n * 3) >> 2);
  let o = 0, i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = base64Values[text.charCodeAt(i)] << 18 | base64Values[text.charCodeAt(i + 1)] << 12 |
      base64Values[text.charCodeAt(i + 2)] << 6 | base64Values[text.charCodeAt(i + 3)];
    out[o++] = v >> 16; out[o++] = (v >> 8) & 255; out[o++] = v & 255;
  }
  if (n - i >= 2) {
    const v = base64Values[text.charCodeAt(i)] << 18 | base64Values[text.charCodeAt(i + 1)] << 12 |
      (n - i === 3 ? base64Values[text.charCodeAt(i + 2)] << 6 : 0);
    out[o++] = v >> 16;
    if (n - i === 3) out[o++] = (v >> 8) & 255;
  }
  return out;
}

function decodeColumn(text, count, Kind) {
  const bytes = base64Bytes(text);
  if (count === null) {
    count = 0;
    for (let i = 0; i < bytes.length; i++) if (bytes[i] < 128) count++;
  }
  const out = new Kind(count);
  let n = 0, i = 0;
  const end = bytes.length;
  next: while (i < end && n < count) {
    const b = bytes[i++];
    if (b < 128) { out[n++] = (b >>> 1) ^ -(b & 1); continue; }
    // Up to four bytes: 28 bits in integer arithmetic.
    let value = b & 127;
    for (let shift = 7; shift < 28; shift += 7) {
      const c = bytes[i++];
      value |= (c & 127) << shift;
      if (c < 128) { out[n++] = (value >>> 1) ^ -(value & 1); continue next; }
    }
    // Longer: exact in doubles up to 2^53.
    let big = value, scale = 268435456;
    for (;;) {
      const c = bytes[i++];
      big += (c & 127) * scale;
      if (c < 128) break;
      scale *= 128;
    }
    out[n++] = big % 2 === 0 ? big / 2 : -(big + 1) / 2;
  }
  if (n !== count || (end > 0 && bytes[end - 1] >= 128)) throw new Error("report data: a column holds " + n + " numbers, not " + count);
  return out;
}

// One capture's tables, decoded, with the stack tree's children lists.
function loadCapture(raw) {
  const t0 = performance.now();
  const c = {
    rows: raw.rows, columns: raw.columns, firstSecond: raw.firstSecond, ticks: raw.ticks,
    metrics: raw.metrics, weight: raw.weight, names: raw.names, notes: raw.notes, processes: raw.processes,
  };
  const e = raw.entries;
  c.nodeParents = decodeColumn(raw.nodeParents, null, Int32Array);
  c.nodeNames = decodeColumn(raw.nodeNames, c.nodeParents.length, Int32Array);
  c.entries = e;
  c.cells = decodeColumn(raw.cells, e, Int32Array);
  c.nodes = decodeColumn(raw.nodes, e, Int32Array);
  c.edges = decodeColumn(raw.edges, e, Uint8Array);
  c.samples = decodeColumn(raw.samples, e, Float64Array);
  c.sums = decodeColumn(raw.sums, e * c.metrics.length * 3, Float64Array);
  // The summary's processes, entries of their own (ReportEntries by process),
  // decoded on the first click on a process: opening the page does not wait for them.
  const pe = raw.processentries || 0;
  c.byProcessColumns = () => pe === 0 ? null : {
    entries: pe,
    cells: decodeColumn(raw.processcells, pe, Int32Array),
    nodes: decodeColumn(raw.processnodes, pe, Int32Array),
    edges: decodeColumn(raw.processedges, pe, Uint8Array),
    processes: decodeColumn(raw.processprocesses, pe, Int32Array),
    samples: decodeColumn(raw.processsamples, pe, Float64Array),
    sums: decodeColumn(raw.processsums, pe * c.metrics.length * 3, Float64Array),
  };
  timings.columns = performance.now() - t0;
  buildChildren(c);
  return c;
}

// Children of every node (roots under -1), in CSR form, sorted by name.
function buildChildren(c) {
  const n = c.nodeParents.length;
  const counts = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) counts[c.nodeParents[i] + 1]++;
  const start = new Int32Array(n + 2);
  for (let i = 0; i <= n; i++) start[i + 1] = start[i] + counts[i];
  const fill = start.slice(0, n + 1);
  const list = new Int32Array(n);
  for (let i = 0; i < n; i++) list[fill[c.nodeParents[i] + 1]++] = i;
  for (let p = 0; p <= n; p++) {
    const s = start[p], t = start[p + 1];
    if (t - s > 1) {
      const part = Array.from(list.subarray(s, t));
      part.sort((a, b) => (c.names[c.nodeNames[a]] < c.names[c.nodeNames[b]] ? -1 : 1));
      list.set(part, s);
    }
  }
  c.childStart = start; // children of node p (p = -1 for roots) are list[start[p+1] .. start[p+2])
  c.childList = list;
}

// ---------------------------------------------------------------- scalings

// The scalings the fork offers: samples, erlang_NAME and erlang_NAME_delta.
function scalingsOf(c) {
  const out = ["samples"];
  for (const m of c.metrics) out.push(m, m + "_delta");
  return out;
}

function parseScaling(c, name) {
  if (name === "samples") return { kind: "samples" };
  for (let i = 0; i < c.metrics.length; i++) {
    if (name === c.metrics[i]) return { kind: "value", metric: i };
    if (name === c.metrics[i] + "_delta") return { kind: "delta", metric: i };
  }
  return null;
}

// ---------------------------------------------------------------- heat map

// Cell values of one scaling, as the fork's heat map sums them: empty where no
// sample fell, else the sum, which may be 0.
function heatValues(c, scaling) {
  const cells = c.columns * c.rows;
  const values = new Float64Array(cells);
  const present = new Uint8Array(cells);
  const sc = parseScaling(c, scaling);
  const m3 = c.metrics.length * 3;
  for (let e = 0; e < c.entries; e++) {
    const cell = c.cells[e];
    if (cell < 0 || cell >= cells) continue;
    if (sc.kind === "samples") {
      values[cell] += c.samples[e];
      present[cell] = 1;
    } else {
      const base = e * m3 + 3 * sc.metric;
      values[cell] += sc.kind === "value" ? c.sums[base] : c.sums[base + 1] + c.sums[base + 2];
      present[cell] = 1;
    }
  }
  let min = 0, max = 0;
  for (let i = 0; i < cells; i++) if (present[i]) { min = Math.min(min, values[i]); max = Math.max(max, values[i]); }
  return { values, present, min, max };
}

// FlameScope's colours: white to red, and green for falling signed values.
const unsignedStops = [[255, 255, 255], [255, 80, 50], [229, 9, 20]];
const signedStops = [[9, 229, 101], [50, 255, 190], [255, 255, 255], [255, 80, 50], [229, 9, 20]];
const emptyColour = "#c8c8c8";

function mix(stops, t) {
  t = Math.max(0, Math.min(1, t));
  const x = t * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i, a = stops[i], b = stops[i + 1];
  return "rgb(" + Math.round(a[0] + (b[0] - a[0]) * f) + "," + Math.round(a[1] + (b[1] - a[1]) * f) + "," + Math.round(a[2] + (b[2] - a[2]) * f) + ")";
}

function cellColour(v, heat) {
  if (heat.min < 0) {
    const bound = Math.max(-heat.min, heat.max) || 1;
    return mix(signedStops, (v / bound + 1) / 2);
  }
  return mix(unsignedStops, heat.max > 0 ? v / heat.max : 0);
}

class HeatMap {
  constructor(canvas, hoverLabel, capture, onSelect) {
    this.canvas = canvas;
    this.hoverLabel = hoverLabel;
    this.c = capture;
    this.onSelect = onSelect;
    // At least 4 px a column while the canvas stays under the 32,767 px browsers
    // allow (8,000 columns); narrower past that, 1 px down to 32,000 columns,
    // the most a report holds (--max-report-seconds).
    const columns = Math.max(1, capture.columns);
    this.cellW = Math.max(1, Math.min(16, Math.max(Math.floor(1400 / columns), Math.min(4, Math.floor(32000 / columns)))));
    this.cellH = Math.max(4, Math.min(10, Math.floor(500 / capture.rows)));
    this.left = 48; this.top = 4; this.bottom = 22;
    this.selection = null; // [a, b] in cell time order, a <= b
    this.pending = null;   // first click of a click-click selection
    this.dragFrom = null;
    this.hover = null;
    this.attach();
  }

  setScaling(name) {
    this.scaling = name;
    this.heat = heatValues(this.c, name);
    this.draw();
  }

  cellAt(x, y) {
    const col = Math.floor((x - this.left) / this.cellW), bucket = Math.floor((y - this.top) / this.cellH);
    if (col < 0 || col >= this.c.columns || bucket < 0 || bucket >= this.c.rows) return null;
    return col * this.c.rows + bucket;
  }

  // Where cell (col, bucket) is on the page, for tests driving the mouse.
  cellCentre(col, bucket) {
    const r = this.canvas.getBoundingClientRect();
    return { x: r.left + this.left + col * this.cellW + this.cellW / 2, y: r.top + this.top + bucket * this.cellH + this.cellH / 2 };
  }

  describe(cell) {
    const c = this.c, col = Math.floor(cell / c.rows), bucket = cell % c.rows;
    const ms = 1000 * (bucket / c.rows);
    const count = this.sampleCounts ? this.sampleCounts.values[cell] : 0;
    const present = this.heat.present[cell];
    const time = "second " + col + " (" + utc(c.firstSecond + col) + "), offset " + fmtMs(ms) + "–" + fmtMs(1000 * ((bucket + 1) / c.rows)) + " ms";
    if (!present && !(this.sampleCounts && this.sampleCounts.present[cell])) return time + ": no sample";
    return time + ": " + fmtNum(count) + " samples, " + this.scaling + " " + (present ? fmtNum(this.heat.values[cell]) : "none");
  }

  draw() {
    const c = this.c, cv = this.canvas;
    if (!this.sampleCounts) this.sampleCounts = heatValues(c, "samples");
    const w = this.left + c.columns * this.cellW + 8, h = this.top + c.rows * this.cellH + this.bottom;
    cv.width = w; cv.height = h;
    const g = cv.getContext("2d");
    g.fillStyle = "#fff"; g.fillRect(0, 0, w, h);
    const heat = this.heat;
    for (let col = 0; col < c.columns; col++) {
      for (let b = 0; b < c.rows; b++) {
        const cell = col * c.rows + b;
        g.fillStyle = heat.present[cell] ? cellColour(heat.values[cell], heat) : emptyColour;
        g.fillRect(this.left + col * this.cellW, this.top + b * this.cellH, this.cellW - (this.cellW > 5 ? 1 : 0), this.cellH - (this.cellH > 5 ? 1 : 0));
      }
    }
    const sel = this.selection || (this.pending !== null ? [this.pending, this.hover !== null ? this.hover : this.pending].sort((a, b) => a - b) : null);
    if (sel) {
      g.fillStyle = "rgba(147,110,181,0.55)";
      for (let cell = sel[0]; cell <= sel[1]; cell++) {
        const col = Math.floor(cell / c.rows), b = cell % c.rows;
        g.fillRect(this.left + col * this.cellW, this.top + b * this.cellH, this.cellW, this.cellH);
      }
    }
    g.fillStyle = "#333"; g.font = "11px system-ui, sans-serif"; g.textBaseline = "middle";
    for (let b = 0; b < c.rows; b += Math.max(1, Math.round(c.rows / 10))) {
      g.fillText(fmtMs(1000 * (b / c.rows)) + " ms", 2, this.top + b * this.cellH + this.cellH / 2);
    }
    const step = Math.max(1, Math.ceil(40 / this.cellW));
    g.textBaseline = "top";
    for (let col = 0; col < c.columns; col += step) g.fillText(String(col), this.left + col * this.cellW, this.top + c.rows * this.cellH + 4);
  }

  attach() {
    const cv = this.canvas;
    const cellOf = (ev) => { const r = cv.getBoundingClientRect(); return this.cellAt(ev.clientX - r.left, ev.clientY - r.top); };
    cv.addEventListener("mousemove", (ev) => {
      const cell = cellOf(ev);
      this.hover = cell;
      this.hoverLabel.textContent = cell === null ? "" : this.describe(cell);
      if (this.dragFrom !== null && cell !== null && cell !== this.dragFrom) {
        this.selection = [Math.min(this.dragFrom, cell), Math.max(this.dragFrom, cell)];
        this.dragged = true;
        this.draw();
      } else if (this.pending !== null) {
        this.draw();
      }
    });
    cv.addEventListener("mousedown", (ev) => {
      const cell = cellOf(ev);
      if (cell === null) return;
      this.dragFrom = cell; this.dragged = false;
      ev.preventDefault();
    });
    window.addEventListener("mouseup", (ev) => {
      if (this.dragFrom === null) return;
      const from = this.dragFrom;
      this.dragFrom = null;
      if (this.dragged) {
        this.pending = null;
        this.onSelect(this.selection);
        return;
      }
      // A click: the first picks the start cell, the second the end cell.
      const cell = ev.target === cv ? cellOf(ev) : null;
      if (cell === null) return;
      if (this.pending === null) {
        this.pending = from; this.selection = null;
        this.draw();
      } else {
        this.selection = [Math.min(this.pending, cell), Math.max(this.pending, cell)];
        this.pending = null;
        this.draw();
        this.onSelect(this.selection);
      }
    });
    cv.addEventListener("mouseleave", () => { this.hover = null; });
  }

  select(range) {
    this.selection = range; this.pending = null;
    this.draw();
  }
}

// ---------------------------------------------------------------- flame graph

// The tree of one range and weight: per node, its own weight and its total;
// a negative tree beside it for deltas that fell (the fork's "negative" root).
function rangeTree(c, range, scaling, filterNode) {
  const n = c.nodeParents.length;
  const pos = new Float64Array(n), neg = new Float64Array(n);
  const sc = parseScaling(c, scaling);
  const m3 = c.metrics.length * 3;
  const a = range ? range[0] : -Infinity, b = range ? range[1] : Infinity;
  for (let e = 0; e < c.entries; e++) {
    const cell = c.cells[e], edge = c.edges[e];
    // Inside [a, b] as the fork's inclusive time range sees it (ReportGrid.edges).
    if (a > cell + (Math.floor(edge / 3) - 1) || cell + (edge % 3 - 1) > b) continue;
    const node = c.nodes[e];
    if (sc.kind === "samples") { pos[node] += c.samples[e]; continue; }
    const base = e * m3 + 3 * sc.metric;
    if (sc.kind === "value") {
      const v = c.sums[base];
      if (v >= 0) pos[node] += v; else neg[node] -= v;
    } else {
      pos[node] += c.sums[base + 1];
      neg[node] -= c.sums[base + 2];
    }
  }
  void filterNode;
  return { pos: totalsOf(c, pos), neg: totalsOf(c, neg), hasNegative: neg.some((v) => v > 0) };
}

// Totals from own weights: parents come before their children in the node table.
function totalsOf(c, own) {
  const total = Float64Array.from(own);
  for (let i = c.nodeParents.length - 1; i >= 0; i--) {
    const p = c.nodeParents[i];
    if (p >= 0) total[p] += total[i];
  }
  let root = 0;
  for (let i = 0; i < c.nodeParents.length; i++) if (c.nodeParents[i] < 0) root += total[i];
  return { own, total, root };
}

// "Merge by function": frames that differ only by their line number become
// one; a second table of nodes, made once, maps each node to its merged one.
function mergedCapture(c) {
  if (c.merged) return c.merged;
  const names = [], nameIds = new Map(), parents = [], nodeNames = [], keys = new Map();
  const map = new Int32Array(c.nodeParents.length);
  for (let i = 0; i < c.nodeParents.length; i++) {
    const name = c.names[c.nodeNames[i]].replace(/;\d+$/, "");
    let id = nameIds.get(name);
    if (id === undefined) { id = names.length; names.push(name); nameIds.set(name, id); }
    const parent = c.nodeParents[i] < 0 ? -1 : map[c.nodeParents[i]];
    const key = parent + "/" + id;
    let node = keys.get(key);
    if (node === undefined) { node = parents.length; parents.push(parent); nodeNames.push(id); keys.set(key, node); }
    map[i] = node;
  }
  const m = Object.assign({}, c, {
    names, nodeParents: Int32Array.from(parents), nodeNames: Int32Array.from(nodeNames), nodes: c.nodes.map((x) => map[x]),
  });
  m.merged = m;
  buildChildren(m);
  c.merged = m;
  return m;
}

// The path of a node, its names from the root, as one string: how frames of
// two captures (or two trees) are matched.
function pathKey(c, node) {
  const parts = [];
  for (let n = node; n >= 0; n = c.nodeParents[n]) parts.push(c.names[c.nodeNames[n]]);
  return parts.reverse().join("\u0000");
}

class FlameGraph {
  constructor(canvas, onZoom) {
    this.canvas = canvas;
    this.onZoom = onZoom;
    this.rowH = 17;
    this.frames = [];
    this.zoom = -1;
    this.canvas.addEventListener("mousemove", (ev) => this.hover(ev));
    this.canvas.addEventListener("mouseleave", () => { tooltip.hidden = true; });
    this.canvas.addEventListener("click", (ev) => {
      const f = this.frameAt(ev);
      if (f) this.onZoom(f.node);
    });
  }

  // c: capture (or merged view), tree: rangeTree, opts: {inverted, search, diff, zoom}
  render(c, tree, opts) {
    this.c = c; this.tree = tree; this.opts = opts;
    const pos = tree.pos;
    const width = Math.max(300, this.canvas.parentElement.clientWidth);
    // Roots: a "positive" and a "negative" root as the fork makes them, when deltas fell.
    const roots = [];
    roots.push({ label: tree.hasNegative ? "positive" : "all", totals: pos });
    if (tree.hasNegative) roots.push({ label: "negative", totals: tree.neg });
    const grand = roots.reduce((s, r) => s + r.totals.root, 0);
    this.grand = grand;
    const frames = [];
    let depthMax = 0;
    const zoomPath = [];
    for (let n = opts.zoom; n >= 0; n = c.nodeParents[n]) zoomPath.push(n);
    zoomPath.reverse();
    let x0 = 0;
    for (const root of roots) {
      const t = root.totals;
      const rw = grand > 0 ? (root.totals.root / grand) * width : 0;
      if (opts.zoom >= 0 && (t.total[opts.zoom] || 0) === 0) continue;
      const span = opts.zoom >= 0 ? width : rw;
      const rx = opts.zoom >= 0 ? 0 : x0;
      frames.push({ node: -1, name: root.label, value: t.root, x: rx, w: span, depth: 0, rootLabel: root.label });
      // Zoomed: the zoomed node's ancestors fill the width; its subtree is scaled to it.
      let depth = 1;
      if (opts.zoom >= 0) {
        for (const n of zoomPath) {
          frames.push({ node: n, name: c.names[c.nodeNames[n]], value: t.total[n], x: 0, w: width, depth: depth++, rootLabel: root.label, totals: t });
        }
        this.layout(c, t, opts.zoom, 0, width / t.total[opts.zoom], depth - 1, frames, root.label);
      } else {
        this.layoutChildren(c, t, -1, rx, t.root > 0 ? rw / t.root : 0, 1, frames, root.label);
      }
      x0 += rw;
    }
    for (const f of frames) depthMax = Math.max(depthMax, f.depth);
    this.frames = frames;
    const height = (depthMax + 1) * this.rowH + 4;
    const cv = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    cv.width = Math.round(width * ratio); cv.height = Math.round(height * ratio);
    cv.style.height = height + "px";
    const g = cv.getContext("2d");
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.fillStyle = "#fff"; g.fillRect(0, 0, width, height);
    g.font = "11px system-ui, sans-serif"; g.textBaseline = "middle";
    let matched = 0;
    const matcher = opts.search;
    for (const f of frames) {
      const y = opts.inverted ? f.depth * this.rowH : height - (f.depth + 1) * this.rowH;
      f.y = y;
      const isMatch = matcher && f.node >= 0 && matcher(f.name);
      f.match = !!isMatch;
      let colour;
      if (isMatch) colour = "rgb(200,60,230)";
      else if (opts.diff && f.node >= 0) colour = opts.diff.colour(c, f.node, f.totals || null, f.rootLabel);
      else colour = frameColour(f.name, f.node < 0);
      g.fillStyle = colour;
      g.fillRect(f.x, y, Math.max(0.5, f.w - 0.5), this.rowH - 1);
      if (f.w > 30) {
        g.fillStyle = "#000";
        g.save();
        g.beginPath(); g.rect(f.x, y, f.w - 2, this.rowH); g.clip();
        g.fillText(f.name, f.x + 3, y + this.rowH / 2);
        g.restore();
      }
    }
    // The share of matches: each matching frame counted once, not under another match.
    if (matcher) {
      for (const f of frames) {
        if (!f.match) continue;
        let covered = false;
        for (let p = c.nodeParents[f.node]; p >= 0; p = c.nodeParents[p]) if (matcher(c.names[c.nodeNames[p]])) { covered = true; break; }
        if (!covered) matched += f.value;
      }
    }
    this.matched = matched;
    return { grand, matched };
  }

  layoutChildren(c, t, parent, x, scale, depth, frames, rootLabel) {
    const s = c.childStart[parent + 1], e = c.childStart[parent + 2];
    let cx = x;
    for (let i = s; i < e; i++) {
      const n = c.childList[i];
      const v = t.total[n];
      if (v <= 0) continue;
      const w = v * scale;
      if (w >= 0.3) {
        frames.push({ node: n, name: c.names[c.nodeNames[n]], value: v, x: cx, w, depth, rootLabel, totals: t });
        this.layoutChildren(c, t, n, cx, scale, depth + 1, frames, rootLabel);
      }
      cx += w;
    }
  }

  layout(c, t, node, x, scale, depth, frames, rootLabel) {
    this.layoutChildren(c, t, node, x, scale, depth + 1, frames, rootLabel);
  }

  frameAt(ev) {
    const r = this.canvas.getBoundingClientRect();
    const x = ev.clientX - r.left, y = ev.clientY - r.top;
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const f = this.frames[i];
      if (x >= f.x && x < f.x + f.w && y >= f.y && y < f.y + this.rowH) return f;
    }
    return null;
  }

  hover(ev) {
    const f = this.frameAt(ev);
    if (!f) { tooltip.hidden = true; return; }
    const share = this.grand > 0 ? (100 * f.value / this.grand) : 0;
    let text = f.name + "\n" + fmtNum(f.value) + " " + this.opts.weight + " (" + share.toFixed(2) + "% of all)";
    if (this.opts.diff && f.node >= 0) text += "\n" + this.opts.diff.describe(this.c, f.node, f.totals, f.rootLabel);
    tooltip.textContent = text;
    tooltip.style.whiteSpace = "pre-wrap";
    tooltip.hidden = false;
    tooltip.style.left = Math.min(ev.clientX + 12, window.innerWidth - 420) + "px";
    tooltip.style.top = (ev.clientY + 14) + "px";
  }
}

// Warm colours by name, the flame graph convention; roots grey.
function frameColour(name, root) {
  if (root) return "rgb(200,200,200)";
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
  const r = 205 + (h % 50), g2 = 80 + ((h >>> 8) % 120), b = 40 + ((h >>> 16) % 40);
  return "rgb(" + r + "," + g2 + "," + b + ")";
}

// ---------------------------------------------------------------- differential

// FlameScope's differential (app/common/flame_graph.py and d3-flame-graph's
// differential colours): a frame's delta is its weight now less its weight
// in the baseline scaled to the same total, d = now - before * (total now /
// total before); red where it grew, blue where it shrank, the deeper the
// larger |d| is against the frame's weight. Here the weights are the frames'
// totals (the fork's tree holds own weights, which d3 adds up). For the
// baseline's own graph (side by side), `sign` -1 keeps the colours meaning
// the same change: from the baseline to the compared range.
function differential(baseC, baseTree, sign = 1) {
  const totals = new Map();
  const bt = baseTree.pos;
  for (let n = 0; n < baseC.nodeParents.length; n++) {
    if (bt.total[n] > 0) totals.set(pathKey(baseC, n), bt.total[n]);
  }
  const changeOf = (c, node, t) => {
    const value = t ? t.total[node] : 0, root = t ? t.root : 0;
    const other = totals.get(pathKey(c, node)) || 0;
    const scaled = bt.root > 0 ? other * (root / bt.root) : 0;
    const share = root > 0 ? value / root : 0, before = bt.root > 0 ? other / bt.root : 0;
    // Seen from the baseline's side, "now" is the other graph: the same delta, reversed.
    const delta = sign * (value - scaled);
    return { share, before, delta, vector: value > 0 || scaled > 0 ? Math.min(1, Math.abs(value - scaled) / Math.max(value, Math.abs(value - scaled))) : 0 };
  };
  return {
    baseRoot: bt.root,
    colour(c, node, t) {
      const d = changeOf(c, node, t);
      const fade = Math.round(255 - 200 * d.vector);
      if (d.delta > 0) return "rgb(255," + fade + "," + fade + ")";
      if (d.delta < 0) return "rgb(" + fade + "," + fade + ",255)";
      return "rgb(235,235,235)";
    },
    describe(c, node, t) {
      const d = changeOf(c, node, t);
      const [now, then] = sign > 0 ? [d.share, d.before] : [d.before, d.share];
      return "share " + (100 * now).toFixed(2) + "% against " + (100 * then).toFixed(2) + "% in the baseline; delta " +
        (d.delta >= 0 ? "+" : "") + fmtNum(Math.round(d.delta * 100) / 100) + " (normalised by the totals)";
    },
    change: changeOf,
  };
}

// ---------------------------------------------------------------- helpers

function fmtNum(v) { return Number.isInteger(v) ? v.toLocaleString("en-US") : String(v); }
function fmtMs(v) { return (Math.round(v * 100) / 100).toString(); }
function utc(second) { return new Date(second * 1000).toISOString().replace(".000Z", "Z"); }
function el(id) { return document.getElementById(id); }
const tooltip = el("tooltip");

function searchMatcher(text) {
  if (!text) return null;
  if (text.length > 2 && text.startsWith("/") && text.endsWith("/")) {
    try { const re = new RegExp(text.slice(1, -1)); return (name) => re.test(name); } catch (e) { return null; }
  }
  return (name) => name.includes(text);
}

// ---------------------------------------------------------------- the page

const state = {
  heatScaling: "samples", weight: "samples", range: null, zoom: -1, inverted: false, merge: false,
  search: "", diffMode: "off", diffBase: "range", pinned: null, process: null,
};

// How long each step of opening took, for the README's figures and for tests.
const timings = {};
function timed(name, f) { const t = performance.now(); const r = f(); timings[name] = performance.now() - t; return r; }

const raw = timed("parse", () => JSON.parse(el("report-data").textContent));
const capture = timed("decode", () => loadCapture(raw.capture));
const baseline = raw.baseline ? loadCapture(raw.baseline) : null;
state.weight = capture.weight;
const heat = new HeatMap(el("heat-canvas"), el("heat-hover"), capture, (range) => {
  state.range = range; state.zoom = -1; renderFlame();
});
const baseHeat = baseline ? new HeatMap(el("baseline-canvas"), el("baseline-hover"), baseline, (range) => {
  state.baselineRange = range; renderFlame();
}) : null;
const flame = new FlameGraph(el("flame-canvas"), (node) => { state.zoom = node; renderFlame(); });
const side = new FlameGraph(el("side-canvas"), () => {});

function option(select, value, text) {
  const o = document.createElement("option");
  o.value = value; o.textContent = text; select.appendChild(o);
}

function rangeText(c, range) {
  if (!range) return "whole capture";
  const at = (cell, end) => {
    const col = Math.floor(cell / c.rows), b = cell % c.rows + (end ? 1 : 0);
    return col + "s+" + fmtMs(1000 * (b / c.rows)) + "ms";
  };
  return at(range[0], false) + " – " + at(range[1], true);
}

// One process's view of the capture: its entries only, the same stack tree.
function processView(c, p) {
  c.processViews = c.processViews || new Map();
  if (c.processViews.has(p)) return c.processViews.get(p);
  if (c.byProcess === undefined) c.byProcess = c.byProcessColumns();
  const b = c.byProcess, m3 = c.metrics.length * 3;
  const keep = [];
  if (b) for (let e = 0; e < b.entries; e++) if (b.processes[e] === p) keep.push(e);
  const pick = (column, Kind) => Kind.from(keep, (e) => column[e]);
  const sums = new Float64Array(keep.length * m3);
  keep.forEach((e, i) => sums.set(b.sums.subarray(e * m3, (e + 1) * m3), i * m3));
  const v = Object.assign({}, c, {
    entries: keep.length, merged: undefined, processViews: undefined, byProcess: null,
    cells: b ? pick(b.cells, Int32Array) : new Int32Array(0), nodes: b ? pick(b.nodes, Int32Array) : new Int32Array(0),
    edges: b ? pick(b.edges, Uint8Array) : new Uint8Array(0), samples: b ? pick(b.samples, Float64Array) : new Float64Array(0), sums,
  });
  c.processViews.set(p, v);
  return v;
}

// What the views show: the capture, or one process of it (the summary's
// filter), with frames merged by function or not.
function currentView(c) {
  const base = c === capture && state.process !== null ? processView(c, state.process) : c;
  return state.merge ? mergedCapture(base) : base;
}

// A click on a process filters every view to it; a second click, or another process, changes it.
function setProcess(p) {
  state.process = state.process === p ? null : p;
  state.zoom = -1;
  const view = state.process === null ? capture : processView(capture, state.process);
  heat.c = view; heat.sampleCounts = null;
  heat.setScaling(state.heatScaling);
  for (const [i, tr] of Array.from(el("processes").querySelector("tbody").rows).entries()) tr.classList.toggle("chosen", i === state.process);
  const name = state.process === null ? "" : capture.processes[state.process].pid + " " + capture.processes[state.process].name;
  el("process-label").textContent = state.process === null ? "" : "Process " + name + (capture.processes[state.process].partial ? " (partial: see the notes)" : "");
  el("process-clear").hidden = state.process === null;
  renderTopStacks(view);
  renderFlame();
}

function renderFlame() {
  const t0 = performance.now();
  const view = currentView(capture);
  const tree = rangeTree(view, state.range, state.weight);
  el("range-label").textContent = "Range: " + rangeText(capture, state.range);
  const matcher = searchMatcher(state.search);
  let diff = null, baseView = null, baseTree = null, baseLabel = "";
  if (state.diffMode !== "off") {
    if (state.diffBase === "capture" && baseline) {
      baseView = currentView(baseline);
      baseTree = rangeTree(baseView, state.baselineRange || null, state.weight);
      baseLabel = "baseline capture, " + rangeText(baseline, state.baselineRange || null);
    } else {
      baseView = view;
      baseTree = rangeTree(view, state.pinned, state.weight);
      baseLabel = "baseline range " + rangeText(capture, state.pinned);
    }
    diff = differential(baseView, baseTree);
  }
  if (state.zoom >= view.nodeParents.length) state.zoom = -1;
  const opts = { inverted: state.inverted, search: matcher, zoom: state.zoom, weight: state.weight, diff };
  const result = flame.render(view, tree, opts);
  el("main-caption").textContent = (diff ? "compared: " : "") + rangeText(capture, state.range) + ", " + fmtNum(result.grand) + " " + state.weight;
  const sideOn = state.diffMode === "side";
  el("flame-side").hidden = !sideOn;
  if (sideOn) {
    // The baseline drawn with the colours of the change, from its own side.
    const back = differential(view, tree, -1);
    side.render(baseView, baseTree, { inverted: state.inverted, search: matcher, zoom: -1, weight: state.weight, diff: back });
    el("side-caption").textContent = baseLabel + ", " + fmtNum(baseTree.pos.root + baseTree.neg.root) + " " + state.weight + " (colours: the same change)";
    flame.render(view, tree, opts);
  }
  el("diff-label").textContent = diff ? "baseline: " + baseLabel : "";
  el("search-result").textContent = matcher ? "matched " + fmtNum(result.matched) + " of " + fmtNum(result.grand) + " (" + (result.grand > 0 ? (100 * result.matched / result.grand).toFixed(2) : "0.00") + "%)" : "";
  renderBreadcrumb(view);
  state.lastRenderMs = performance.now() - t0;
}

function renderBreadcrumb(view) {
  const bc = el("breadcrumb");
  bc.textContent = "";
  const add = (text, node) => {
    const a = document.createElement("a");
    a.textContent = text;
    a.addEventListener("click", () => { state.zoom = node; renderFlame(); });
    bc.appendChild(a);
  };
  add("all", -1);
  const path = [];
  for (let n = state.zoom; n >= 0; n = view.nodeParents[n]) path.push(n);
  for (const n of path.reverse()) { bc.appendChild(document.createTextNode(" › ")); add(view.names[view.nodeNames[n]], n); }
}

function renderSummary() {
  const c = capture;
  let samples = 0;
  for (let e = 0; e < c.entries; e++) samples += c.samples[e];
  const first = utc(c.firstSecond), span = c.columns;
  el("summary-line").textContent = fmtNum(samples) + " samples in " + fmtNum(c.ticks) + " ticks, " + span + " s from " + first +
    "; heat map " + c.columns + " × " + c.rows + " cells of " + fmtMs(1000 / c.rows) + " ms";
  el("notes").textContent = c.notes.join("; ");
  const fig = el("summary-figures");
  fig.textContent = "Samples " + fmtNum(samples) + " · ticks " + fmtNum(c.ticks) + " · seconds " + span + " · stacks " + fmtNum(c.nodeParents.length) +
    " nodes · entries " + fmtNum(c.entries) + " · metrics " + c.metrics.join(", ");
  renderTopStacks(c);
  const body = el("processes").querySelector("tbody");
  c.processes.forEach((p, i) => {
    const tr = document.createElement("tr");
    tr.className = "process";
    for (const text of [p.pid, p.name, fmtNum(p.samples)]) {
      const td = document.createElement("td"); td.textContent = text; tr.appendChild(td);
    }
    const td = document.createElement("td");
    td.appendChild(statusStrip(c, p));
    td.title = p.changes.map((ch) => fmtMs((ch[0] - c.firstSecond * 1000) / 1000) + " s: " + ch[1]).join("\n");
    tr.appendChild(td);
    tr.addEventListener("click", () => setProcess(i));
    body.appendChild(tr);
  });
}

// Top stacks: leaf totals of the view by samples and by the chosen weight.
function renderTopStacks(c) {
  const topOf = (scaling, list) => {
    const tree = rangeTree(c, null, scaling).pos;
    // The ten heaviest leaves in one pass, not a sort of every node.
    const leaves = [];
    for (let n = 0; n < c.nodeParents.length; n++) {
      const v = tree.own[n];
      if (v <= 0 || (leaves.length === 10 && v <= tree.own[leaves[9]])) continue;
      let i = leaves.length < 10 ? leaves.length : 9;
      if (leaves.length < 10) leaves.push(n);
      while (i > 0 && tree.own[leaves[i - 1]] < v) { leaves[i] = leaves[i - 1]; i--; }
      leaves[i] = n;
    }
    list.textContent = "";
    for (const n of leaves) {
      const li = document.createElement("li");
      li.textContent = fmtNum(tree.own[n]) + " (" + (100 * tree.own[n] / (tree.root || 1)).toFixed(1) + "%): " + pathKey(c, n).split("\u0000").join(" ; ");
      list.appendChild(li);
    }
  };
  topOf("samples", el("top-samples"));
  // Beside samples, the chosen weight; by default what stats ranks by too.
  const second = c.weight !== "samples" ? c.weight : (c.metrics.includes("erlang_reductions") ? "erlang_reductions_delta" : null);
  if (second) {
    el("top-weight-title").textContent = "Top stacks by " + second;
    topOf(second, el("top-weight"));
  } else {
    el("top-weight").parentElement.hidden = true;
  }
}

// A process's status over the capture: one colour per status, from each change to the next.
const statusColours = { running: "#e4572e", runnable: "#f3a712", waiting: "#76b041", garbage_collecting: "#8e6c8a", exiting: "#444", suspended: "#29335c" };
function statusStrip(c, p) {
  const cv = document.createElement("canvas");
  cv.className = "status-strip";
  const width = 480, height = 12;
  cv.width = width; cv.height = height;
  const g = cv.getContext("2d");
  const span = Math.max(1, c.columns) * 1000, from = c.firstSecond * 1000;
  g.fillStyle = "#eee"; g.fillRect(0, 0, width, height);
  for (let i = 0; i < p.changes.length; i++) {
    const start = (p.changes[i][0] - from) / span * width;
    const end = i + 1 < p.changes.length ? (p.changes[i + 1][0] - from) / span * width : width;
    g.fillStyle = statusColours[p.changes[i][1]] || "#999";
    g.fillRect(start, 0, Math.max(1, end - start), height);
  }
  return cv;
}

function setup() {
  el("title").textContent = raw.title;
  const hs = el("heat-select"), ws = el("weight-select");
  for (const s of scalingsOf(capture)) { option(hs, s, s); option(ws, s, s); }
  hs.value = state.heatScaling; ws.value = state.weight;
  hs.addEventListener("change", () => { state.heatScaling = hs.value; heat.setScaling(hs.value); });
  ws.addEventListener("change", () => { state.weight = ws.value; state.zoom = -1; renderFlame(); });
  el("search").addEventListener("input", (ev) => { state.search = ev.target.value; renderFlame(); });
  el("invert").addEventListener("change", (ev) => { state.inverted = ev.target.checked; renderFlame(); });
  el("merge").addEventListener("change", (ev) => { state.merge = ev.target.checked; state.zoom = -1; renderFlame(); });
  el("reset-zoom").addEventListener("click", () => { state.zoom = -1; renderFlame(); });
  el("range-clear").addEventListener("click", () => { state.range = null; state.zoom = -1; heat.select(null); renderFlame(); });
  el("process-clear").addEventListener("click", () => setProcess(state.process));
  const ds = el("diff-base");
  option(ds, "range", "the baseline range of this capture");
  if (baseline) { option(ds, "capture", "the baseline capture (--baseline)"); ds.value = "capture"; state.diffBase = "capture"; }
  ds.addEventListener("change", () => { state.diffBase = ds.value; renderFlame(); });
  el("diff-mode").addEventListener("change", (ev) => { state.diffMode = ev.target.value; renderFlame(); });
  el("diff-pin").addEventListener("click", () => { state.pinned = state.range; state.diffBase = "range"; ds.value = "range"; renderFlame(); });
  if (baseHeat) { el("baseline-heat").hidden = false; baseHeat.setScaling("samples"); }
  timed("heatmap", () => heat.setScaling(state.heatScaling));
  timed("summary", () => renderSummary());
  timed("flamegraph", () => renderFlame());
  window.addEventListener("resize", () => renderFlame());
}

setup();

// What tests (and curious users, from the console) can read of the page.
window.flameReport = {
  state, capture, baseline, heat, flame, side, timings, setProcess,
  heatValues: (scaling) => { const h = heatValues(capture, scaling); return { values: Array.from(h.values), present: Array.from(h.present) }; },
  cellCentre: (col, bucket) => heat.cellCentre(col, bucket),
  frames: () => flame.frames.map((f) => ({ node: f.node, name: f.name, value: f.value, x: f.x, w: f.w, y: f.y, depth: f.depth, match: f.match, root: f.rootLabel })),
  sideFrames: () => side.frames.map((f) => ({
    node: f.node, name: f.name, value: f.value, x: f.x, w: f.w, y: f.y, depth: f.depth, root: f.rootLabel,
    path: f.node >= 0 ? pathKey(side.c, f.node).split("\u0000") : [],
  })),
  pixel: (id, x, y) => { const g = el(id).getContext("2d"); const r = window.devicePixelRatio || 1; return Array.from(g.getImageData(Math.round(x * r), Math.round(y * r), 1, 1).data); },
  change: (node) => { const f = flame.frames.find((x) => x.node === node); return flame.opts.diff.change(flame.c, node, f.totals).delta; },
  path: (node) => pathKey(currentView(capture), node).split("\u0000"),
  render: () => renderFlame(),
  ready: true,
};
