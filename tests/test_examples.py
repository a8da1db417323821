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
              "optimizers", "mnist_cnn", "vae", "dcgan", "char_gpt", "word_lm", "sine_lstm",
              "ddp_mnist"}  # ddp_mnist: tests/test_distributed.py runs it under mpirun
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


# ---- the classic image programs: PyTorch + torchvision scripts run by `glasstorch run` ---------------
# mnist_cnn, vae and dcgan name only torch and torchvision. Each runs briefly as `glasstorch run` in a
# subprocess (what a user types), and its networks are built from the same file on both libraries and
# compared value for value (torchvision, not a test dependency, is stubbed: the networks need only torch).

def glasstorch_run(name: str, *args: str, cwd: Path) -> str:
    """stdout of `glasstorch run examples/NAME.py *args` in `cwd`, checked to succeed (one BLAS thread,
    as run_script)."""
    env = dict(os.environ, PYTHONIOENCODING="utf-8", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               MKL_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    if MNIST_DIR:
        env["GLASSTORCH_DATA"] = MNIST_DIR
    proc = subprocess.run([sys.executable, "-m", "glasstorch", "run", str(EXAMPLES / f"{name}.py"), *args],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return proc.stdout


def load_on_glasstorch(name: str):
    """examples/NAME.py imported with `torch`/`torchvision` mapped to glasstorch, as `glasstorch run` maps them."""
    from glasstorch._compat import torch_alias

    with torch_alias():
        return load_example(name)


def load_on_torch(name: str, monkeypatch):
    """examples/NAME.py imported on real PyTorch, torchvision stubbed (its networks need only torch)."""
    torch = pytest.importorskip("torch")
    if torch.__name__ != "torch":
        pytest.skip("`torch` is aliased to glasstorch in this process")
    import types

    vision = types.ModuleType("torchvision")
    for sub in ("datasets", "transforms", "utils"):
        module = types.ModuleType(f"torchvision.{sub}")
        module.save_image = None  # vae.py: `from torchvision.utils import save_image`
        setattr(vision, sub, module)
        monkeypatch.setitem(sys.modules, f"torchvision.{sub}", module)
    monkeypatch.setitem(sys.modules, "torchvision", vision)
    return load_example(name)


def same_weights(ours, theirs) -> None:
    """Loads torch module `theirs`'s parameters and buffers into glasstorch module `ours`."""
    import glasstorch

    ours.load_state_dict({k: glasstorch.from_numpy(v.detach().numpy().copy()) for k, v in theirs.state_dict().items()})


def assert_grads_same(ours, theirs) -> None:
    from _compare import assert_same

    names = [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_parameters()] == names
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        assert_same(p.grad, q.grad, what=f"{name}.grad")


def png(path: Path) -> np.ndarray:
    """A PNG's pixels as an array [H, W, channels]."""
    from PIL import Image

    with Image.open(path) as im:
        assert im.format == "PNG"
        return np.asarray(im.convert("RGB"))


def test_mnist_cnn_net_is_pytorchs(monkeypatch):
    """The example's Net, built on both libraries with the same weights: same repr, outputs and gradients."""
    import glasstorch
    from _compare import assert_same

    torch = pytest.importorskip("torch")
    ours_m, theirs_m = load_on_glasstorch("mnist_cnn"), load_on_torch("mnist_cnn", monkeypatch)
    theirs, ours = theirs_m.Net(), ours_m.Net()
    assert repr(ours) == repr(theirs)
    same_weights(ours, theirs)
    ours.eval(), theirs.eval()  # dropout off: the two libraries draw different masks
    x = np.random.rand(3, 1, 28, 28).astype(np.float32)
    target = np.array([3, 0, 9])
    # float32: sums of up to 9216 products in a different order, ~sqrt(9216) * 6e-8 relative; 1e-4 is ample
    assert_same(ours(glasstorch.from_numpy(x)), theirs(torch.from_numpy(x)), tol=dict(rtol=1e-4, atol=1e-5))
    # float64, forward and backward through conv, relu, max-pool, linear, log_softmax and nll_loss
    ours, theirs = ours.double(), theirs.double()
    out_g, out_t = ours(glasstorch.from_numpy(x.astype(np.float64))), theirs(torch.from_numpy(x.astype(np.float64)))
    assert_same(out_g, out_t)
    ours_m.F.nll_loss(out_g, glasstorch.from_numpy(target)).backward()
    theirs_m.F.nll_loss(out_t, torch.from_numpy(target)).backward()
    assert_grads_same(ours, theirs)


@needs_mnist
def test_mnist_cnn_runs_unchanged(tmp_path):
    """--dry-run: each epoch trains one batch of 64 and tests one of 200; five epochs, then --save-model."""
    out = glasstorch_run("mnist_cnn", "--dry-run", "--epochs", "5", "--test-batch-size", "200", "--save-model",
                         cwd=tmp_path)
    train = [float(v) for v in re.findall(r"Train Epoch: \d \[0/60000 \(0%\)\]\tLoss: ([\d.]+)", out)]
    tests = re.findall(r"Test set: Average loss: ([\d.]+), Accuracy: (\d+)/200 \(([\d.]+)%\)", out)
    assert len(train) == len(tests) == 5 and out.count("trained in") == 5
    # an untrained network's log-softmax is near uniform: the loss starts near log(10) = 2.303
    assert train[0] == pytest.approx(np.log(10), abs=0.15)
    # Adadelta's first steps are small (~sqrt(eps) / rms(g) = ~3e-3 per weight) and the first may not help;
    # from the second on each step (lr 1, 0.7, 0.49, ... by StepLR) lowers the test loss (run: 2.35 2.23
    # 2.09 1.95 1.82) and the accuracy climbs from chance (~60% after five steps)
    losses = [float(t[0]) for t in tests]
    assert losses[1] > losses[2] > losses[3] > losses[4] and losses[4] < 0.85 * np.log(10)
    assert all(float(p) == int(c) / 2 for _, c, p in tests) and int(tests[4][1]) > 80
    # the saved state_dict is PyTorch's file format with the example's parameter shapes
    import torch

    state = torch.load(tmp_path / "mnist_cnn.pt", weights_only=True)
    assert {k: tuple(v.shape) for k, v in state.items()} == {
        "conv1.weight": (32, 1, 3, 3), "conv1.bias": (32,), "conv2.weight": (64, 32, 3, 3), "conv2.bias": (64,),
        "fc1.weight": (128, 9216), "fc1.bias": (128,), "fc2.weight": (10, 128), "fc2.bias": (10,)}
    assert all(v.dtype == torch.float32 and torch.isfinite(v).all() for v in state.values())


def test_vae_is_pytorchs(monkeypatch):
    """The example's VAE and loss on both libraries, same weights: mu, logvar, decoding, loss and gradients."""
    import glasstorch
    from _compare import assert_same

    torch = pytest.importorskip("torch")
    ours_m, theirs_m = load_on_glasstorch("vae"), load_on_torch("vae", monkeypatch)
    theirs, ours = theirs_m.VAE().double(), ours_m.VAE().double()
    assert repr(ours) == repr(theirs)
    same_weights(ours, theirs)
    x = np.random.rand(5, 1, 28, 28)  # pixels in [0, 1], as ToTensor gives
    eps = np.random.randn(5, 20)
    results = []
    for m, model, lib in ((ours_m, ours, glasstorch), (theirs_m, theirs, torch)):
        xs = lib.from_numpy(x)
        mu, logvar = model.encode(xs.view(-1, 784))
        z = mu + lib.from_numpy(eps) * lib.exp(0.5 * logvar)  # reparameterize() with a fixed draw
        recon = model.decode(z)
        loss = m.loss_function(recon, xs, mu, logvar)
        loss.backward()
        results.append((mu, logvar, recon, loss))
    for name, a, b in zip(("mu", "logvar", "recon", "loss"), *results):
        assert_same(a, b, what=name)
    assert_grads_same(ours, theirs)
    # reparameterize draws eps ~ N(0, 1): over many rows z's mean is mu and its spread exp(logvar / 2)
    mu, logvar = glasstorch.zeros(20000, 2, dtype=glasstorch.float64), glasstorch.tensor([[0.0, 2 * np.log(3.0)]])
    z = ours.reparameterize(mu, logvar.expand(20000, 2)).numpy()
    # standard errors over 20000 draws: means 0.007 and 0.021 (scales 1 and 3), standard deviations
    # 0.005 and 0.015; the bounds allow 5 of the larger ones
    assert abs(z.mean(0)).max() < 0.11 and z.std(0) == pytest.approx([1.0, 3.0], abs=0.08)


@needs_mnist
def test_vae_runs_unchanged(tmp_path, monkeypatch):
    """--dry-run: 20 batches of 128, then image grids of reconstructions and of samples."""
    results = tmp_path / "results"
    out = glasstorch_run("vae", "--dry-run", "--log-interval", "1", "--results", str(results), cwd=tmp_path)
    train = [float(v) for v in re.findall(r"Train Epoch: 1 \[\d+/60000 \(\d+%\)\]\tLoss: ([\d.]+)", out)]
    assert len(train) == 20 and np.isfinite(train).all()
    # a sigmoid output near 0.5 costs 784 * log(2) = 543.4 nats per image whatever the image; KL starts near 0
    assert train[0] == pytest.approx(784 * np.log(2), rel=0.05)
    assert np.mean(train[-3:]) < 0.6 * train[0]  # ~250 after 20 Adam steps
    average = float(re.search(r"====> Epoch: 1 Average loss: ([\d.]+)", out).group(1))
    test_loss = float(re.search(r"====> Test set loss: ([\d.]+)", out).group(1))
    assert min(train) < average < train[0] and test_loss < 0.6 * train[0]
    assert sorted(p.name for p in results.iterdir()) == ["reconstruction_1.png", "sample_1.png"]
    # 8 test images above their reconstructions: 2 rows of 8 cells of 28 + 2 pixels, plus the last padding
    grid = png(results / "reconstruction_1.png")
    assert grid.shape == (2 * 30 + 2, 8 * 30 + 2, 3)
    monkeypatch.setenv("GLASSTORCH_DATA", MNIST_DIR)
    from glasstorch.vision import datasets

    first8 = datasets.MNIST(str(tmp_path), train=False).data[:8].numpy()
    for i in range(8):  # ToTensor's p / 255 comes back as p through save_image's * 255 + 0.5
        np.testing.assert_array_equal(grid[2:30, 2 + 30 * i:30 + 30 * i, 0], first8[i])
    samples = png(results / "sample_1.png")
    assert samples.shape == (8 * 30 + 2, 8 * 30 + 2, 3) and samples[2:30, 2:30].std() > 5


def test_dcgan_nets_are_pytorchs(monkeypatch):
    """Generator and discriminator on both libraries, same weights, batch-norm in training mode: outputs,
    running statistics and gradients through ConvTranspose2d, BatchNorm2d, in-place ReLU/LeakyReLU, BCELoss."""
    import glasstorch
    from _compare import assert_same

    torch = pytest.importorskip("torch")
    ours_m, theirs_m = load_on_glasstorch("dcgan"), load_on_torch("dcgan", monkeypatch)
    for size in (32, 64):
        assert repr(ours_m.Generator(100, 64, 3, size)) == repr(theirs_m.Generator(100, 64, 3, size))
        assert repr(ours_m.Discriminator(3, 64, size)) == repr(theirs_m.Discriminator(3, 64, size))
    g_t, d_t = theirs_m.Generator(8, 4, 3, 32).double(), theirs_m.Discriminator(3, 4, 32).double()
    g_g, d_g = ours_m.Generator(8, 4, 3, 32).double(), ours_m.Discriminator(3, 4, 32).double()
    g_t.apply(theirs_m.weights_init), d_t.apply(theirs_m.weights_init)
    same_weights(g_g, g_t), same_weights(d_g, d_t)
    noise = np.random.randn(6, 8, 1, 1)
    labels = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 0.0])
    outs = []
    for (g, d), m, lib in (((g_g, d_g), ours_m, glasstorch), ((g_t, d_t), theirs_m, torch)):
        fake = g(lib.from_numpy(noise))
        p = d(fake)
        m.nn.BCELoss()(p, lib.from_numpy(labels)).backward()
        outs.append((fake, p))
    assert tuple(outs[0][0].shape) == (6, 3, 32, 32)
    for name, a, b in zip(("fake", "D(fake)"), *outs):
        assert_same(a, b, what=name)
    for ours, theirs in ((g_g, g_t), (d_g, d_t)):
        assert_grads_same(ours, theirs)
        for (name, a), b in zip(ours.named_buffers(), theirs.buffers()):
            assert_same(a, b, what=name)


def test_dcgan_runs_unchanged(tmp_path):
    """--dry-run with 4 batches of 16 32x32 FakeData images: the log, and the two image grids."""
    out = glasstorch_run("dcgan", "--dry-run", "--batches", "4", "--batch-size", "16", "--fake-size", "64",
                         "--ngf", "16", "--ndf", "16", "--outf", "out", cwd=tmp_path)
    assert "ConvTranspose2d(100, 64, kernel_size=(4, 4), stride=(1, 1), bias=False)" in out
    rows = re.findall(r"\[0/1\]\[(\d)/4\] Loss_D: ([\d.]+) Loss_G: ([\d.]+) D\(x\): ([\d.]+) "
                      r"D\(G\(z\)\): ([\d.]+) / ([\d.]+)", out)
    assert [int(r[0]) for r in rows] == [0, 1, 2, 3]
    values = np.array([[float(v) for v in r[1:]] for r in rows])
    assert np.isfinite(values).all() and (values[:, 2:] > 0).all() and (values[:, 2:] < 1).all()
    # N(0, 0.02) weights make D's first outputs near 0.5: Loss_D = -log D(x) - log(1 - D(G(z))) near 2 log 2
    assert values[0, 0] == pytest.approx(2 * np.log(2), abs=0.2)
    # the discriminator's step lowers its score of the same fakes: D(G(z)) after < before, every batch
    assert (values[:, 4] < values[:, 3]).all()
    # 16 images of 32x32, 8 a row, 2 pixels of padding: 2 rows of 34 + 2 by 8 columns of 34 + 2
    for name in ("real_samples.png", "fake_samples_epoch_000.png"):
        grid = png(tmp_path / "out" / name)
        assert grid.shape == (2 * 34 + 2, 8 * 34 + 2, 3)
        # normalize=True stretches the batch's range onto 0..255
        assert grid[2:-2, 2:-2].max() == 255 and grid[2:34, 2:34].std() > 5
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["fake_samples_epoch_000.png", "real_samples.png"]


# ---- the language-model programs: the same script on PyTorch and under `glasstorch run` ----------------
# Each prints `final loss: X` last. Random streams differ between the libraries, so the comparison is
# arranged to be meaningful: word_lm and sine_lstm start glasstorch from PyTorch's initial weights
# (--save-init / --load-init, a state_dict checkpoint going from torch to glasstorch) and read their data
# in a fixed order, so the two runs differ only by float rounding (chaotic in word_lm's LSTM at lr 20,
# hence not far below 1%); char_gpt samples its batches with torch.randint, so its two runs differ as two
# seeds do: its --fast setting (no dropout, batch 64, 300 steps) keeps that spread near 4% (measured
# over seeds 1-3 on both libraries). 10% is the bar the issue sets.

def torch_run(name: str, *args: str, cwd: Path) -> str:
    """stdout of `python examples/NAME.py *args` on real PyTorch (skipped without it), one thread."""
    pytest.importorskip("torch")
    env = dict(os.environ, PYTHONIOENCODING="utf-8", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               MKL_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py"), *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def final_loss(stdout: str) -> float:
    match = re.search(r"^final loss: (\S+)$", stdout, re.M)
    assert match, stdout
    return float(match.group(1))


def assert_losses_close(name: str, tmp_path: Path, *args: str, same_start: bool) -> tuple[str, str]:
    init = ["--save-init", str(tmp_path / "init.pt")] if same_start else []
    theirs = torch_run(name, "--fast", *args, *init, cwd=tmp_path)
    init = ["--load-init", str(tmp_path / "init.pt")] if same_start else []
    ours = glasstorch_run(name, "--fast", *args, *init, cwd=tmp_path)
    assert final_loss(ours) == pytest.approx(final_loss(theirs), rel=0.10), (ours, theirs)
    return ours, theirs


def test_char_gpt_reaches_pytorchs_loss(tmp_path):
    ours, theirs = assert_losses_close("char_gpt", tmp_path, same_start=False)
    first = float(re.search(r"step 0: loss (\S+)", ours).group(1))
    assert final_loss(ours) < 0.25 * first  # it learned: ~3.3 (uniform over 36 characters) -> ~0.2
    # torch.multinomial's text, between the last progress line and the final loss: "T" + 80 sampled characters
    sample = ours[ours.index("\n", ours.rindex("step ")) + 1:ours.rindex("final loss:") - 1]
    assert len(sample) == 81 and sample[0] == "T"
    alphabet = set(load_example("char_gpt").TEXT)
    assert set(sample) <= alphabet


@pytest.mark.parametrize("model", ["LSTM", "Transformer"])
def test_word_lm_reaches_pytorchs_loss_after_whole_model_reload(tmp_path, model):
    ours, _ = assert_losses_close("word_lm", tmp_path, "--model", model, same_start=True)
    expected = "RNNModel" if model == "LSTM" else "TransformerModel"
    assert f"reloaded {expected} from the whole-model checkpoint" in ours


def test_sine_lstm_lbfgs_reaches_pytorchs_loss(tmp_path):
    ours, theirs = assert_losses_close("sine_lstm", tmp_path, same_start=True)
    # float64 from one start: the whole LBFGS trajectory agrees far inside 10%; the first step's loss
    # (printed to 6 decimals) agrees to its last digit up to rounding
    first = [float(re.search(r"step 0: loss (\S+)", out).group(1)) for out in (ours, theirs)]
    assert first[0] == pytest.approx(first[1], abs=2e-6)
    assert final_loss(ours) < 0.01 * first[0]
