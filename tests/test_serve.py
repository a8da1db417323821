"""`glasstorch serve RUN_DIR` and `glasstorch train --serve` (glasstorch/viz/serve.py): the HTTP app, its
errors, and its pages in headless Chromium (drawing on the canvas, the in-browser forward pass against
glasstorch's, the curves, the trace page).

One tiny run (784-16-10, 2 epochs, batch 256) is trained once by `train --serve`, which is watched while
it trains; every other test serves that folder in a thread of this process.
"""
from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import numpy as np
import pytest

import glasstorch as gt
from glasstorch import cli
from glasstorch.utils.safetensors import load_file
from glasstorch.viz import serve

from test_cli import MNIST_DIR, ROOT, assert_usage_error, glasstorch_cmd
from test_viz import _WebDriver

needs_mnist = pytest.mark.skipif(MNIST_DIR is None, reason="MNIST not found (set GLASSTORCH_DATA)")
HIDDEN = 16
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C WebDriver key of an element reference


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[int, str, bytes]:
    """(status, content type, body) of a GET, errors included."""
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.status, r.headers["Content-Type"], r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers["Content-Type"], e.read()


def get_json(url: str):
    status, kind, body = get(url)
    assert status == 200 and kind.startswith("application/json"), (status, body[:200])
    return json.loads(body)


# ---- one run, trained with --serve and watched while it trains ---------------------------------------
@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """Train with --serve in a child process, polling /metrics and /trace while it runs; stop it with
    Ctrl-C (SIGINT) once training has ended. Returns (run folder, what was seen, exit status, stderr)."""
    if MNIST_DIR is None:
        pytest.skip("MNIST not found (set GLASSTORCH_DATA)")
    out = tmp_path_factory.mktemp("run")
    port = free_port()
    env = dict(os.environ, GLASSTORCH_DATA=MNIST_DIR, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1",
               OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    proc = subprocess.Popen([sys.executable, "-m", "glasstorch", "train", "--epochs", "2", "--hidden", str(HIDDEN),
                             "--batch-size", "256", "--out", str(out), "--serve", "--port", str(port),
                             "--serve-seconds", "120"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    base = f"http://127.0.0.1:{port}"
    seen = {"rows": [], "trace_while_training": None, "trace_after": None, "model_before": None}
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                m = get_json(base + "/metrics")
            except OSError:  # not listening yet (the data is loaded before the server starts)
                time.sleep(0.05)
                continue
            seen["rows"].append((len(m["rows"]), m["training"]))
            if m["training"] and m["rows"] == [] and seen["model_before"] is None:
                seen["model_before"] = get(base + "/model.json")[0]
            if m["training"] and seen["trace_while_training"] is None:
                seen["trace_while_training"] = get(base + "/trace")[0]
            if not m["training"]:
                seen["trace_after"] = get(base + "/trace")
                seen["metrics_after"] = m
                break
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C: the server stops, the command ends normally
        stdout, stderr = proc.communicate(timeout=60)
    return out, seen, proc.returncode, stdout + stderr


@pytest.fixture(scope="module")
def run_dir(live):
    return live[0]


@pytest.fixture(scope="module")
def server(run_dir):
    """`serve RUN_DIR` on a free port, answering from a thread of this process."""
    srv = serve.start(serve.Run(str(run_dir), MNIST_DIR), "127.0.0.1", 0)
    yield srv
    srv.shutdown()
    srv.server_close()


def test_train_serve_shows_the_curves_growing_live(live):
    out, seen, rc, output = live
    assert rc == 0, output  # Ctrl-C after training is the normal way out
    assert "glasstorch serve: stopped" in output and "Traceback" not in output
    counts = [n for n, training in seen["rows"] if training]
    # the server starts once the data is loaded, before the first epoch (~1 s here, longer on a slower
    # machine); polled every 50 ms, the run was seen with 0 and then 1 epoch logged while training
    assert counts[0] == 0 and 1 in counts and counts == sorted(counts)
    assert seen["rows"][-1] == (2, False)
    assert seen["trace_while_training"] == 503  # no traced step while the training thread runs ops
    assert seen["model_before"] == 503  # before the first checkpoint there is no network to serve
    status, kind, body = seen["trace_after"]
    assert status == 200 and kind.startswith("text/html") and b"AddmmBackward0" in body
    assert [r["epoch"] for r in seen["metrics_after"]["rows"]] == [1, 2]


@needs_mnist
def test_serving_does_not_change_training(live, tmp_path):
    """The same run without --serve ends with the same weights, bit for bit: the server drew no random
    numbers and changed no grad mode in the training process."""
    proc = glasstorch_cmd("train", "--epochs", "2", "--hidden", str(HIDDEN), "--batch-size", "256",
                          "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    a, b = load_file(str(tmp_path / "model.safetensors")), load_file(str(live[0] / "model.safetensors"))
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name].numpy(), b[name].numpy(), err_msg=name)


# ---- HTTP ----------------------------------------------------------------------------------------------
@needs_mnist
def test_metrics_json_is_metrics_csv(server, run_dir):
    m = get_json(server.url + "metrics")
    history = json.loads((run_dir / "metrics.json").read_text())
    assert m["columns"] == list(history[0]) and m["epochs"] == 2 and m["training"] is False
    assert m["rows"] == history  # csv holds repr()s of the floats: they read back exactly


@needs_mnist
def test_model_json_holds_the_checkpoint_exactly(server, run_dir):
    m = get_json(server.url + "model.json")
    assert [layer["type"] for layer in m["layers"]] == ["Flatten", "Linear", "ReLU", "Linear"]
    assert m["normalize"] == {"mean": 0.0, "std": 1.0}  # `glasstorch train` feeds raw [0, 1] pixels
    assert m["classes"] == [str(i) for i in range(10)] and m["checkpoint"] == "model.safetensors"
    state = load_file(str(run_dir / "model.safetensors"))
    for layer in m["layers"]:
        for p in ("weight", "bias") if layer["type"] == "Linear" else ():
            arr = np.frombuffer(base64.b64decode(layer[p]["data"]), dtype="<f4").reshape(layer[p]["shape"])
            np.testing.assert_array_equal(arr, state[f"{layer['name']}.{p}"].numpy())


@needs_mnist
def test_pages_and_404(server):
    for path, marker in (("", b'<canvas id="pad"'), ("curves", b'id="loss"'), ("trace", b"AddmmBackward0")):
        status, kind, body = get(server.url + path)
        assert status == 200 and kind == "text/html; charset=utf-8", path
        assert marker in body
        # one request per page: nothing linked to fetch, nothing from the network
        code = re.sub(rb"<script>const DATA = .*?;</script>", b"", body, flags=re.S)
        assert not re.search(rb"(src|href)=\"?https?:|@import", code), path
    status, kind, body = get(server.url + "no/such/page")
    assert (status, body) == (404, b"not found: /no/such/page\n")
    assert get(server.url + "metrics?x=1")[0] == 200  # a query string does not change the route


def test_run_without_checkpoint_serves_metrics_but_no_model(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"hidden": 4, "epochs": 3}))
    srv = serve.start(serve.Run(str(tmp_path), require_checkpoint=False), "127.0.0.1", 0)
    try:
        assert get_json(srv.url + "metrics") == {"columns": [], "rows": [], "epochs": 3, "training": False}
        assert get(srv.url + "model.json")[0] == 503
        assert get(srv.url + "trace")[0] == 503
    finally:
        srv.shutdown()
        srv.server_close()


# ---- errors: one line, exit status 2 ---------------------------------------------------------------------
def _error_line(argv, capsys) -> str:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("glasstorch: error: "), err
    return err[0]


def test_serve_bad_folders_are_one_error_line(tmp_path, capsys):
    assert "run folder not found: no/such/run" in _error_line(["serve", "no/such/run"], capsys)
    assert "is not a run folder of `glasstorch train` (no config.json)" in _error_line(["serve", str(tmp_path)], capsys)
    (tmp_path / "config.json").write_text(json.dumps({"hidden": 4}))
    assert "no checkpoint in" in _error_line(["serve", str(tmp_path)], capsys)
    (tmp_path / "model.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}garbage")
    line = _error_line(["serve", str(tmp_path)], capsys)
    assert "model.safetensors is not a glasstorch checkpoint" in line
    # a real checkpoint of another model: named with both shapes
    gt.manual_seed(0)
    from glasstorch.utils.safetensors import save_file

    save_file(cli.build_model(5).state_dict(), str(tmp_path / "model.safetensors"))
    line = _error_line(["serve", str(tmp_path)], capsys)
    assert "does not fit the 784-4-10 model of config.json" in line and "(4, 784)" in line and "(5, 784)" in line


def test_serve_port_in_use_exits_2(tmp_path):
    from glasstorch.utils.safetensors import save_file

    (tmp_path / "config.json").write_text(json.dumps({"hidden": 3}))  # the folder is checked first: a real run
    gt.manual_seed(0)
    save_file(cli.build_model(3).state_dict(), str(tmp_path / "model.safetensors"))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = glasstorch_cmd("serve", str(tmp_path), "--port", str(port), timeout=120)  # a real process: exit 2
        assert_usage_error(proc, f"cannot serve on 127.0.0.1:{port}: the port is in use (choose another with --port)")
        if MNIST_DIR is not None:  # train --serve finds out before it trains
            proc = glasstorch_cmd("train", "--serve", "--port", str(port), "--epochs", "1",
                                  "--out", str(tmp_path / "t"))
            assert_usage_error(proc, f"cannot serve on 127.0.0.1:{port}: the port is in use")
            assert "epoch" not in proc.stdout


def test_serve_listens_on_loopback_port_8000_by_default():
    args = cli.parser().parse_args(["serve", "runs/mnist"])
    assert (args.run_dir, args.host, args.port, args.serve_seconds) == ("runs/mnist", "127.0.0.1", 8000, None)
    args = cli.parser().parse_args(["train", "--serve"])
    assert (args.serve, args.host, args.port) == (True, "127.0.0.1", 8000)
    assert not cli.parser().parse_args(["train"]).serve


def test_export_refuses_layers_the_page_cannot_run():
    with pytest.raises(ValueError, match="the page cannot run GRU layers yet"):
        serve.export_model(gt.nn.Sequential(gt.nn.GRU(2, 2)))
    with pytest.raises(ValueError, match="ceil_mode=False only"):
        serve.export_model(gt.nn.Sequential(gt.nn.MaxPool2d(2, ceil_mode=True)))


# ---- in headless Chromium ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def web(tmp_path_factory):
    exe = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
    if exe is None:
        pytest.skip("Chromium is not installed (.ci/setup-browser installs Debian's chromium)")
    driver = shutil.which("chromedriver")
    if driver is None:
        pytest.skip("chromedriver is not installed (.ci/setup-browser installs Debian's chromium-driver)")
    w = _WebDriver(exe, driver, str(tmp_path_factory.mktemp("profile")))
    yield w
    w.close()


def _js(web, script: str, *args):
    return web.do("POST", "/execute/sync", {"script": script, "args": list(args)})


def _wait(web, script: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = _js(web, script)
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for: {script}")


def _screenshot(web, name: str) -> None:
    folder = os.environ.get("GLASSTORCH_TEST_ARTIFACTS")  # CI keeps screenshots when this is set
    if folder:
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, name), "wb") as f:
            f.write(base64.b64decode(web.do("GET", "/screenshot")))


def _model(run_dir, dtype=gt.float32):
    model = cli.build_model(HIDDEN)
    model.load_state_dict(load_file(str(run_dir / "model.safetensors")))
    return model.eval().to(dtype)


def _strokes(pad: str, points: list[tuple[int, int]]) -> dict:
    """One mouse stroke through `points` (offsets from the canvas centre), as W3C pointer actions."""
    moves = [{"type": "pointerMove", "duration": 20, "origin": {ELEMENT: pad}, "x": x, "y": y} for x, y in points]
    actions = [moves[0], {"type": "pointerDown", "button": 0}, *moves[1:], {"type": "pointerUp", "button": 0}]
    return {"actions": [{"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": actions}]}


@needs_mnist
def test_drawing_a_digit_shows_prediction_and_probabilities(web, server, run_dir):
    web.do("POST", "/url", {"url": server.url})
    _wait(web, "return document.getElementById('status').dataset.ready")
    pad = web.find("//canvas[@id='pad']")
    one = [(4, -95), (2, -40), (0, 10), (-2, 60), (-3, 95)]  # a slightly slanted "1", top to bottom
    web.do("POST", "/actions", _strokes(pad, one))
    web.do("DELETE", "/actions")
    shown = _wait(web, "const p = [...document.querySelectorAll('#probs td.prob')].map(e => e.textContent);"
                       "return p.length === 10 && p[0] !== '' ? p : null")
    pixels = np.array(_js(web, "return window.glasstorchInput()"), dtype=np.float64).reshape(28, 28)
    prediction = _js(web, "return document.getElementById('prediction').textContent")
    units = _js(web, "return document.querySelectorAll('#acts canvas.activation').length")
    _screenshot(web, "serve_digit.png")

    # the canvas became an MNIST-like image: longest side 20 px, centre of mass in the middle (the
    # shift is rounded to whole pixels, so within half a pixel of (14, 14) in each direction)
    rows, cols = np.nonzero(pixels > 0)
    assert max(np.ptp(rows), np.ptp(cols)) + 1 == 20 and 0 <= pixels.min() and pixels.max() <= 1
    yy, xx = np.mgrid[0:28, 0:28] + 0.5
    com = (float((pixels * yy).sum() / pixels.sum()), float((pixels * xx).sum() / pixels.sum()))
    assert abs(com[0] - 14) <= 0.5 + 1e-9 and abs(com[1] - 14) <= 0.5 + 1e-9, com

    # what the page printed is glasstorch's answer on that same input
    with gt.no_grad():
        probs = gt.softmax(_model(run_dir)(gt.from_numpy(pixels.astype(np.float32)).reshape(1, 1, 28, 28)), 1)[0]
    probs = probs.numpy().astype(np.float64)
    printed = np.array([float(p) for p in shown])
    # 4 decimals each: every printed value is within 5e-5 of the exact one, plus 1e-5 for float32 vs the
    # page's float64 (see the forward test below); ten of them sum to 1 within 10 * 5e-5 = 5e-4 < 1e-3
    np.testing.assert_allclose(printed, probs, rtol=0, atol=5e-5 + 1e-5)
    assert abs(printed.sum() - 1) < 1e-3
    assert prediction == str(int(probs.argmax()))
    # even this 2-epoch 784-16-10 network (about 92% test accuracy) reads a clean vertical stroke as a
    # one: the margin is large, so the trained weights' last bits (CPU-dependent sums) cannot flip it
    assert prediction == "1"
    assert units == 1  # the hidden ReLU layer's 16 activations, drawn as one grid


@needs_mnist
def test_in_browser_forward_matches_glasstorch(web, server, run_dir):
    from glasstorch.datasets import MNIST

    images, _ = MNIST(root=MNIST_DIR, train=False).tensors()
    x = images[:3]
    web.do("POST", "/url", {"url": server.url})
    _wait(web, "return document.getElementById('status').dataset.ready")
    js = [_js(web, "return window.glasstorchForward(arguments[0])", img.reshape(-1).tolist()) for img in x.numpy()]
    logits_js = np.array([r["logits"] for r in js])
    probs_js = np.array([r["probs"] for r in js])
    with gt.no_grad():
        f32 = _model(run_dir)(x).numpy().astype(np.float64)
        f64 = _model(run_dir, gt.float64)(x.double()).numpy()
    # The page computes in float64 on the checkpoint's exact float32 weights (sent as float32 bytes):
    # against glasstorch in float64 only the order of the 784- and 16-term sums differs, ~1e-15
    # relative per sum; 1e-12 leaves room for that and would catch any wrong weight or layer.
    np.testing.assert_allclose(logits_js, f64, rtol=1e-12, atol=1e-12)
    # Against glasstorch's float32 forward: each float32 sum of 784 terms |w x| <~ 5 carries rounding
    # errors of order sqrt(784) * 6e-8 * 5 ~ 1e-5 at worst, typically far less; 1e-5 as the issue asks.
    np.testing.assert_allclose(logits_js, f32, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(probs_js, gt.softmax(gt.from_numpy(f64), 1).numpy(), rtol=1e-10, atol=1e-12)
    hidden = np.maximum(x.reshape(3, -1).double().numpy() @ _model(run_dir, gt.float64)[1].weight.detach().numpy().T
                        + _model(run_dir, gt.float64)[1].bias.detach().numpy(), 0)
    np.testing.assert_allclose(np.array([r["activations"][0]["values"] for r in js]), hidden, rtol=1e-12, atol=1e-12)


@needs_mnist
def test_in_browser_cnn_and_normalisation_match_glasstorch(web, server):
    """A small CNN (what a convolutional run would export) with MNIST's normalisation, run by the page."""
    gt.manual_seed(0)
    nn = gt.nn
    cnn = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(4, 6, 3, stride=2, dilation=2, groups=2), nn.Tanh(),
                        nn.MaxPool2d(3, stride=1, padding=1),
                        nn.Flatten(), nn.Dropout(0.5), nn.Linear(6 * 5 * 5, 10)).eval()
    mean, std = 0.1307, 0.3081
    exported = serve.export_model(cnn, normalize=(mean, std))
    rng = np.random.default_rng(0)
    pixels = rng.random((28, 28)).astype(np.float32)
    web.do("POST", "/url", {"url": server.url})
    _wait(web, "return document.getElementById('status').dataset.ready")
    out = _js(web, "return window.glasstorchForward(arguments[0], arguments[1])", pixels.reshape(-1).tolist(), exported)
    with gt.no_grad():  # float64 on the same float32 weights: sums differ in order only (see above)
        ref = cnn.to(gt.float64)((gt.from_numpy(pixels.astype(np.float64)).reshape(1, 1, 28, 28) - mean) / std)[0]
    np.testing.assert_allclose(out["logits"], ref.numpy(), rtol=1e-12, atol=1e-12)
    assert [a["shape"] for a in out["activations"]] == [[4, 28, 28], [6, 5, 5]]


@needs_mnist
def test_curves_page_draws_one_point_per_epoch(web, server, run_dir):
    web.do("POST", "/url", {"url": server.url + "curves"})
    _wait(web, "return document.getElementById('status').dataset.rows")
    points = _js(web, "return [...document.querySelectorAll('circle.point')]"
                      ".map(c => [c.dataset.series, +c.dataset.epoch, c.textContent])")
    _screenshot(web, "serve_curves.png")
    history = json.loads((run_dir / "metrics.json").read_text())
    # two charts (loss, accuracy) x two series (train, test) x one point per logged epoch
    expected = [(s, row["epoch"], f"{s} epoch {row['epoch']}: {scale * row[f'{s}_{key}']:.4f}")
                for key, scale in (("loss", 1), ("acc", 100)) for s in ("train", "test") for row in history]
    assert [tuple(p) for p in points] == expected


@needs_mnist
def test_trace_page_shows_the_models_grad_fn_names(web, server, run_dir):
    from glasstorch.nn import functional as F

    web.do("POST", "/url", {"url": server.url + "trace"})
    text = _wait(web, "return document.getElementById('steps-body').innerText")
    _screenshot(web, "serve_trace.png")
    model = _model(run_dir)
    loss = F.cross_entropy(model(gt.zeros(2, 1, 28, 28)), gt.tensor([0, 1]))
    names, stack = set(), [loss.grad_fn]
    while stack:  # the model's own graph, walked as viz.graph walks it
        node = stack.pop()
        names.add(node.name())  # as PyTorch names it (a fused node reports the name of the node it stands for)
        stack.extend(n for n, _ in node.next_functions if n is not None)
    names.discard("torch::autograd::AccumulateGrad")  # the leaves: parameters, not steps
    assert names >= {"NllLossBackward0", "AddmmBackward0", "ReluBackward0"}  # PyTorch's names for this model
    for name in names:  # every node of the model's graph is a backward step of the page
        assert re.search(rf"\b{name}\b", text), name
    assert "one_training_step.py" in _js(web, "return document.body.innerText")
