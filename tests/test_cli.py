"""The `glasstorch` command (glasstorch/cli.py): train, eval, predict, run, compare, and its errors.

Commands run as real `python -m glasstorch` processes, so that exit statuses, stderr and the
absence of a traceback are what a user would see; eval and predict also run in-process through
`cli.main([...])`. One short training run is shared by the module. MNIST comes from
$GLASSTORCH_DATA or the shared folder beside the checkout; tests that need it are skipped without it.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import glasstorch
from glasstorch import cli
from glasstorch.datasets import MNIST
from glasstorch.utils.safetensors import save_file

ROOT = Path(__file__).resolve().parent.parent
MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
               "t10k-labels-idx1-ubyte")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def find_mnist() -> str | None:
    """A folder holding the four MNIST files ($GLASSTORCH_DATA first), or None."""
    for folder in (os.environ.get("GLASSTORCH_DATA"), ROOT.parent / "shared" / "datasets" / "mnist"):
        if folder and all(any((Path(folder) / (f + ext)).is_file() for ext in (".gz", "")) for f in MNIST_FILES):
            return str(folder)
    return None


MNIST_DIR = find_mnist()
needs_mnist = pytest.mark.skipif(MNIST_DIR is None, reason="MNIST not found (set GLASSTORCH_DATA)")


# The CI machine has 2 cores, shared with other jobs. A multi-threaded BLAS on a busy CPU makes
# the MLP's small matrix products 10-100x slower (its threads wait for each other), so the child
# processes use one BLAS thread; results do not depend on it.
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def glasstorch_cmd(*args: str, cwd: str | os.PathLike | None = None,
                   timeout: float = 300) -> subprocess.CompletedProcess:
    """`python -m glasstorch ARGS` in a fresh interpreter, this checkout first on the path."""
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONIOENCODING="utf-8", **ONE_THREAD)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    if MNIST_DIR:
        env["GLASSTORCH_DATA"] = MNIST_DIR
    return subprocess.run([sys.executable, "-m", "glasstorch", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=timeout, check=False)


def run_main(*args: str) -> tuple[int, str]:
    """cli.main(ARGS) in this process: (exit status, stdout)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = cli.main(list(args))
    return rc, out.getvalue()


def assert_usage_error(proc: subprocess.CompletedProcess, *fragments: str) -> str:
    """Exit status 2, no traceback, and a last stderr line `glasstorch: error: ...` naming the fault."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("glasstorch: error: "), proc.stderr
    for fragment in fragments:
        assert fragment in last, (fragment, last)
    return last


def load_model(path: str | os.PathLike, hidden: int = 128):
    """The CLI's 784-hidden-10 glasstorch model with the weights of a model.safetensors."""
    from glasstorch.utils.safetensors import load_file

    model = cli.build_model(hidden)
    model.load_state_dict(load_file(path))
    return model.eval()


# ---- train ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A 2-epoch run (the default 784-128-10 model, Adam, batch 64): (run folder, stdout)."""
    if MNIST_DIR is None:
        pytest.skip("MNIST not found (set GLASSTORCH_DATA)")
    out = tmp_path_factory.mktemp("run")
    proc = glasstorch_cmd("train", "--epochs", "2", "--out", str(out), "--data-dir", MNIST_DIR)
    assert proc.returncode == 0, proc.stderr
    return out, proc.stdout


@pytest.fixture(scope="module")
def mnist_test():
    images, labels = MNIST(root=MNIST_DIR, train=False).tensors()
    return images, labels


@needs_mnist
def test_train_writes_config_and_metrics(trained):
    out, stdout = trained
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "curves.png", "metrics.csv", "metrics.json",
                                                     "model.safetensors", "train_state.pt"]
    config = json.loads((out / "config.json").read_text())
    assert config == {"dataset": "mnist", "hidden": 128, "epochs": 2, "batch_size": 64, "optimizer": "adam",
                      "lr": 1e-3, "seed": 0, "device": "cpu"}
    history = json.loads((out / "metrics.json").read_text())
    assert [row["epoch"] for row in history] == [1, 2]
    assert history[1]["train_loss"] < history[0]["train_loss"] < 0.5
    assert 0.93 < history[0]["test_acc"] < history[1]["test_acc"]
    timing = [row[key] for row in history for key in ("seconds", "samples_per_s")]
    assert all(v > 0 for v in timing)  # recorded, not judged: speed lives in benchmarks/
    # metrics.csv holds the same table
    lines = (out / "metrics.csv").read_text().splitlines()
    assert lines[0].split(",") == list(history[0])
    for line, row in zip(lines[1:], history, strict=True):
        assert [float(v) for v in line.split(",")] == pytest.approx([float(v) for v in row.values()], rel=1e-12)
    # the printed epoch lines report the same numbers
    printed = re.findall(r"epoch +(\d+)/2 .*test acc ([\d.]+)%", stdout)
    assert printed == [(str(r["epoch"]), f"{100 * r['test_acc']:.2f}") for r in history]


@needs_mnist
def test_train_curves_png_is_a_valid_png(trained):
    from PIL import Image

    path = trained[0] / "curves.png"
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    with Image.open(path) as im:
        im.verify()
    with Image.open(path) as im:
        assert im.format == "PNG" and im.size[0] > 300 and im.size[1] > 200


@needs_mnist
def test_checkpoint_loads_in_safetensors_and_torch(trained, mnist_test):
    torch = pytest.importorskip("torch")
    from safetensors.numpy import load_file as np_load
    from safetensors.torch import load_file as torch_load

    path = trained[0] / "model.safetensors"
    arrays = np_load(str(path))  # the reference reader accepts the file
    assert {k: (v.shape, v.dtype) for k, v in arrays.items()} == {
        "1.weight": ((128, 784), np.float32), "1.bias": ((128,), np.float32),
        "3.weight": ((10, 128), np.float32), "3.bias": ((10,), np.float32)}
    reference = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 128), torch.nn.ReLU(),
                                    torch.nn.Linear(128, 10))
    reference.load_state_dict(torch_load(str(path)))  # strict: same names and shapes as PyTorch's model
    ours = load_model(path)
    images = mnist_test[0][:256]
    with torch.no_grad(), glasstorch.no_grad():
        expected = reference(torch.from_numpy(images.numpy().copy())).numpy()
        actual = ours(images).numpy()
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-5)
    assert (actual.argmax(1) == expected.argmax(1)).all()


@needs_mnist
def test_resume_continues_a_run_exactly(trained, tmp_path):
    """1 epoch, then --resume --epochs 2, ends where 2 epochs in one go end: same metrics, same weights."""
    straight = trained[0]
    assert glasstorch_cmd("train", "--epochs", "1", "--out", str(tmp_path)).returncode == 0
    proc = glasstorch_cmd("train", "--resume", "--epochs", "2", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "epoch  1/2" not in proc.stdout and "epoch  2/2" in proc.stdout  # only the missing epoch ran

    def untimed(folder):
        return [{k: v for k, v in row.items() if k not in ("seconds", "samples_per_s")}
                for row in json.loads((folder / "metrics.json").read_text())]

    assert untimed(tmp_path) == untimed(straight)  # exact equality: the floats must be identical
    from safetensors.numpy import load_file

    a, b = load_file(str(tmp_path / "model.safetensors")), load_file(str(straight / "model.safetensors"))
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    assert json.loads((tmp_path / "config.json").read_text())["epochs"] == 2


@needs_mnist
def test_resume_of_a_finished_run_is_a_usage_error(trained, tmp_path):
    proc = glasstorch_cmd("train", "--resume", "--out", str(trained[0]))
    assert_usage_error(proc, "nothing to train", "already has 2 epochs")
    proc = glasstorch_cmd("train", "--resume", "--out", str(tmp_path))
    assert_usage_error(proc, "--resume: no saved run in", "train_state.pt")
    (tmp_path / "train_state.pt").write_bytes((trained[0] / "train_state.pt").read_bytes())
    proc = glasstorch_cmd("train", "--resume", "--out", str(tmp_path))  # the state without its config.json
    assert_usage_error(proc, "--resume: no saved run in", "config.json")


# ---- eval / predict -------------------------------------------------------------------------------

@needs_mnist
def test_eval_prints_accuracy_and_confusion_matrix(trained, mnist_test):
    rc, stdout = run_main("eval", str(trained[0] / "model.safetensors"), "--data-dir", MNIST_DIR)
    assert rc == 0
    accuracy = float(re.search(r"test accuracy ([\d.]+)%", stdout).group(1))
    rows = [line.split() for line in stdout.splitlines() if re.fullmatch(r"\s*\d(\s+\d+){10}\s*", line)]
    confusion = np.array(rows, dtype=np.int64)[:, 1:]
    assert confusion.shape == (10, 10) and np.array(rows, dtype=np.int64)[:, 0].tolist() == list(range(10))
    assert confusion.sum() == 10000
    assert confusion.sum(1).tolist() == np.bincount(mnist_test[1].numpy()).tolist()  # rows are the true class
    assert f"{100 * np.trace(confusion) / 10000:.2f}" == f"{accuracy:.2f}"
    # the same number train printed for its last epoch
    assert accuracy == pytest.approx(100 * json.loads((trained[0] / "metrics.json").read_text())[-1]["test_acc"],
                                     abs=0.005)


def write_digit_png(path: Path, index: int, invert: bool = False) -> int:
    """Writes MNIST test image `index` as a 28x28 greyscale PNG; returns its label."""
    from PIL import Image

    test = MNIST(root=MNIST_DIR, train=False)
    pixels = test.data[index].numpy()
    Image.fromarray(255 - pixels if invert else pixels).save(path)  # uint8 [28, 28]: greyscale ("L")
    return int(test.targets[index].item())


def parse_predictions(stdout: str) -> list[tuple[str, float]]:
    lines = stdout.strip().splitlines()
    assert len(lines) == 3, stdout
    return [(m.group(1), float(m.group(2))) for m in (re.fullmatch(r"\s*(\S+)\s+([\d.]+)%", ln) for ln in lines)]


@needs_mnist
@pytest.mark.parametrize("invert", [False, True], ids=["light-on-dark", "dark-on-white"])
def test_predict_ranks_the_true_digit_first(trained, mnist_test, tmp_path, invert):
    png = tmp_path / "digit.png"
    label = write_digit_png(png, 0, invert=invert)  # test image 0 is a 7
    rc, stdout = run_main("predict", str(trained[0] / "model.safetensors"), str(png))
    assert rc == 0
    top3 = parse_predictions(stdout)
    assert top3[0][0] == str(label) == "7"
    probs = [p for _, p in top3]
    assert probs == sorted(probs, reverse=True) and probs[0] > 50 and sum(probs) <= 100.01
    assert len({name for name, _ in top3}) == 3
    # the printed probabilities are the model's softmax of the image as MNIST stores it
    with glasstorch.no_grad():
        img = mnist_test[0][0]
        expected = glasstorch.softmax(load_model(trained[0] / "model.safetensors")(img.reshape(1, 1, 28, 28)), 1)
    assert probs[0] == pytest.approx(100 * expected.max().item(), abs=0.006)


# ---- usage errors: one line on stderr, exit status 2, no traceback --------------------------------

USAGE_ERRORS = [
    (["train", "--dataset", "cifar10"], ["argument --dataset: invalid choice: 'cifar10'"]),
    (["train", "--epochs", "ten"], ["argument --epochs: invalid int value: 'ten'"]),
    (["train", "--epochs", "0"], ["--epochs", "must be positive"]),
    (["train", "--epochs", "-3"], ["must be positive"]),
    (["train", "--lr", "0"], ["--lr", "must be positive"]),
    (["frobnicate"], ["invalid choice: 'frobnicate'"]),
    (["eval", "no/such/model.safetensors"], ["checkpoint not found: no/such/model.safetensors"]),
    (["predict", "no/such/model.safetensors", "x.png"], ["checkpoint not found"]),
    (["run", "no_such_script.py"], ["script not found: no_such_script.py"]),
    (["compare", "no_such_script.py"], ["script not found: no_such_script.py"]),
    (["eval"], ["the following arguments are required: checkpoint"]),
]


@pytest.mark.parametrize("args, fragments", USAGE_ERRORS, ids=[" ".join(args) for args, _ in USAGE_ERRORS])
def test_usage_errors(tmp_path, args, fragments):
    assert_usage_error(glasstorch_cmd(*args, cwd=tmp_path), *fragments)


def test_no_command_prints_help_and_exits_2():
    proc = glasstorch_cmd()
    assert proc.returncode == 2
    assert all(cmd in proc.stdout for cmd in ("train", "eval", "predict", "run", "compare"))


def test_checkpoint_of_another_architecture(tmp_path):
    """A --hidden 64 checkpoint beside a config.json saying 128: refused, naming both shapes."""
    glasstorch.manual_seed(0)
    save_file(cli.build_model(64).state_dict(), tmp_path / "model.safetensors")
    (tmp_path / "config.json").write_text(json.dumps({"dataset": "mnist", "hidden": 128}))
    last = assert_usage_error(glasstorch_cmd("eval", str(tmp_path / "model.safetensors")),
                              "does not fit the 784-128-10 model", "size mismatch for 1.weight")
    assert "[64, 784]" in last and "[128, 784]" in last


def test_safetensors_file_with_other_tensors(tmp_path):
    save_file({"w": glasstorch.zeros(3, 3)}, tmp_path / "other.safetensors")
    assert_usage_error(glasstorch_cmd("eval", str(tmp_path / "other.safetensors")),
                       "does not fit the 784-128-10 model", 'Unexpected key(s) in state_dict: "w"')


def test_random_bytes_are_not_a_checkpoint(tmp_path):
    path = tmp_path / "random.safetensors"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    assert_usage_error(glasstorch_cmd("predict", str(path), "x.png"), "is not a glasstorch checkpoint")


def test_image_that_is_not_an_image(tmp_path):
    glasstorch.manual_seed(0)
    save_file(cli.build_model(128).state_dict(), tmp_path / "model.safetensors")
    (tmp_path / "digit.png").write_text("this is text, not a PNG\n")
    ckpt = str(tmp_path / "model.safetensors")
    assert_usage_error(glasstorch_cmd("predict", ckpt, str(tmp_path / "digit.png")), "digit.png is not an image")
    assert_usage_error(glasstorch_cmd("predict", ckpt, str(tmp_path / "none.png")), "image not found")


# ---- run / compare ----------------------------------------------------------------------------------

TINY_PYTORCH_SCRIPT = """\
import sys
import torch
import torch.nn as nn
import torch.nn.functional as F

print("argv", sys.argv[1:])
print("module", torch.__name__)
model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
with torch.no_grad():
    for p in model.parameters():
        p.fill_(0.5)
x = torch.ones(2, 3)
print("forward", model(x).sum().item())   # 2 rows * (4 * 0.5 * (3 * 0.5 + 0.5) + 0.5) = 9.0
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
losses = []
for _ in range(20):
    loss = F.mse_loss(model(x), torch.zeros(2, 1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
print("first", round(losses[0], 4), "decreasing", losses[-1] < losses[0])
"""


def test_run_executes_a_pytorch_script_on_glasstorch(tmp_path):
    script = tmp_path / "tiny.py"
    script.write_text(TINY_PYTORCH_SCRIPT)
    proc = glasstorch_cmd("run", str(script), "a", "b")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["argv ['a', 'b']", "module glasstorch", "forward 9.0",
                                        "first 20.25 decreasing True"]


def test_run_passes_the_script_exit_status(tmp_path):
    script = tmp_path / "exit3.py"
    script.write_text("import sys, torch\nsys.exit(3 if torch.__name__ == 'glasstorch' else 4)\n")
    assert glasstorch_cmd("run", str(script)).returncode == 3


def test_compare_agrees_on_a_fixed_weight_seed_listing():
    pytest.importorskip("torch")
    proc = glasstorch_cmd("compare", str(ROOT / "examples" / "seeds" / "s001_01_forward_pytorch.py"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == "agree: 4 lines of output match (rtol=0.0001, atol=1e-06)"


def test_compare_reports_a_framework_dependent_difference(tmp_path):
    pytest.importorskip("torch")
    script = tmp_path / "which.py"
    # the arguments reach the script unchanged under both frameworks; only the module name differs
    script.write_text("import sys, torch\nassert sys.argv[1:] == ['x', '7'], sys.argv\n"
                      "print('value', 1.5)\nprint('framework', torch.__name__)\n")
    proc = glasstorch_cmd("compare", str(script), "x", "7")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout.startswith("differ: line 2: tokens differ: expected 'torch', got 'glasstorch'")


def test_compare_reports_a_script_that_fails(tmp_path):
    pytest.importorskip("torch")
    script = tmp_path / "fails.py"
    script.write_text(textwrap.dedent("""\
        import torch
        if torch.__name__ == "glasstorch":
            raise SystemExit("no glasstorch please")
        print(1)
    """))
    proc = glasstorch_cmd("compare", str(script))
    assert proc.returncode == 1
    assert proc.stdout.startswith("glasstorch run failed (exit 1):") and "no glasstorch please" in proc.stdout
