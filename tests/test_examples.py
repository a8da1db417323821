"""The teaching examples (examples/*.py) run in fast mode and print the numbers they promise.

Most examples' `main(argv)` is imported from their file and called with `--fast`; it returns the
key numbers, which are checked here together with what it printed. The MNIST examples, and two
others, run as real scripts (`python examples/X.py`, fast mode through GLASSTORCH_FAST=1). The
MNIST examples need the dataset ($GLASSTORCH_DATA or the shared folder beside the checkout) and
are skipped without it.
"""
from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
               "t10k-labels-idx1-ubyte")


def find_mnist() -> str | None:
    """A folder holding the four MNIST files ($GLASSTORCH_DATA first), or None."""
    for folder in (os.environ.get("GLASSTORCH_DATA"), ROOT.parent / "shared" / "datasets" / "mnist"):
        if folder and all(any((Path(folder) / (f + ext)).is_file() for ext in (".gz", "")) for f in MNIST_FILES):
            return str(folder)
    return None


MNIST_DIR = find_mnist()
needs_mnist = pytest.mark.skipif(MNIST_DIR is None, reason="MNIST not found (set GLASSTORCH_DATA)")


def load_example(name: str):
    """examples/NAME.py as a module (its main() is not run on import)."""
    spec = importlib.util.spec_from_file_location(f"glasstorch_example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_fast(name: str, capsys, *extra: str) -> tuple[dict, str]:
    """(what main() returned, what it printed) for examples/NAME.py --fast."""
    result = load_example(name).main(["--fast", *extra])
    return result, capsys.readouterr().out


def run_script(name: str) -> str:
    """stdout of `python examples/NAME.py` in fast mode (GLASSTORCH_FAST=1), checked to succeed.

    One BLAS thread: the CI machine has 2 cores shared with other jobs, and a multi-threaded BLAS
    on a busy CPU makes small matrix products 10-100x slower (results do not depend on it).
    """
    env = dict(os.environ, GLASSTORCH_FAST="1", MPLBACKEND="Agg", PYTHONIOENCODING="utf-8",
               OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    if MNIST_DIR:
        env["GLASSTORCH_DATA"] = MNIST_DIR
    proc = subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py")], capture_output=True, text=True, env=env,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return proc.stdout


def test_every_example_is_tested():
    """A new example must get a test here."""
    tested = {"diagonal_flip", "numpy_vs_autograd", "house_prices", "temperature", "mnist_from_scratch", "mnist",
              "optimizers"}
    assert {p.stem for p in EXAMPLES.glob("*.py")} == tested


# ---- seeds 001/003: the diagonal flip ------------------------------------------------------------

# The seed network's unit 0 sits on a knife edge (tests/_compare.py, SEED_NET_BIAS): whether ReLU passes
# its gradient depends on the order a kernel adds a sum that is 0 on paper, so there are two correct
# trajectories. These are PyTorch's values on each side (the bias nudged by +-1e-6, which moves them
# by ~1e-7; seeds/README.md): dL/db1 of the first step and the loss after 1, 5 and 50 SGD steps. The
# tolerance of 2e-6 allows for float32 rounding accumulated over 50 steps of values below 1.
KNIFE_SIDES = (
    {"db1": [-0.0975, 0.0, 0.44], "loss": {1: 0.721839, 5: 0.392270, 50: 0.000278}},  # z1[0] > 0
    {"db1": [0.0, 0.0, 0.44], "loss": {1: 0.725753, 5: 0.411635, 50: 0.004070}},  # z1[0] <= 0
)


def test_diagonal_flip(capsys):
    r, out = run_fast("diagonal_flip", capsys)
    # 1. fixed weights: the seed's forward pass
    assert r["forward"]["prediction"] == pytest.approx([0.1, -0.1, -0.05, -0.25], abs=1e-7)
    assert round(r["forward"]["loss"], 4) == 0.8963 and r["forward"]["parameters"] == 31
    assert "MSE Loss:   0.8963" in out and "Parameters: 31" in out
    # 2. one SGD step and 3. the 200-step loop cross the knife edge: either side is a correct answer
    side = KNIFE_SIDES[0] if r["step"]["db1"][0] != 0 else KNIFE_SIDES[1]
    assert r["step"]["loss_after"] == pytest.approx(side["loss"][1], abs=2e-6)
    assert r["step"]["db1"] == pytest.approx(side["db1"], abs=1e-6)
    assert f"Loss: 0.896250 -> {r['step']['loss_after']:.6f}" in out
    loop = r["loop"]
    for step in (1, 5, 50):
        assert loop[step] == pytest.approx(side["loss"][step], abs=2e-6), step
    assert loop[200] < 1e-9
    assert re.search(r"Step 200  loss=0\.000000  pred=\[1\.0, 1\.0, -?0\.0, 1\.0\]", out)
    # 4. all 16 images: 3 hidden units never learn them all; 8 hidden units mostly do
    cap = r["capacity"]
    assert f"3 hidden units, seed 42: Accuracy: {cap['seed42_hidden3']}/16" in out
    assert len(cap["hidden3"]) == len(cap["hidden8"]) == 5
    assert max(cap["hidden3"]) < 16 and cap["seed42_hidden3"] < 16
    n_perfect = sum(s == 16 for s in cap["hidden8"])
    assert n_perfect >= 3
    assert f"8 hidden units: {n_perfect} of 5 seeds learn all 16 images" in out
    assert "3 hidden units: 0 of 5 seeds learn all 16 images" in out


def test_diagonal_flip_training_matches_pytorch_for_seed_42():
    """The example's 16-image training, run on real PyTorch, gives PyTorch's 6/16 (seeds/README.md):
    glasstorch's different count comes from its random numbers, not from the training code."""
    torch = pytest.importorskip("torch")
    if torch.__name__ != "torch":
        pytest.skip("`torch` is aliased to glasstorch in this process")
    source = (EXAMPLES / "diagonal_flip.py").read_text().replace("glasstorch", "torch")
    namespace = {"__name__": "diagonal_flip_on_torch"}
    exec(compile(source, "diagonal_flip_on_torch", "exec"), namespace)  # noqa: S102 (our own example)
    assert namespace["torch"] is torch
    assert namespace["train_all_16"](42, hidden=3) == 6


# ---- seed 003: NumPy by hand vs autograd ---------------------------------------------------------

def test_numpy_vs_autograd(capsys):
    r, out = run_fast("numpy_vs_autograd", capsys)
    for name in ("W1", "b1", "W2", "b2"):
        np.testing.assert_allclose(r["autograd_grads"][name], r["numpy_grads"][name], rtol=1e-6, atol=1e-7)
    assert r["max_diff"] <= 1e-7 and "All gradients equal." in out
    # the example's NumPy adds z1 as glasstorch does, so both take the same side of the knife edge
    side = KNIFE_SIDES[0] if r["autograd_grads"]["b1"][0] != 0 else KNIFE_SIDES[1]
    assert r["autograd_grads"]["b1"] == pytest.approx(side["db1"], abs=1e-6)
    assert r["numpy_loss"][1] == pytest.approx(side["loss"][1], abs=2e-6)
    assert r["autograd_loss"] == pytest.approx((0.89625, side["loss"][1]), abs=2e-6)
    assert round(r["rounded_new_loss"], 4) == 0.7258  # the text's own NumPy, float64 with np.round


def test_numpy_vs_autograd_gradients_are_pytorchs():
    """Unit 0 sits on the seed network's knife edge (tests/_compare.py, SEED_NET_BIAS), so PyTorch's
    gradients depend on the CPU: glasstorch's must equal PyTorch's on one side of the edge."""
    torch = pytest.importorskip("torch")
    from _compare import NUDGE
    ex = load_example("numpy_vs_autograd")

    def torch_grads(nudge: float) -> dict:
        model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 4))
        with torch.no_grad():
            for layer, n in ((model[0], "1"), (model[2], "2")):
                layer.weight.copy_(torch.tensor(ex.SEED["W" + n]).T)
                layer.bias.copy_(torch.tensor(ex.SEED["b" + n]))
            model[0].bias[0] += nudge
        x, target = torch.tensor(ex.SEED["x"]), torch.tensor(ex.SEED["target"])
        torch.mean((model(x) - target) ** 2).backward()
        return {"W1": model[0].weight.grad.numpy().T, "b1": model[0].bias.grad.numpy(),
                "W2": model[2].weight.grad.numpy().T, "b2": model[2].bias.grad.numpy()}

    def agrees(ours: dict, theirs: dict) -> bool:
        # float32 sums of at most 4 terms of size < 1: a few ulps of 1, and the nudge moves them ~1e-7
        return all(np.allclose(ours[k], theirs[k], rtol=1e-6, atol=1e-6) for k in ("W1", "b1", "W2", "b2"))

    branches = [torch_grads(NUDGE), torch_grads(-NUDGE)]
    assert branches[0]["b1"][0] == pytest.approx(-0.0975, abs=1e-6) and branches[1]["b1"][0] == 0  # edge crossed
    assert any(agrees(torch_grads(0.0), b) for b in branches)
    ours = ex.autograd_step()[1]
    assert any(agrees(ours, b) for b in branches), (ours, branches)


# ---- seed 002: regression --------------------------------------------------------------------------

def test_house_prices(capsys):
    r, out = run_fast("house_prices", capsys)
    for losses in (r["by_hand"], r["adam"]):
        assert np.isfinite(losses).all() and losses[-1] < losses[0] / 100
    assert len(r["by_hand"]) == 200 and len(r["adam"]) == 400
    assert r["by_hand"][-1] < 50  # the text's run ends near 43; the least-squares fit is a bit lower
    assert "Total parameters: 97" in out and "House 5: predicted $" in out


def test_temperature(capsys):
    r, out = run_fast("temperature", capsys)
    raw = r["raw_losses"]
    assert len(raw) == 1000 and raw[-1] < raw[0] / 10
    slope, intercept = r["raw_fit"]
    assert abs(intercept - 32) > 10 and slope > 1.9  # not converged with lr 1e-4: the slope makes up for b
    assert r["std_losses"][-1] < 1e-6 < r["std_losses"][0]
    assert r["std_fit"] == pytest.approx((1.8, 32.0), abs=1e-3)
    assert "Learned: F = 1.8000 * C + 32.0000" in out


# ---- seed 004: MNIST -------------------------------------------------------------------------------
# These two run as scripts with one BLAS thread (see run_script): on a busy 2-core machine a
# multi-threaded BLAS makes their small matrix products 10-100x slower.

@needs_mnist
def test_mnist_from_scratch():
    out = run_script("mnist_from_scratch")
    assert "train (60000, 784), test (10000, 784)" in out
    loss, train_acc = re.search(r"Epoch 1/1 \| Loss: ([\d.]+) \| Acc: ([\d.]+)%", out).groups()
    assert float(loss) < 0.4 and float(train_acc) > 88
    assert float(re.search(r"Test accuracy: ([\d.]+)%", out).group(1)) > 93


@needs_mnist
def test_mnist_with_nn_optim_dataloader():
    out = run_script("mnist")
    assert "Linear(in_features=784, out_features=128" in out
    assert float(re.search(r"epoch 1/1  train loss ([\d.]+)", out).group(1)) < 0.4
    assert float(re.search(r"Test accuracy: ([\d.]+)%", out).group(1)) > 93


# ---- optimizers ------------------------------------------------------------------------------------

def test_optimizers_plot(capsys, tmp_path):
    from PIL import Image

    png = tmp_path / "paths.png"
    r, out = run_fast("optimizers", capsys, "--out", str(png))
    assert r["start_loss"] == 12.5
    final = {name: losses[-1] for name, losses in r["losses"].items()}
    assert len(final) == 3 and all(0 <= f < r["start_loss"] for f in final.values())
    sgd, momentum, adam = final.values()
    assert momentum < sgd and adam < sgd  # the point of the picture
    assert all(len(losses) == 301 for losses in r["losses"].values())
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(png) as im:
        im.verify()
    with Image.open(png) as im:
        assert im.format == "PNG" and im.size[0] > 600
    assert f"saved {png}" in out and list(tmp_path.iterdir()) == [png]  # no temp file left behind


# ---- as scripts --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, expected", [
    ("numpy_vs_autograd", "All gradients equal."),
    ("temperature", "Learned: F = 1.8000 * C + 32.0000"),
])
def test_examples_run_as_scripts(name, expected):
    assert expected in run_script(name)
