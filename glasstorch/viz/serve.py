"""`glasstorch serve RUN_DIR`: a local web app on the folder that `glasstorch train` wrote.

    /            draw a digit: the run's network, exported as JSON, runs in the browser (plain JavaScript)
                 and shows the ten probabilities and the hidden activations while you draw
    /curves      the training curves of metrics.csv (inline SVG), redrawn as new epochs are logged
    /trace       one training step of the model on one batch, as `glasstorch.viz.trace` records it
    /metrics     metrics.csv as JSON; /model.json the exported network

`glasstorch train --serve` starts the same server before training, so the curves grow live.

The server is the standard library's `http.server` on 127.0.0.1 unless `--host` says otherwise. It
reads the run folder when asked (the newest checkpoint, metrics.csv), so it always shows the latest
epoch. While training runs in the same process the server thread runs no glasstorch ops at all (the
grad mode and the random generator are process-wide): it only reads files and NumPy arrays, and the
trace page is made once training has ended.
"""
from __future__ import annotations

import argparse
import base64
import csv
import errno
import http.server
import json
import linecache
import os
import sys
import threading
import time
import urllib.parse

import numpy as np

DEFAULT_PORT = 8000
STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
CHECKPOINTS = ("model.safetensors", "train_state.pt")
TRACE_BATCH = 8  # images in the traced training step: enough to show a batch, small enough to read


class ServeError(Exception):
    """A bad run folder, checkpoint or address: `glasstorch: error: ...`, exit status 2."""


# ---- command-line options --------------------------------------------------------------------------------
def add_server_options(p: argparse.ArgumentParser) -> None:
    """--host, --port, and the hidden --serve-seconds (tests: stop serving after N seconds)."""
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 picks a free one)")
    p.add_argument("--serve-seconds", type=float, default=None, help=argparse.SUPPRESS)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", help="a folder written by `glasstorch train` (e.g. runs/mnist)")
    p.add_argument("--data-dir", default=None,
                   help="dataset folder for the trace page's batch (default $GLASSTORCH_DATA)")
    add_server_options(p)


# ---- exporting the network -------------------------------------------------------------------------------
def _floats(a: np.ndarray) -> str:
    """float32 little-endian bytes, base64: exact (JS decodes the same float32 values) and compact."""
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode("ascii")


def _pair(v) -> list[int]:
    return [int(v), int(v)] if isinstance(v, int) else [int(x) for x in v]


def layers_of(model) -> list[tuple[str, object]]:
    """(state-dict prefix, module) of each leaf layer, in the order a Sequential runs them."""
    out, todo = [], [("", model)]
    while todo:  # depth-first over nested Sequentials, kept in order
        prefix, m = todo.pop(0)
        children = list(m.named_children()) if type(m).__name__ == "Sequential" else []
        if children:
            todo[:0] = [(f"{prefix}{name}.", child) for name, child in children]
        else:
            out.append((prefix, m))
    return out


def export_layer(prefix: str, m, state: dict) -> dict:
    """One layer as the page's forward pass reads it; weights from `state` (name -> array)."""
    kind = type(m).__name__
    layer = {"type": kind, "name": prefix.rstrip(".") or kind}
    if kind == "Linear":
        layer.update(in_features=m.in_features, out_features=m.out_features)
    elif kind == "Conv2d":
        if isinstance(m.padding, str) or m.padding_mode != "zeros":
            raise ValueError(f"the page runs Conv2d with numeric zero padding only, got padding={m.padding!r}, "
                             f"padding_mode={m.padding_mode!r}")
        layer.update(in_channels=m.in_channels, out_channels=m.out_channels, kernel_size=_pair(m.kernel_size),
                     stride=_pair(m.stride), padding=_pair(m.padding), dilation=_pair(m.dilation), groups=m.groups)
    elif kind == "MaxPool2d":
        if m.ceil_mode:
            raise ValueError("the page runs MaxPool2d with ceil_mode=False only")
        layer.update(kernel_size=_pair(m.kernel_size), stride=_pair(m.stride or m.kernel_size),
                     padding=_pair(m.padding), dilation=_pair(m.dilation))
    elif kind == "LeakyReLU":
        layer["negative_slope"] = float(m.negative_slope)
    elif kind == "Flatten":
        if m.start_dim != 1 or m.end_dim != -1:
            raise ValueError("the page runs Flatten(start_dim=1, end_dim=-1) only")
    elif kind not in ("ReLU", "Tanh", "Sigmoid", "Dropout", "Dropout2d", "Identity"):
        raise ValueError(f"the page cannot run {kind} layers yet")
    for pname in ("weight", "bias"):
        if kind in ("Linear", "Conv2d"):
            arr = state.get(prefix + pname)
            layer[pname] = None if arr is None else {"shape": list(arr.shape), "data": _floats(arr)}
    return layer


def export_model(model, state: dict | None = None, normalize=(0.0, 1.0), classes=None) -> dict:
    """The JSON the page runs: {"layers": [...], "normalize": {mean, std}, "classes": [...]}.

    `state` (name -> NumPy array) gives the weights; None takes the model's own.
    """
    if state is None:
        state = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    layers = [export_layer(prefix, m, state) for prefix, m in layers_of(model)]
    return {"layers": layers, "normalize": {"mean": float(normalize[0]), "std": float(normalize[1])},
            "classes": list(classes or [str(i) for i in range(10)])}


def normalization(config: dict) -> tuple[float, float]:
    """(mean, std) that training subtracted and divided by: config's "normalize" ([mean, std] or a
    dict), none (0, 1) when training fed raw [0, 1] pixels, as `glasstorch train` does."""
    norm = config.get("normalize")
    if not norm:
        return 0.0, 1.0
    if isinstance(norm, dict):
        return float(norm["mean"]), float(norm["std"])
    return float(norm[0]), float(norm[1])


# ---- the run folder --------------------------------------------------------------------------------------
def _read_state(path: str) -> dict:
    """name -> float32 NumPy array of a checkpoint (safetensors, or train_state.pt's "model")."""
    try:
        if path.endswith(".safetensors"):
            from ..utils.safetensors import load_file

            tensors = load_file(path)
        else:
            from ..serialization import load

            tensors = load(path)["model"]
        return {k: np.asarray(v.detach().cpu().numpy()) for k, v in tensors.items()}
    except Exception as e:  # a file that is not a checkpoint can fail in many ways: one line says which
        raise ServeError(f"{path} is not a glasstorch checkpoint ({type(e).__name__}: {e})") from None


class Run:
    """One run folder, read on demand: config, metrics, the newest checkpoint, pages made from them."""

    def __init__(self, path: str, data_dir: str | None = None, require_checkpoint: bool = True):
        from ..cli import CLASS_NAMES, build_model
        from .._random import get_rng_state, set_rng_state

        self.path, self.data_dir = os.path.abspath(path), data_dir
        if not os.path.isdir(self.path):
            raise ServeError(f"run folder not found: {path}")
        cfg = os.path.join(self.path, "config.json")
        if not os.path.isfile(cfg):
            raise ServeError(f"{path} is not a run folder of `glasstorch train` (no config.json)")
        try:
            with open(cfg) as f:
                self.config = {"hidden": 128, "dataset": "mnist", **json.load(f)}
        except (OSError, ValueError, TypeError) as e:
            raise ServeError(f"{cfg} is not a JSON object of settings ({e})") from None
        self.classes = CLASS_NAMES.get(self.config["dataset"], [str(i) for i in range(10)])
        rng = get_rng_state()  # building a model draws initial weights: keep the caller's random stream as it was
        try:
            self.skeleton = build_model(int(self.config["hidden"]))  # layer structure; weights come from files
        finally:
            set_rng_state(rng)
        self.shapes = {k: tuple(v.shape) for k, v in self.skeleton.state_dict().items()}
        self.training = False  # set by `train --serve` while it trains: no trace page until it ends
        self._lock = threading.Lock()  # one export at a time
        self._trace_lock = threading.Lock()  # one traced step at a time
        self._model_cache: tuple | None = None  # (checkpoint key, exported JSON bytes)
        self._trace_cache: tuple | None = None  # (checkpoint key, page)
        if require_checkpoint:
            if self.checkpoint() is None:
                raise ServeError(f"no checkpoint in {path} (expected {' or '.join(CHECKPOINTS)}; "
                                 "run `glasstorch train` first)")
            self.model_json()  # a corrupt checkpoint is an error now, not a blank page later

    # -- files -----------------------------------------------------------------------------------------------
    def checkpoint(self) -> tuple[str, int, int] | None:
        """(path, mtime_ns, size) of the newest checkpoint, or None."""
        best = None
        for name in CHECKPOINTS:
            p = os.path.join(self.path, name)
            try:
                st = os.stat(p)
            except OSError:
                continue
            if best is None or st.st_mtime_ns > best[1]:
                best = (p, st.st_mtime_ns, st.st_size)
        return best

    def state(self, key: tuple) -> dict:
        """The checkpoint's arrays, checked against the model that config.json describes."""
        path = key[0]
        state = _read_state(path)
        if set(state) != set(self.shapes) or any(tuple(state[k].shape) != s for k, s in self.shapes.items()):
            got = {k: tuple(v.shape) for k, v in state.items()}
            raise ServeError(f"{path} does not fit the 784-{self.config['hidden']}-10 model of config.json "
                             f"(expected {self.shapes}, got {got})")
        return state

    def metrics(self) -> dict:
        """metrics.csv as {"columns", "rows", "epochs"} (rows of numbers; none yet before the first epoch)."""
        rows, columns = [], []
        try:
            with open(os.path.join(self.path, "metrics.csv"), newline="") as f:
                reader = csv.DictReader(f)
                columns = list(reader.fieldnames or [])
                rows = [{k: int(v) if k == "epoch" else float(v) for k, v in row.items()} for row in reader]
        except FileNotFoundError:
            pass
        return {"columns": columns, "rows": rows, "epochs": self.config.get("epochs"), "training": self.training}

    # -- pages -----------------------------------------------------------------------------------------------
    def model_json(self) -> bytes | None:
        """The exported network of the newest checkpoint (re-exported when the file changes)."""
        key = self.checkpoint()
        if key is None:
            return None
        with self._lock:
            if self._model_cache is None or self._model_cache[0] != key:
                data = export_model(self.skeleton, self.state(key), normalization(self.config), self.classes)
                data["checkpoint"] = os.path.basename(key[0])
                self._model_cache = (key, json.dumps(data).encode())
            return self._model_cache[1]

    def trace_page(self) -> str | None:
        """The trace page of one training step from the newest checkpoint (made once per checkpoint)."""
        key = self.checkpoint()
        if key is None:
            return None
        with self._trace_lock:
            if self._trace_cache is None or self._trace_cache[0] != key:
                self._trace_cache = (key, self._make_trace(self.state(key)))
            return self._trace_cache[1]

    def _batch(self):
        """(images, labels, where they came from): the first test images, or random ones without the data."""
        import glasstorch as torch
        from ..cli import UsageError, load_split

        try:
            X, y = load_split(self.config["dataset"], False, self.data_dir)
            return X[:TRACE_BATCH], y[:TRACE_BATCH], f"the first {TRACE_BATCH} {self.config['dataset']} test images"
        except (UsageError, RuntimeError, OSError) as e:
            g = torch.Generator().manual_seed(0)
            why = str(e).splitlines()[0]
            return (torch.rand(TRACE_BATCH, 1, 28, 28, generator=g), torch.arange(TRACE_BATCH) % 10,
                    f"{TRACE_BATCH} random images (the dataset could not be read: {why})")

    def _make_trace(self, state: dict) -> str:
        from .. import from_numpy
        from ..cli import build_model, make_optimizer
        from ..nn import functional as F
        from .html import render_page
        from .trace import trace

        model = build_model(int(self.config["hidden"]))
        model.load_state_dict({k: from_numpy(v.copy()) for k, v in state.items()})
        optimizer = make_optimizer(self.config.get("optimizer", "adam"), model.parameters(),
                                   float(self.config.get("lr", 1e-3)))
        images, labels, source = self._batch()
        mean, std = normalization(self.config)
        if (mean, std) != (0.0, 1.0):
            images = (images - mean) / std
        scope = {"model": model, "images": images, "labels": labels, "F": F, "optimizer": optimizer}
        linecache.cache[_STEP_FILE] = _STEP_LINES  # (again: anyone may have cleared linecache since)
        with trace(max_values=64) as t:
            exec(_STEP_CODE, scope)
        return render_page(t, title=f"glasstorch serve: one training step of {os.path.basename(self.path)} "
                                    f"on {source}")


# The traced step is code of its own file, outside the library (the trace records calls into glasstorch
# from user code), with its source in linecache so the page can show it line by line.
_STEP_FILE = os.path.abspath(os.path.join(os.sep, "glasstorch-serve", "one_training_step.py"))
_STEP_SOURCE = """\
# One training step of the run's model on one batch, as `glasstorch train` runs it.
logits = model(images)                    # [batch, 10]
loss = F.cross_entropy(logits, labels)    # mean over the batch
optimizer.zero_grad()
loss.backward()                           # a gradient for every weight
optimizer.step()                          # the weights move
"""
_STEP_LINES = (len(_STEP_SOURCE), None, _STEP_SOURCE.splitlines(True), _STEP_FILE)  # mtime None: kept by checkcache
_STEP_CODE = compile(_STEP_SOURCE, _STEP_FILE, "exec")


# ---- the pages -------------------------------------------------------------------------------------------
def _static(name: str) -> str:
    with open(os.path.join(STATIC, name), encoding="utf-8") as f:
        return f.read()


def page(name: str) -> str:
    """A page of static/ with the shared style and its script inlined: one request, nothing from the network."""
    return (_static(f"{name}.html").replace("/*STYLE*/", _static("style.css"))
            .replace("/*SCRIPT*/", _static(f"{name}.js")))


_WAITING = ("<!doctype html><html><head><meta charset='utf-8'><title>glasstorch serve</title>"
            "<meta http-equiv='refresh' content='3'></head><body style='font:15px system-ui'>"
            "<p><a href='/'>draw a digit</a> · <a href='/curves'>training curves</a></p><p>{}</p></body></html>")


class Handler(http.server.BaseHTTPRequestHandler):
    """GET only: the three pages and two JSON documents of `self.server.run`."""

    server_version = "glasstorch-serve"

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        run: Run = self.server.run
        path = urllib.parse.urlsplit(self.path).path
        try:
            if path in ("/", "/index.html"):
                self._send(200, "text/html", page("digit"))
            elif path == "/curves":
                self._send(200, "text/html", page("curves"))
            elif path == "/metrics":
                self._send(200, "application/json", json.dumps(run.metrics()))
            elif path == "/model.json":
                body = run.model_json()
                if body is None:
                    self._send(503, "application/json", json.dumps({"error": "no checkpoint yet"}))
                else:
                    self._send(200, "application/json", body)
            elif path == "/trace":
                if run.training:
                    self._send(503, "text/html", _WAITING.format("The trace page is made when training ends."))
                    return
                body = run.trace_page()
                if body is None:
                    self._send(503, "text/html", _WAITING.format("No checkpoint yet."))
                else:
                    self._send(200, "text/html", body)
            else:
                self._send(404, "text/plain", f"not found: {path}\n")
        except ServeError as e:  # a checkpoint that went bad while serving: say so, keep serving
            self._send(500, "text/plain", f"{e}\n")

    def _send(self, status: int, kind: str, body: str | bytes) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", f"{kind}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")  # the run folder changes under us
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args) -> None:  # noqa: A002 (http.server's signature)
        pass  # quiet: training prints its epochs on the same terminal


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, run: Run, host: str, port: int):
        self.run = run
        try:
            super().__init__((host, port), Handler)
        except OSError as e:
            reason = ("the port is in use (choose another with --port)" if e.errno == errno.EADDRINUSE
                      else e.strerror or str(e))
            raise ServeError(f"cannot serve on {host}:{port}: {reason}") from None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"


def start(run: Run, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> Server:
    """A server for `run`, answering in a background thread."""
    server = Server(run, host, port)
    threading.Thread(target=server.serve_forever, name="glasstorch-serve", daemon=True).start()
    return server


def _announce(server: Server, host: str) -> None:
    print(f"glasstorch serve: {server.url} (draw a digit), {server.url}curves, {server.url}trace", file=sys.stderr)
    if host != "localhost" and not host.startswith("127."):
        print(f"glasstorch serve: listening on {host}: other machines can reach these pages", file=sys.stderr)


def keep_serving(server: Server, seconds: float | None) -> None:
    """Serve until Ctrl-C (or for `seconds`, for tests), then close the port."""
    try:
        if seconds is None:
            print("glasstorch serve: Ctrl-C to stop", file=sys.stderr)
            while True:
                time.sleep(3600)
        time.sleep(max(0.0, seconds))
    except KeyboardInterrupt:
        print("glasstorch serve: stopped", file=sys.stderr)
    finally:
        server.shutdown()
        server.server_close()


def serve_training(out: str, args, usage_error) -> Server:
    """`train --serve`: serve the run folder while it fills (config.json must already be there)."""
    try:
        run = Run(out, args.data_dir, require_checkpoint=False)
        run.training = True
        server = start(run, args.host, args.port)
    except ServeError as e:
        raise usage_error(str(e)) from None
    _announce(server, args.host)
    return server


def finish_training(server: Server, args) -> None:
    """After `train --serve` has trained: the trace page becomes available; serve until Ctrl-C."""
    server.run.training = False
    keep_serving(server, args.serve_seconds)


def run(args, usage_error) -> int:
    """`glasstorch serve RUN_DIR`; bad input raises `usage_error(message)`."""
    try:
        r = Run(args.run_dir, args.data_dir)
        server = start(r, args.host, args.port)
    except ServeError as e:
        raise usage_error(str(e)) from None
    _announce(server, args.host)
    keep_serving(server, args.serve_seconds)
    return 0
