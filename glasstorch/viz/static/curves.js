"use strict";
// The training curves of metrics.csv, drawn as inline SVG; /metrics is read again every second while
// the run is training, so the curves grow epoch by epoch.

const SVG = "http://www.w3.org/2000/svg";
const COLORS = { train: "#1e88e5", test: "#e53935" };
const W = 460, H = 300, M = { left: 52, right: 16, top: 28, bottom: 40 };

function el(name, attrs, parent) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.append(e);
  return e;
}

function text(parent, x, y, s, anchor) {
  const t = el("text", { x, y, "text-anchor": anchor || "middle" }, parent);
  t.textContent = s;
  return t;
}

function niceTicks(lo, hi, n) {
  const step0 = (hi - lo) / n, mag = Math.pow(10, Math.floor(Math.log10(step0)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0);
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * step; v += step) ticks.push(+v.toPrecision(12));
  return ticks;
}

// series: [{name, points: [[epoch, value], ...]}]; xmax: the planned number of epochs
function chart(box, series, xmax, ylabel) {
  box.textContent = "";
  const svg = el("svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}` }, box);
  const values = series.flatMap((s) => s.points.map((p) => p[1]));
  let lo = Math.min(...values), hi = Math.max(...values);
  if (!(hi > lo)) { lo -= 0.5; hi += 0.5; }
  const pad = 0.08 * (hi - lo);
  lo -= pad; hi += pad;
  const x0 = 1, x1 = Math.max(xmax, 2);
  const X = (e) => M.left + (e - x0) / (x1 - x0) * (W - M.left - M.right);
  const Y = (v) => H - M.bottom - (v - lo) / (hi - lo) * (H - M.top - M.bottom);
  el("rect", { x: M.left, y: M.top, width: W - M.left - M.right, height: H - M.top - M.bottom, fill: "#fff", stroke: "#ccc" }, svg);
  for (const v of niceTicks(lo, hi, 5)) {
    el("line", { x1: M.left, x2: W - M.right, y1: Y(v), y2: Y(v), stroke: "#eee" }, svg);
    text(svg, M.left - 6, Y(v) + 4, v.toString(), "end");
  }
  for (const e of niceTicks(x0, x1, Math.min(10, x1 - x0))) if (Number.isInteger(e)) text(svg, X(e), H - M.bottom + 16, e);
  text(svg, (M.left + W - M.right) / 2, H - 6, "epoch");
  const yl = text(svg, 12, (M.top + H - M.bottom) / 2, ylabel);
  yl.setAttribute("transform", `rotate(-90 12 ${(M.top + H - M.bottom) / 2})`);
  series.forEach((s, k) => {
    const color = COLORS[s.name];
    el("polyline", { points: s.points.map(([e, v]) => `${X(e)},${Y(v)}`).join(" "), fill: "none", stroke: color, "stroke-width": 2 }, svg);
    for (const [e, v] of s.points) {
      const c = el("circle", { cx: X(e), cy: Y(v), r: 4, fill: color, class: "point", "data-series": s.name, "data-epoch": e }, svg);
      el("title", {}, c).textContent = `${s.name} epoch ${e}: ${v.toFixed(4)}`;
    }
    const lx = W - M.right - 150 + 75 * k;  // the legend sits above the plot, clear of the curves
    el("line", { x1: lx, x2: lx + 20, y1: 12, y2: 12, stroke: color, "stroke-width": 2 }, svg);
    text(svg, lx + 24, 16, s.name, "start");
  });
}

function series(rows, key, scale) {
  return ["train", "test"].map((name) => ({ name, points: rows.map((r) => [r.epoch, scale * r[`${name}_${key}`]]) }));
}

async function refresh() {
  const status = document.getElementById("status");
  let m;
  try {
    m = await (await fetch("/metrics", { cache: "no-store" })).json();
  } catch (e) {  // the server has stopped: keep what is drawn
    status.textContent = "the server is not answering";
    return;
  }
  const rows = m.rows, xmax = Math.max(m.epochs || 1, rows.length ? rows[rows.length - 1].epoch : 1);
  if (rows.length) {
    chart(document.getElementById("loss"), series(rows, "loss", 1), xmax, "cross-entropy");
    chart(document.getElementById("accuracy"), series(rows, "acc", 100), xmax, "accuracy (%)");
  }
  const last = rows[rows.length - 1];
  status.textContent = (rows.length ? `${rows.length} of ${m.epochs} epochs; last test accuracy ` +
    `${(100 * last.test_acc).toFixed(2)}%` : "no epoch logged yet") + (m.training ? " (training...)" : "");
  status.dataset.rows = rows.length;
  if (m.training) setTimeout(refresh, 1000);
}

refresh();
