"use strict";
// The draw-a-digit page: the run's network (exported by `glasstorch serve` as /model.json) runs here,
// in plain JavaScript, on a 28x28 image made from the canvas the way MNIST digits were made.
// A value flowing through the network is {shape, data}: shape [C, H, W] or [N], data a Float64Array
// (one image: no batch dimension).

// ---- the network --------------------------------------------------------------------------------------
function decodeFloats(b64) {
  // float32 little-endian bytes -> Float64Array holding exactly the same values
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const view = new DataView(bytes.buffer);
  const out = new Float64Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
  return out;
}

function prepare(exported) {
  const layers = exported.layers.map((layer) => {
    const l = Object.assign({}, layer);
    for (const p of ["weight", "bias"]) if (layer[p]) l[p] = decodeFloats(layer[p].data);
    return l;
  });
  return { layers, normalize: exported.normalize, classes: exported.classes, checkpoint: exported.checkpoint };
}

function linear(l, x) {
  const n = l.in_features, m = l.out_features;
  if (x.data.length !== n) throw new Error(`Linear expects ${n} inputs, got ${x.data.length}`);
  const y = new Float64Array(m);
  for (let o = 0; o < m; o++) {
    let s = l.bias ? l.bias[o] : 0;
    const row = o * n;
    for (let i = 0; i < n; i++) s += l.weight[row + i] * x.data[i];
    y[o] = s;
  }
  return { shape: [m], data: y };
}

function outSize(size, k, stride, pad, dil) {
  return Math.floor((size + 2 * pad - dil * (k - 1) - 1) / stride) + 1;
}

function conv2d(l, x) {
  const [C, H, W] = x.shape, O = l.out_channels, G = l.groups;
  const [kh, kw] = l.kernel_size, [sh, sw] = l.stride, [ph, pw] = l.padding, [dh, dw] = l.dilation;
  const OH = outSize(H, kh, sh, ph, dh), OW = outSize(W, kw, sw, pw, dw);
  const cin = C / G, cout = O / G;  // channels per group
  const y = new Float64Array(O * OH * OW);
  for (let o = 0; o < O; o++) {
    const c0 = Math.floor(o / cout) * cin;
    for (let i = 0; i < OH; i++) for (let j = 0; j < OW; j++) {
      let s = l.bias ? l.bias[o] : 0;
      for (let c = 0; c < cin; c++) for (let a = 0; a < kh; a++) {
        const r = i * sh - ph + a * dh;
        if (r < 0 || r >= H) continue;  // zero padding
        for (let b = 0; b < kw; b++) {
          const q = j * sw - pw + b * dw;
          if (q < 0 || q >= W) continue;
          s += l.weight[((o * cin + c) * kh + a) * kw + b] * x.data[((c0 + c) * H + r) * W + q];
        }
      }
      y[(o * OH + i) * OW + j] = s;
    }
  }
  return { shape: [O, OH, OW], data: y };
}

function maxPool2d(l, x) {
  const [C, H, W] = x.shape;
  const [kh, kw] = l.kernel_size, [sh, sw] = l.stride, [ph, pw] = l.padding, [dh, dw] = l.dilation;
  const OH = outSize(H, kh, sh, ph, dh), OW = outSize(W, kw, sw, pw, dw);
  const y = new Float64Array(C * OH * OW);
  for (let c = 0; c < C; c++) for (let i = 0; i < OH; i++) for (let j = 0; j < OW; j++) {
    let m = -Infinity;  // padding never wins
    for (let a = 0; a < kh; a++) {
      const r = i * sh - ph + a * dh;
      if (r < 0 || r >= H) continue;
      for (let b = 0; b < kw; b++) {
        const q = j * sw - pw + b * dw;
        if (q < 0 || q >= W) continue;
        const v = x.data[(c * H + r) * W + q];
        if (v > m || Number.isNaN(v)) m = v;
      }
    }
    y[(c * OH + i) * OW + j] = m;
  }
  return { shape: [C, OH, OW], data: y };
}

const pointwise = (f) => (l, x) => ({ shape: x.shape, data: x.data.map((v) => f(v, l)) });
const identity = (l, x) => x;
const LAYERS = {
  Linear: linear,
  Conv2d: conv2d,
  MaxPool2d: maxPool2d,
  Flatten: (l, x) => ({ shape: [x.data.length], data: x.data }),
  ReLU: pointwise((v) => (v > 0 ? v : 0)),
  LeakyReLU: pointwise((v, l) => (v > 0 ? v : v * l.negative_slope)),
  Tanh: pointwise(Math.tanh),
  Sigmoid: pointwise((v) => 1 / (1 + Math.exp(-v))),
  Dropout: identity,  // evaluation mode
  Dropout2d: identity,
  Identity: identity,
};
const ACTIVATIONS = new Set(["ReLU", "LeakyReLU", "Tanh", "Sigmoid"]);

function softmax(logits) {
  const m = Math.max(...logits);
  const e = logits.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

// pixels: 784 numbers in [0, 1], row by row -> {logits, probs, activations: [{name, shape, values}]}
function forward(pixels, model) {
  const { mean, std } = model.normalize;  // the normalisation training applied
  let x = { shape: [1, 28, 28], data: Float64Array.from(pixels, (v) => (v - mean) / std) };
  const activations = [];
  for (const l of model.layers) {
    x = LAYERS[l.type](l, x);
    if (ACTIVATIONS.has(l.type)) activations.push({ name: `layer ${l.name} (${l.type})`, shape: x.shape, values: Array.from(x.data) });
  }
  const logits = Array.from(x.data);
  return { logits, probs: softmax(logits), activations };
}

// ---- the canvas, made into an MNIST-like 28x28 image --------------------------------------------------
// MNIST: the digit's bounding box scaled (anti-aliased) to fit 20x20 keeping its aspect ratio, then
// placed in a 28x28 field so that its centre of mass is at the centre.
function boxWeights(length, target) {
  // how much of each source pixel falls in each target pixel (area averaging, fractional at the edges)
  const scale = length / target, out = [];
  for (let j = 0; j < target; j++) {
    const a = j * scale, b = (j + 1) * scale, taps = [];
    for (let k = Math.floor(a); k < Math.ceil(b) && k < length; k++) {
      const w = Math.min(b, k + 1) - Math.max(a, k);
      if (w > 0) taps.push([k, w / scale]);
    }
    out.push(taps);
  }
  return out;
}

function mnistImage(gray, size) {
  // gray: Float64Array size*size in [0, 1] -> 784 pixels, or null when nothing is drawn
  let x0 = size, y0 = size, x1 = -1, y1 = -1;
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) if (gray[y * size + x] > 0.01) {
    x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
  }
  if (x1 < 0) return null;
  const bw = x1 - x0 + 1, bh = y1 - y0 + 1, s = 20 / Math.max(bw, bh);
  const tw = Math.max(1, Math.round(bw * s)), th = Math.max(1, Math.round(bh * s));
  const wx = boxWeights(bw, tw), wy = boxWeights(bh, th);
  const rows = new Float64Array(bh * tw);  // resample along x, then along y
  for (let y = 0; y < bh; y++) for (let j = 0; j < tw; j++) {
    let v = 0;
    for (const [k, w] of wx[j]) v += w * gray[(y0 + y) * size + x0 + k];
    rows[y * tw + j] = v;
  }
  const small = new Float64Array(th * tw);
  let mass = 0, mx = 0, my = 0;
  for (let i = 0; i < th; i++) for (let j = 0; j < tw; j++) {
    let v = 0;
    for (const [k, w] of wy[i]) v += w * rows[k * tw + j];
    small[i * tw + j] = v;
    mass += v; mx += v * (j + 0.5); my += v * (i + 0.5);
  }
  const clamp = (v, hi) => Math.min(Math.max(v, 0), hi);
  const ox = clamp(Math.round(14 - mx / mass), 28 - tw), oy = clamp(Math.round(14 - my / mass), 28 - th);
  const out = new Array(784).fill(0);
  for (let i = 0; i < th; i++) for (let j = 0; j < tw; j++) out[(oy + i) * 28 + ox + j] = Math.min(1, small[i * tw + j]);
  return out;
}

// ---- the page --------------------------------------------------------------------------------------------
let MODEL = null, INPUT = null, RESULT = null;
const pad = document.getElementById("pad"), ctx = pad.getContext("2d");

function clearPad() {
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, pad.width, pad.height);
  INPUT = RESULT = null;
  show();
}

function padPixels() {
  const img = ctx.getImageData(0, 0, pad.width, pad.height).data;
  const gray = new Float64Array(pad.width * pad.height);
  for (let i = 0; i < gray.length; i++) gray[i] = img[4 * i] / 255;  // white ink: the red channel will do
  return gray;
}

function drawSmall(pixels) {
  const c = document.getElementById("small").getContext("2d"), img = c.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = Math.round(255 * (pixels ? pixels[i] : 0));
    img.data.set([v, v, v, 255], 4 * i);
  }
  c.putImageData(img, 0, 0);
}

function drawActivations(acts) {
  const box = document.getElementById("acts");
  box.textContent = "";
  for (const a of acts) {
    const n = a.values.length, cols = Math.min(n, 16), rows = Math.ceil(n / cols), cell = 14;
    const title = document.createElement("div");
    title.className = "status";
    title.textContent = `${a.name}: ${n} units`;
    const c = document.createElement("canvas");
    c.width = cols * cell; c.height = rows * cell;
    c.className = "activation";
    const g = c.getContext("2d"), top = Math.max(...a.values.map(Math.abs), 1e-12);
    a.values.forEach((v, i) => {
      const t = Math.abs(v) / top;  // brightness: the unit's share of the layer's largest
      g.fillStyle = v >= 0 ? `rgba(38,166,154,${t})` : `rgba(239,83,80,${t})`;
      g.fillRect((i % cols) * cell, Math.floor(i / cols) * cell, cell - 1, cell - 1);
    });
    box.append(title, c);
  }
}

function show() {
  const tbody = document.getElementById("probs");
  tbody.textContent = "";
  const best = RESULT ? RESULT.probs.indexOf(Math.max(...RESULT.probs)) : -1;
  document.getElementById("prediction").textContent = best < 0 ? "-" : MODEL.classes[best];
  (MODEL ? MODEL.classes : []).forEach((name, k) => {
    const p = RESULT ? RESULT.probs[k] : 0, tr = document.createElement("tr");
    tr.className = k === best ? "top" : "";
    tr.innerHTML = `<td>${name}</td><td class="barbox"><div class="bar" style="width:${(100 * p).toFixed(1)}%"></div></td>` +
      `<td class="prob">${RESULT ? p.toFixed(4) : ""}</td>`;
    tbody.append(tr);
  });
  drawSmall(INPUT);
  drawActivations(RESULT ? RESULT.activations : []);
}

function classify() {
  INPUT = mnistImage(padPixels(), pad.width);
  RESULT = INPUT && MODEL ? forward(INPUT, MODEL) : null;
  show();
}

let drawing = false, last = null, pending = false;
function point(e) {
  const r = pad.getBoundingClientRect();
  return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height];
}
function stroke(to) {
  ctx.strokeStyle = "#fff"; ctx.lineWidth = 22; ctx.lineCap = "round"; ctx.lineJoin = "round";
  ctx.beginPath(); ctx.moveTo(...(last || to)); ctx.lineTo(...to); ctx.stroke();
  last = to;
  if (!pending) { pending = true; requestAnimationFrame(() => { pending = false; classify(); }); }
}
pad.addEventListener("pointerdown", (e) => { drawing = true; last = null; pad.setPointerCapture(e.pointerId); stroke(point(e)); });
pad.addEventListener("pointermove", (e) => { if (drawing) stroke(point(e)); });
pad.addEventListener("pointerup", () => { drawing = false; last = null; classify(); });
document.getElementById("clear").addEventListener("click", clearPad);

async function loadModel() {
  const status = document.getElementById("status");
  const r = await fetch("/model.json", { cache: "no-store" });
  if (r.status === 503) {  // training has not saved its first epoch yet
    status.textContent = "waiting for the first checkpoint...";
    setTimeout(loadModel, 2000);
    return;
  }
  if (!r.ok) {  // a checkpoint that cannot be read: the server says why
    status.textContent = await r.text();
    return;
  }
  MODEL = prepare(await r.json());
  const kinds = MODEL.layers.map((l) => l.type).join(" > ");
  status.textContent = `${MODEL.checkpoint}: ${kinds}`;
  status.dataset.ready = "1";
  classify();
  const m = await (await fetch("/metrics", { cache: "no-store" })).json();
  if (m.training) {  // `train --serve`: take each epoch's weights as they are saved
    status.textContent += ` (epoch ${m.rows.length}, training...)`;
    setTimeout(loadModel, 3000);
  }
}

// For tests and the curious: the forward pass on any 784 pixels, with this page's network or another
// exported one (glasstorch.viz.serve.export_model), and the 28x28 input made from the canvas.
window.glasstorchForward = (pixels, exported) => forward(pixels, exported ? prepare(exported) : MODEL);
window.glasstorchInput = () => INPUT;
window.glasstorchImage = mnistImage;

clearPad();
loadModel();
