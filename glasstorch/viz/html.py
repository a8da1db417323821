"""The trace page: one self-contained HTML file (inline CSS and JavaScript, no network, opens from disk).

Three linked views: the source (each traced line clickable), the graph (ops as boxes laid out left to
right, tensors as edges; hover or click shows value, shape and gradient) and the table of steps.
Selecting in one highlights the same ops in the others and shows their values in the details pane.
The data goes into the page as one JavaScript object literal; the script draws everything from it.
"""
from __future__ import annotations

import json
import os

from .._atomic import atomic_write

_CSS = """
body{font:13px/1.4 system-ui,sans-serif;margin:0;color:#222}
header{padding:8px 14px;background:#243b53;color:#fff}
header h1{font-size:16px;margin:0}
.note{background:#fff3cd;color:#5c4400;padding:4px 14px;margin:0}
main{display:grid;grid-template-columns:minmax(260px,38%) 1fr;grid-template-rows:minmax(260px,55vh) auto;gap:8px;padding:8px}
section{border:1px solid #ccd;border-radius:4px;overflow:auto;background:#fff}
section h2{font-size:12px;margin:0;padding:4px 8px;background:#eef;position:sticky;top:0;z-index:1}
#source pre{margin:0;font:12px/1.5 ui-monospace,monospace}
.line{white-space:pre;padding:0 8px}
.line .no{display:inline-block;width:3em;color:#999;text-align:right;margin-right:8px}
.line.traced{cursor:pointer;background:#f3f8ff}
.line.traced:hover,.line.sel{background:#ffe8a3}
#graph svg{display:block}
.gnode rect{fill:#e8f0fe;stroke:#4a6fa5;rx:6}
.gnode.tensor rect{fill:#f4f4f4;stroke:#999}
.gnode.sel rect{fill:#ffe8a3;stroke:#c77d00;stroke-width:2}
.gnode{cursor:pointer}.gnode text{font:11px ui-monospace,monospace}
.gnode .op{font-weight:bold}
.gedge{fill:none;stroke:#889;stroke-width:1.5}
.gedge.sel{stroke:#c77d00;stroke-width:2.5}
#steps{grid-column:1/3;max-height:45vh}
table{border-collapse:collapse;width:100%;font:12px ui-monospace,monospace}
td,th{border-bottom:1px solid #eee;padding:2px 6px;text-align:left;vertical-align:top}
tr.step{cursor:pointer}tr.step:hover,tr.sel{background:#ffe8a3}
tr.backward td.phase{color:#a33}
#details{grid-column:1/3}
#details pre{margin:0;padding:6px 10px;font:12px ui-monospace,monospace;white-space:pre-wrap}
"""

_JS = r"""
"use strict";
const $ = (tag, attrs, text) => {
  const svg = ["svg","g","rect","text","path","title"].includes(tag);
  const el = svg ? document.createElementNS("http://www.w3.org/2000/svg", tag) : document.createElement(tag);
  for (const k in (attrs || {})) el.setAttribute(k, attrs[k]);
  if (text !== undefined) el.textContent = text;
  return el;
};
function num(x) {
  if (typeof x !== "number") return String(x);
  if (!isFinite(x)) return String(x);
  if (Number.isInteger(x) && Math.abs(x) < 1e5) return x.toFixed(4);
  if (x !== 0 && (Math.abs(x) >= 1e5 || Math.abs(x) < 1e-4)) return x.toExponential(4);
  return x.toFixed(4);
}
function nested(v) { return Array.isArray(v) ? "[" + v.map(nested).join(", ") + "]" : num(v); }
function short(s) {                     // one line: for table cells and graph labels
  if (!s) return "";
  if (s.values === undefined) return "shape [" + s.shape + "]" + (s.stats ? " mean " + num(s.stats.mean) : "");
  const t = nested(s.values);
  return t.length > 60 ? t.slice(0, 57) + "..." : t;
}
function full(s) {                      // everything we kept: for the details pane
  if (!s) return "None";
  let head = "shape [" + s.shape + "] " + s.dtype + " " + s.device;
  if (s.values !== undefined) return head + "\n" + nested(s.values);
  const st = s.stats ? "\nmin " + num(s.stats.min) + "  max " + num(s.stats.max) + "  mean " + num(s.stats.mean) +
             "  std " + num(s.stats.std) : "";
  return head + " (" + s.numel + " elements, summarised)" + st + "\nfirst " + s.sample.length + ": " + nested(s.sample);
}
const T = DATA.tensors, S = DATA.steps;
const key = (f, l) => f + ":" + l;
const byLine = {};
for (const s of S) if (s.file) (byLine[key(s.file, s.line)] = byLine[key(s.file, s.line)] || []).push(s.index);

function stepText(s) {
  const lines = [];
  const where = s.file ? " (" + s.file.split("/").pop() + ":" + s.line + ")" : "";
  if (s.kind === "node") {
    lines.push("#" + s.index + " backward " + s.name + where);
    lines.push("  grad in:  " + full(s.grad).replace(/\n/g, "\n            "));
    (s.input_grads || []).forEach((g, i) => { if (g) lines.push("  grad out " + i + ": " + full(g).replace(/\n/g, "\n            ")); });
    return lines.join("\n");
  }
  lines.push("#" + s.index + " " + s.name + (s.grad_fn ? " -> " + s.grad_fn : "") + where);
  s.inputs.forEach((t, i) => lines.push("  input " + i + (T[t].name ? " " + T[t].name : "") + ": " + full(T[t]).replace(/\n/g, "\n    ")));
  s.outputs.forEach((t, i) => {
    lines.push("  output" + (s.outputs.length > 1 ? " " + i : "") + ": " + full(T[t]).replace(/\n/g, "\n    "));
    if (T[t].grad) lines.push("  grad: " + full(T[t].grad).replace(/\n/g, "\n    "));
  });
  return lines.join("\n");
}

function select(steps, lineKey, extraText) {
  document.querySelectorAll(".sel").forEach(e => e.classList.remove("sel"));
  const set = new Set(steps);
  for (const i of set) {
    const row = document.getElementById("row" + i); if (row) row.classList.add("sel");
    const node = document.getElementById("node-s" + i); if (node) node.classList.add("sel");
  }
  if (lineKey) { const l = document.getElementById("line-" + lineKey); if (l) { l.classList.add("sel"); l.scrollIntoView({block: "nearest"}); } }
  const text = steps.map(i => stepText(S[i]));
  if (extraText) text.unshift(extraText);
  document.getElementById("detail-text").textContent = text.join("\n\n") || "(nothing recorded here)";
}

function drawSource() {
  const box = document.getElementById("source-body");
  const files = Object.keys(DATA.sources);
  if (!files.length) { box.appendChild($("p", {}, "(no source: this page shows a graph only)")); return; }
  for (const f of files) {
    box.appendChild($("h3", {style: "font-size:12px;margin:6px 8px"}, (DATA.names || {})[f] || f));
    const pre = $("pre");
    DATA.sources[f].split("\n").forEach((text, i) => {
      const k = key(f, i + 1), div = $("div", {class: "line", id: "line-" + k});
      div.appendChild($("span", {class: "no"}, String(i + 1)));
      div.appendChild(document.createTextNode(text));
      if (byLine[k]) { div.classList.add("traced"); div.title = byLine[k].length + " op(s): click for values";
                       div.onclick = () => select(byLine[k], k); }
      pre.appendChild(div);
    });
    box.appendChild(pre);
  }
}

function drawGraph() {
  const G = DATA.graph, W = 170, H = 58, pos = {};
  let maxX = 0, maxY = 0;
  for (const n of G.nodes) if (n.tensor !== undefined && n.tensor !== null) { n.data = T[n.tensor]; n.grad = T[n.tensor].grad; }
  for (const n of G.nodes) { pos[n.id] = n; maxX = Math.max(maxX, n.x + W); maxY = Math.max(maxY, n.y + H); }
  const svg = $("svg", {width: maxX + 30, height: maxY + 30, id: "graph-svg", viewBox: `0 0 ${maxX + 30} ${maxY + 30}`});
  if (maxX < 2000) { svg.style.maxWidth = "100%"; svg.style.height = "auto"; }  // small graphs: fit the pane
  for (const e of G.edges) {
    const a = pos[e.src], b = pos[e.dst], x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2, mx = (x1 + x2) / 2;
    const p = $("path", {class: "gedge", d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`});
    const rec = e.tensor !== null && e.tensor !== undefined ? T[e.tensor] : null;
    p.appendChild($("title", {}, rec ? full(rec) + (rec.grad ? "\ngrad " + short(rec.grad) : "") : e.label));
    svg.appendChild(p);
  }
  for (const n of G.nodes) {
    const g = $("g", {class: "gnode " + n.kind, id: "node-" + n.id, transform: `translate(${n.x},${n.y})`});
    g.appendChild($("rect", {width: W, height: H, rx: 6}));
    g.appendChild($("text", {x: 6, y: 14, class: "op"}, n.label + (n.sub ? "  " + n.sub : "")));
    g.appendChild($("text", {x: 6, y: 30}, "data " + short(n.data).slice(0, 22)));
    g.appendChild($("text", {x: 6, y: 46}, "grad " + (n.grad ? short(n.grad).slice(0, 22) : "-")));
    g.appendChild($("title", {}, (n.label + (n.sub ? " " + n.sub : "")) + "\ndata " + full(n.data) + "\ngrad " + (n.grad ? full(n.grad) : "-")));
    g.onclick = () => {
      if (n.step !== null && n.step !== undefined) select([n.step], n.file ? key(n.file, n.line) : null);
      else select([], null, n.label + (n.sub ? " " + n.sub : "") + "\ndata " + full(n.data) + "\ngrad " + (n.grad ? full(n.grad) : "-"));
    };
    svg.appendChild(g);
  }
  document.getElementById("graph-body").appendChild(svg);
}

function drawSteps() {
  const tb = document.getElementById("steps-body");
  for (const s of S) {
    const tr = $("tr", {class: "step " + s.phase, id: "row" + s.index});
    const where = s.file ? s.file.split("/").pop() + ":" + s.line : "";
    let shapes, value, grad;
    if (s.kind === "node") {
      shapes = s.grad ? "[" + s.grad.shape + "]" : ""; value = "";
      grad = (s.input_grads || []).filter(g => g).map(short).join("; ");
    } else {
      shapes = s.inputs.map(t => "[" + T[t].shape + "]").join(", ") + " -> " + s.outputs.map(t => "[" + T[t].shape + "]").join(", ");
      value = s.outputs.map(t => short(T[t])).join("; ");
      grad = s.outputs.filter(t => T[t].grad).map(t => short(T[t].grad)).join("; ");
    }
    const name = s.kind === "node" ? s.name : s.name + (s.grad_fn ? " (" + s.grad_fn + ")" : "");
    for (const [cls, text] of [["", s.index], ["phase", s.phase], ["", name], ["", where], ["", shapes], ["", value], ["", grad]])
      tr.appendChild($("td", cls ? {class: cls} : {}, String(text)));
    tr.onclick = () => select([s.index], s.file ? key(s.file, s.line) : null);
    tb.appendChild(tr);
  }
  // leaves and retained tensors: the gradients backward left in .grad
  const leaves = T.filter(t => t.grad && (!t.grad_fn));
  const lb = document.getElementById("leaves-body");
  for (const t of leaves)
    lb.appendChild($("div", {class: "leafgrad"}, "leaf " + (t.name || "tensor #" + t.id) +
      (t.producer !== null && S[t.producer] ? " (line " + S[t.producer].line + ")" : "") +
      ": value " + short(t) + "  .grad " + short(t.grad)));
}

drawSource(); drawGraph(); drawSteps();
"""

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title><style>{css}</style></head>
<body>
<header><h1>{title}</h1><div>{summary}</div></header>
{notes}
<main>
<section id="source"><h2>source (click a highlighted line)</h2><div id="source-body"></div></section>
<section id="graph"><h2>graph (ops left to right; hover or click a box)</h2><div id="graph-body"></div></section>
<section id="details"><h2>values</h2><pre id="detail-text">Click a source line, a box or a step.</pre>
<div id="leaves-body" style="padding:0 10px 6px;font:12px ui-monospace,monospace"></div></section>
<section id="steps"><h2>steps</h2><table><thead><tr><th>#</th><th>phase</th><th>op</th><th>line</th><th>shapes</th>
<th>value</th><th>grad</th></tr></thead><tbody id="steps-body"></tbody></table></section>
</main>
<script>const DATA = {data};</script>
<script>{js}</script>
</body></html>
"""


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def page_data(trace=None, graph=None) -> dict:
    """Everything the page script draws from: steps, tensors, sources, graph with positions, notes."""
    if graph is None:
        graph = trace.graph()
    pos = graph.layout()
    nodes = [dict(n, x=pos[n["id"]][0], y=pos[n["id"]][1]) for n in graph.nodes]
    if trace is not None:  # the values are in the tensor table already: point at them, don't repeat them
        for n in nodes:
            if n.get("tensor") is not None:
                n["data"] = n["grad"] = None
    data = {"steps": [], "tensors": [], "sources": {}, "graph": {"nodes": nodes, "edges": graph.edges}, "notes": []}
    if trace is not None:
        data["steps"], data["tensors"] = trace.steps, trace.tensors
        data["sources"] = {f: text for f, text in trace.sources().items() if text}
        data["names"] = {f: _display_name(f) for f in data["sources"]}
        data["notes"] = notes(trace)
    return data


def _display_name(path: str) -> str:
    """A file as the page names it: relative to the current folder when inside it."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def notes(trace) -> list[str]:
    """What the page leaves out, in words."""
    out = []
    if trace.truncated:
        out.append(f"Recording stopped after {trace.max_ops} ops (max_ops / --max-ops); the rest of the program "
                   "ran untraced.")
    if trace.only_lines is not None:
        a, b = trace.only_lines
        out.append(f"Only ops called from lines {a}-{b} were recorded; {trace.skipped_lines} ops on other lines "
                   "were left out.")
    big = sum(1 for t in trace.tensors if "values" not in t)
    if big:
        out.append(f"{big} tensors larger than {trace.max_values} elements are shown as statistics plus their "
                   f"first {trace.sample} values.")
    return out


def render_page(trace=None, graph=None, title: str = "glasstorch trace") -> str:
    data = page_data(trace, graph)
    # NaN/Infinity are JS literals; "</" and "<!--" inside strings must not end or confuse the <script>
    blob = json.dumps(data, allow_nan=True, default=str).replace("</", "<\\/").replace("<!--", "<\\u0021--")
    n_fwd = sum(1 for s in data["steps"] if s["phase"] == "forward")
    n_bwd = len(data["steps"]) - n_fwd
    summary = (f"{n_fwd} forward and {n_bwd} backward steps, {len(data['tensors'])} tensors" if trace is not None
               else f"{len(data['graph']['nodes'])} nodes, {len(data['graph']['edges'])} edges")
    note_html = "".join(f'<p class="note">{_escape(n)}</p>' for n in data["notes"])
    return _PAGE.format(title=_escape(title), css=_CSS, summary=_escape(summary), notes=note_html, data=blob, js=_JS)


def write_page(path: str | os.PathLike, trace=None, graph=None, title: str = "glasstorch trace") -> None:
    """Write the page to `path` atomically (a reader never sees half a file)."""
    text = render_page(trace, graph, title)
    with atomic_write(path, "w") as f:
        f.write(text)
