"""glasstorch.viz: traces (values, lines, gradients checked against PyTorch run live), the page, DOT/SVG,
graph(tensor), summary(model), the `glasstorch trace` command, and the page in headless Chromium."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

import glasstorch as gt
import glasstorch.viz as viz
import glasstorch.viz.html as viz_html
from glasstorch import cli

from _compare import TOL

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED_GRAPH = os.path.join(ROOT, "examples", "seeds", "s002_16_computation_graph.py")


def _here() -> int:
    """The line number of the caller: where the next op is expected to be recorded."""
    return sys._getframe(1).f_lineno


def _close(ours, theirs, dtype="float32"):
    np.testing.assert_allclose(np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64), **TOL[dtype])


def _sin_chain(m, line_marks=None):
    """Seed 002's graph: d = sin((2x + 5)^3), with intermediate gradients retained."""
    x = m.tensor(3.0, requires_grad=True)
    a = x * 2
    b = a + 5
    c = b ** 3
    d = m.sin(c)
    for t in (a, b, c, d):
        t.retain_grad()
    d.backward()
    return x, a, b, c, d


# ---- recording ---------------------------------------------------------------------------------------
def test_trace_records_ops_values_lines_and_gradients_like_torch():
    ref = _sin_chain(torch)
    with viz.trace() as t:
        x = gt.tensor(3.0, requires_grad=True)
        line_x = _here()
        a = x * 2
        line_a = _here()
        y = gt.sin((a + 5) ** 3)
        line_y = _here()
        y.backward()
    fwd = [s for s in t.steps if s["phase"] == "forward"]
    assert [s["name"] for s in fwd] == ["tensor", "mul", "add", "pow", "sin"]
    assert [s["grad_fn"] for s in fwd[1:]] == [type(r.grad_fn).__name__ for r in ref[1:]]
    assert [s["line"] for s in fwd] == [line_x - 1, line_a - 1, line_y - 1, line_y - 1, line_y - 1]
    assert all(s["file"] == os.path.abspath(__file__) for s in t.steps)
    # values of every output, and the gradient that reached it, against torch's (retain_grad'ed) ones;
    # float32 throughout, so torch's float32 tolerance
    for s, r in zip(fwd, ref):
        out = t.tensors[s["outputs"][0]]
        assert (out["shape"], out["dtype"], out["device"]) == ([], "float32", "cpu")
        _close(out["values"], r.item())
        _close(out["grad"]["values"], r.grad.item())
    # backward ran inside: one step per graph node, in the engine's order, naming PyTorch's nodes
    nodes = [s["name"] for s in t.steps if s["kind"] == "node"]
    assert nodes == ["SinBackward0", "PowBackward0", "AddBackward0", "MulBackward0"]
    mul = next(s for s in t.steps if s["name"] == "MulBackward0")
    _close(mul["input_grads"][0]["values"], ref[0].grad.item())
    assert mul["input_grads"][1] is None  # the constant 2 gets no gradient
    assert mul["line"] == line_a - 1  # a backward node points at the line of its forward op


def test_trace_large_tensors_summarised_with_limits():
    data = np.arange(200, dtype=np.float32).reshape(10, 20) / 7
    with viz.trace(max_values=50, sample=5) as t:
        big = gt.from_numpy(data.copy()) * 1.5
        small = big[:2, :3] + 0
    assert [s["name"] for s in t.steps] == ["from_numpy", "mul", "getitem", "add"]
    rec_big = t.tensors[t.steps[1]["outputs"][0]]
    assert "values" not in rec_big and rec_big["numel"] == 200 and rec_big["shape"] == [10, 20]
    ref = data.astype(np.float64) * np.float32(1.5)
    _close(rec_big["sample"], ref.reshape(-1)[:5])
    # float32 data summed in float64 either way: order-independent to well below float32 tolerance
    _close([rec_big["stats"][k] for k in ("min", "max", "mean", "std")], [ref.min(), ref.max(), ref.mean(), ref.std()])
    rec_small = t.tensors[t.steps[-1]["outputs"][0]]
    _close(rec_small["values"], small.numpy())
    with viz.trace(max_values=1000) as t2:
        gt.from_numpy(data.copy()) * 1.5
    _close(t2.tensors[t2.steps[-1]["outputs"][0]]["values"], ref)
    with pytest.raises(ValueError, match="max_ops must be positive, got 0"):
        viz.trace(max_ops=0)


def test_trace_modules_parameters_and_leaf_gradients():
    gt.manual_seed(0)
    lin = gt.nn.Linear(3, 2)
    ref = torch.nn.Linear(3, 2)
    with torch.no_grad():
        ref.weight.copy_(torch.from_numpy(lin.weight.detach().numpy()))
        ref.bias.copy_(torch.from_numpy(lin.bias.detach().numpy()))
    xs = np.linspace(-1, 1, 12).reshape(4, 3)
    ref(torch.from_numpy(xs).float()).pow(2).mean().backward()
    with viz.trace() as t:
        loss = lin(gt.from_numpy(xs).float()).pow(2).mean()
        loss.backward()
    step = next(s for s in t.steps if s["name"] == "Linear")
    assert step["kind"] == "module" and step["grad_fn"] == "AddmmBackward0"
    names = {t.tensors[i].get("name"): t.tensors[i] for i in step["inputs"]}
    assert set(names) == {None, "Linear.weight", "Linear.bias"}
    _close(names["Linear.weight"]["grad"]["values"], ref.weight.grad.numpy())  # reached the leaf
    _close(names["Linear.bias"]["grad"]["values"], ref.bias.grad.numpy())
    _close(t.tensors[step["outputs"][0]]["values"], ref(torch.from_numpy(xs).float()).detach().numpy())


def test_trace_user_module_nests_steps_and_graph_keeps_inner_ops():
    class Net(gt.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = gt.nn.Linear(2, 2)

        def forward(self, x):
            return gt.relu(self.fc(x)) * 2

    net = Net()
    with viz.trace() as t:
        net(gt.ones(1, 2))
    outer = next(s for s in t.steps if s["name"] == "Net")
    inner = [s["name"] for s in t.steps if s["parent"] == outer["index"]]
    assert inner == ["Linear", "relu", "mul"]
    g = t.graph()
    ops = [n["label"] for n in g.nodes if n["kind"] == "op"]
    assert ops == ["ones", "Linear", "relu", "mul"]  # the Net box itself is replaced by its ops


def test_trace_off_leaves_no_profile_function_and_survives_errors():
    before = sys.getprofile()
    with pytest.raises(ZeroDivisionError):
        with viz.trace():
            assert sys.getprofile() is not None
            1 / 0
    assert sys.getprofile() is before  # nothing left on the hot path once the trace ends


def test_trace_max_ops_truncates_and_rest_runs_untraced():
    before = sys.getprofile()
    with viz.trace(max_ops=3) as t:
        y = gt.ones(2)
        for _ in range(10):
            y = y * 2
        assert sys.getprofile() is before  # recording stopped: the rest runs at full speed
    assert t.truncated and len(t.steps) == 3
    assert y.tolist() == [1024.0, 1024.0]
    assert any("stopped after 3 ops" in n for n in viz_html.notes(t))


def test_trace_only_lines_and_inplace_versions():
    start = _here()
    with viz.trace(only_lines=(start + 3, start + 4), only_file=__file__) as t:
        x = gt.zeros(3)  # start + 2: left out
        x.add_(1)  # start + 3
        z = x * 3  # start + 4
        z = z + 1  # start + 5: left out
    assert [s["name"] for s in t.steps] == ["add_", "mul"]
    assert t.skipped_lines == 2
    add, mul = t.steps
    assert add["outputs"] != add["inputs"]  # the in-place result is a new version, recorded anew
    assert mul["inputs"] == add["outputs"] and t.tensors[mul["inputs"][0]]["values"] == [1.0, 1.0, 1.0]


# ---- rendering ---------------------------------------------------------------------------------------
def _seed_trace():
    with viz.trace() as t:
        _sin_chain(gt)
    return t


def test_dot_labels_are_micrograd_style():
    dot = _seed_trace().to_dot()
    assert dot.startswith("digraph G {") and "rankdir=LR" in dot
    assert re.search(r'label="\{ sin \(SinBackward0\) \| data -0\.8600 \| grad 1\.0000 \}"', dot)
    assert "grad 370.4638" in dot  # x's gradient, as the seed prints it (:.4f)
    assert dot.count("->") == 4


def test_to_svg_through_graphviz():
    pytest.importorskip("graphviz", reason="the graphviz package (extra 'viz') is not installed")
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot program is not installed (apt-get install graphviz)")
    svg = _seed_trace().to_svg()
    assert svg.lstrip().startswith("<?xml") and "SinBackward0" in svg and "370.4638" in svg


def _page_data(path) -> dict:
    text = open(path, encoding="utf-8").read()
    blob = re.search(r"<script>const DATA = (.*?);</script>", text, re.S).group(1)
    code = text.replace(blob, "")  # the page without its data (which holds the traced source, any text)
    assert not re.search(r"(src|href)=|@import|https?://(?!www\.w3\.org/2000/svg)", code)  # nothing to fetch
    return json.loads(blob.replace("<\\/", "</"))


def test_to_html_is_self_contained_and_atomic(tmp_path):
    t = _seed_trace()
    path = tmp_path / "t.html"
    t.to_html(path)
    data = _page_data(path)
    assert len(data["steps"]) == len(t.steps) and os.path.abspath(__file__) in data["sources"]
    subs = {n["sub"] for n in data["graph"]["nodes"]}
    assert subs >= {"SinBackward0", "PowBackward0", "AddBackward0", "MulBackward0"}
    xs = [n["x"] for n in data["graph"]["nodes"]]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)  # a chain: one column per op, left to right
    assert os.listdir(tmp_path) == ["t.html"]  # no temp file left behind
    with pytest.raises(RuntimeError, match="does not exist"):
        t.to_html(tmp_path / "missing" / "t.html")


def _torch_graph(root):
    """(names, edge count) of torch's autograd graph behind root, walked iteratively."""
    names, edges, seen, stack = [], 0, set(), [root.grad_fn]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        names.append(type(node).__name__)
        for nxt, _ in node.next_functions:
            if nxt is not None:
                edges += 1
                stack.append(nxt)
    return sorted(names), edges


def test_graph_of_tensor_matches_torch_graph(tmp_path):
    def f(m, w, x):
        h = m.tanh(x @ w)
        return (h * h).sum() + w.exp().mean()

    w_np, x_np = np.linspace(-1, 1, 6).reshape(3, 2), np.linspace(0, 1, 6).reshape(2, 3)
    ours = f(gt, gt.from_numpy(w_np).requires_grad_(), gt.from_numpy(x_np))
    theirs = f(torch, torch.from_numpy(w_np).requires_grad_(), torch.from_numpy(x_np))
    g = viz.graph(ours)
    names = sorted("AccumulateGrad" if n["label"] == "AccumulateGrad" else n["label"] for n in g.nodes)
    assert (names, len(g.edges)) == _torch_graph(theirs)
    # float64 end to end: same formula, tolerance of float64 results
    _close(g.nodes[-1]["data"]["values"], theirs.item(), "float64")
    g.to_html(tmp_path / "g.html")
    assert len(_page_data(tmp_path / "g.html")["graph"]["nodes"]) == len(g.nodes)
    deep = gt.ones(1, requires_grad=True)
    y = deep
    for _ in range(3000):  # deeper than the recursion limit: the walk must be iterative
        y = y + 1
    assert len(viz.graph(y).nodes) == 3001
    with pytest.raises(TypeError, match="expected a Tensor, got list"):
        viz.graph([1])


def test_summary_table_and_counts_match_torch():
    def build(m):
        return m.nn.Sequential(m.nn.Linear(784, 128), m.nn.ReLU(),
                               m.nn.Sequential(m.nn.Linear(128, 10), m.nn.BatchNorm1d(10)))

    ours, theirs = build(gt), build(torch)
    s = viz.summary(ours, (2, 784))
    shapes = []
    for mod in theirs.modules():
        mod.register_forward_hook(lambda mod, i, o: shapes.append((type(mod).__name__, list(o.shape))))
    theirs(torch.zeros(2, 784))
    order = ["Sequential", "Linear", "ReLU", "Sequential", "Linear", "BatchNorm1d"]
    assert [r[0] for r in s.rows] == order
    assert sorted((r[0], r[3]) for r in s.rows) == sorted(shapes)
    assert s.total_params == sum(p.numel() for p in theirs.parameters()) == 101_790
    assert s.trainable_params == s.total_params
    lines = str(s).splitlines()
    assert lines[1].split() == ["Layer", "(type:depth-idx)", "Output", "Shape", "Param", "#"]
    assert lines[4].split() == ["├─Linear:", "1-1", "[2,", "128]", "100,480"]
    assert lines[7].split() == ["│", "├─Linear:", "2-1", "[2,", "10]", "1,290"]
    assert "Total params: 101,790" in lines and "Non-trainable params: 0" in lines
    with pytest.raises(TypeError, match="expected an nn.Module, got int"):
        viz.summary(3, (1, 2))


# ---- the command -------------------------------------------------------------------------------------
def test_cli_trace_writes_the_seed_page(tmp_path):
    out = tmp_path / "seed.html"
    res = subprocess.run([sys.executable, "-m", "glasstorch", "trace", SEED_GRAPH, "--out", str(out), "--max-ops", "4"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "Gradient of d with respect to x: 370.4638" in res.stdout  # the script itself ran to the end
    data = _page_data(out)
    assert [s["name"] for s in data["steps"]] == ["tensor", "mul", "add", "pow"]
    assert data["notes"] and "stopped after 4 ops" in data["notes"][0]


@pytest.mark.parametrize("argv, message", [
    (["trace", "no/such/script.py"], "script not found: no/such/script.py"),
    (["trace", SEED_GRAPH, "--only-lines", "9-x"], "--only-lines must look like A-B (line numbers), got '9-x'"),
    (["trace", SEED_GRAPH, "--only-lines", "9-3"], "--only-lines needs 1 <= A <= B, got '9-3'"),
    (["trace", SEED_GRAPH, "--max-ops", "0"], "--max-ops must be positive, got 0"),
    (["trace", SEED_GRAPH, "--out", "/no/such/dir/t.html"], "output folder does not exist: /no/such/dir"),
])
def test_cli_trace_bad_input_is_one_error_line(argv, message, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"glasstorch: error: {message}"]


# ---- in a real browser -------------------------------------------------------------------------------
def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    pytest.skip("Chromium is not installed (.ci/setup-browser installs Debian's chromium)")


def test_seed_page_in_headless_chromium(tmp_path):
    exe = _chromium()
    page = tmp_path / "seed.html"
    assert cli.main(["trace", SEED_GRAPH, "--out", str(page)]) == 0
    res = subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                          "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
                          "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    # what the script drew, not the data it drew from: drop the <script> elements first
    dom = re.sub(r"<script>.*?</script>", "", res.stdout, flags=re.S)
    for name in ("SinBackward0", "PowBackward0", "AddBackward0", "MulBackward0"):
        assert f"{name}</text>" in dom and f"<td>{name}</td>" in dom  # a graph box and a backward step row
    assert "<td>370.4638</td>" in dom  # x's gradient in the steps table
    assert dom.count('class="line traced"') == 6  # the six lines of the seed that ran ops


class _WebDriver:
    """The few W3C WebDriver calls the test needs, spoken to chromedriver over HTTP (no selenium)."""

    def __init__(self, chromium: str, driver: str, profile: str):
        import socket
        import time
        import urllib.request

        self._urlopen = urllib.request
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.proc = subprocess.Popen([driver, f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if self._call("GET", "/status")["ready"]:
                    break
            except OSError:
                time.sleep(0.1)
        args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run", f"--user-data-dir={profile}", "--window-size=1300,900"]
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome",
                                                 "goog:chromeOptions": {"binary": chromium, "args": args}}}}
        self.session = "/session/" + self._call("POST", "/session", caps)["sessionId"]

    def _call(self, method: str, path: str, body: dict | None = None):
        req = self._urlopen.Request(self.base + path, method=method, headers={"Content-Type": "application/json"},
                                    data=None if body is None else json.dumps(body).encode())
        with self._urlopen.urlopen(req, timeout=60) as r:
            return json.loads(r.read())["value"]

    def do(self, method: str, path: str, body: dict | None = None):
        return self._call(method, self.session + path, body)

    def find(self, xpath: str) -> str:
        found = self.do("POST", "/element", {"using": "xpath", "value": xpath})
        return next(iter(found.values()))

    def close(self) -> None:
        try:
            self.do("DELETE", "")
        finally:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def test_clicking_a_source_line_shows_its_values(tmp_path):
    exe = _chromium()
    driver = shutil.which("chromedriver")
    if driver is None:
        pytest.skip("chromedriver is not installed (.ci/setup-browser installs Debian's chromium-driver)")
    page = tmp_path / "seed.html"
    assert cli.main(["trace", SEED_GRAPH, "--out", str(page)]) == 0
    web = _WebDriver(exe, driver, str(tmp_path / "profile"))
    try:
        web.do("POST", "/url", {"url": page.as_uri()})
        line = web.find("//div[contains(@class, 'traced') and contains(., 'torch.sin(c)')]")
        web.do("POST", f"/element/{line}/click", {})
        pane = web.find("//pre[@id='detail-text']")
        details = web.do("GET", f"/element/{pane}/text")
        shot = web.do("GET", "/screenshot")
    finally:
        web.close()
    # the forward op of that line with its value and gradient, then its backward node
    x, a, b, c, d = _sin_chain(torch)
    assert "sin -> SinBackward0" in details and "backward SinBackward0" in details
    assert f"input 0: shape [] float32 cpu\n    {c.item():.4f}" in details
    assert f"output: shape [] float32 cpu\n    {d.item():.4f}" in details
    assert f"grad: shape [] float32 cpu\n    {d.grad.item():.4f}" in details
    artifacts = os.environ.get("GLASSTORCH_TEST_ARTIFACTS")  # CI keeps screenshots when this is set
    if artifacts:
        import base64

        os.makedirs(artifacts, exist_ok=True)
        with open(os.path.join(artifacts, "viz_seed_trace.png"), "wb") as f:
            f.write(base64.b64decode(shot))


def test_trace_descends_into_builtin_containers():
    gt.manual_seed(0)
    model = gt.nn.Sequential(gt.nn.Linear(4, 3), gt.nn.ReLU(), gt.nn.Linear(3, 2))
    with viz.trace() as t:
        loss = model(gt.ones(5, 4)).sum()
        line = _here() - 1
        loss.backward()
    seq = t.steps[1]
    assert seq["name"] == "Sequential" and seq["line"] == line
    layers = [s for s in t.steps if s["parent"] == seq["index"]]
    assert [s["name"] for s in layers] == ["Linear", "ReLU", "Linear"] and all(s["line"] == line for s in layers)
    # the container's output is its last layer's: one record, so the graph stays connected
    assert seq["outputs"] == layers[-1]["outputs"]
    ops = [n["label"] for n in t.graph().nodes if n["kind"] == "op"]
    assert ops == ["ones", "Linear", "ReLU", "Linear", "sum"]
    nodes = [s["name"] for s in t.steps if s["kind"] == "node"]
    assert nodes == ["SumBackward0", "AddmmBackward0", "ReluBackward0", "AddmmBackward0"]
    first = t.tensors[layers[0]["inputs"][1]]  # the first layer's weight, whose gradient reached it
    assert first["name"] == "Linear.weight"
    _close(first["grad"]["values"], model[0].weight.grad.numpy())


def test_cli_trace_options_after_the_script_and_script_args():
    from glasstorch.viz.command import split_script_args

    args = cli.parser().parse_args(["trace", "--max-ops", "7", "s.py", "--out", "o.html", "--epochs", "3", "--",
                                    "--out", "x"])
    split_script_args(args)
    assert (args.script, args.out, args.max_ops) == ("s.py", "o.html", 7)
    assert args.args == ["--epochs", "3", "--out", "x"]  # unknown ones, and all after `--`, go to the script
