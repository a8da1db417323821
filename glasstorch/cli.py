"""The `glasstorch` command: train, eval, predict, run and compare.

    glasstorch train                      # the seed's 784-128-10 MLP on MNIST, Adam, 10 epochs
    glasstorch eval runs/mnist/model.safetensors
    glasstorch predict runs/mnist/model.safetensors digit.png
    glasstorch run script.py [args]       # an ordinary PyTorch script, with torch -> glasstorch
    glasstorch compare script.py          # PyTorch vs glasstorch outputs, number by number
    glasstorch launch --nproc-per-node 2 script.py   # data-parallel: torchrun's flags, through mpirun
    glasstorch trace script.py --out trace.html      # every op's values and gradients, as a page
    glasstorch serve runs/mnist           # draw a digit, training curves, one traced step (train --serve: live)
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time

import numpy as np

from ._atomic import atomic_write
from .datasets import KMNIST, FashionMNIST

DATASETS = ("mnist", "fashion-mnist", "kmnist")
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop", "adagrad")
CLASS_NAMES = {
    "mnist": [str(i) for i in range(10)],  # the digits alone (the dataset's own names read "7 - seven")
    "fashion-mnist": list(FashionMNIST.classes),
    "kmnist": list(KMNIST.classes),
}


class UsageError(Exception):
    """Bad input from the user: reported in one line with exit status 2."""


# ---- shared pieces -------------------------------------------------------------------------------------
def build_model(hidden: int):
    from . import nn

    return nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, 10))


def load_split(dataset: str, train: bool, data_dir: str | None):
    """(images float32 [N, 1, 28, 28], labels int64 [N]) of a whole split."""
    from .vision import datasets  # torchvision's classes, on glasstorch.datasets' one implementation

    cls = {"mnist": datasets.MNIST, "fashion-mnist": datasets.FashionMNIST, "kmnist": datasets.KMNIST}[dataset]
    try:
        ds = cls(root=data_dir, train=train, download=True)
    except RuntimeError as e:
        raise UsageError(f"{e}\n(see --data-dir / $GLASSTORCH_DATA)") from None
    return ds.tensors()


def make_optimizer(name: str, params, lr: float):
    from . import optim

    classes = {"adam": optim.Adam, "adamw": optim.AdamW, "sgd": optim.SGD, "rmsprop": optim.RMSprop,
               "adagrad": optim.Adagrad}
    return classes[name](params, lr=lr)


def evaluate(model, X, y, batch_size: int = 1000):
    """(accuracy, mean loss, predictions) over a whole split, without building a graph."""
    from . import no_grad
    from .nn import functional as F

    preds, total_loss = [], 0.0
    model.eval()
    with no_grad():
        for i in range(0, len(y), batch_size):
            out = model(X[i:i + batch_size])
            total_loss += F.cross_entropy(out, y[i:i + batch_size], reduction="sum").item()
            preds.append(out.argmax(1).cpu().numpy())  # host copies: the split may live on the GPU
    model.train()
    pred = np.concatenate(preds)
    return float((pred == y.cpu().numpy()).mean()), total_loss / len(y), pred


def _atomic_write(path: str, write) -> None:
    with atomic_write(path, "w") as f:
        write(f)


def _progress(iterable, total: int, desc: str):
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm is optional: no bar, the epoch summary line still prints
        return iterable
    return tqdm(iterable, total=total, desc=desc, unit="batch", leave=False, dynamic_ncols=True,
                disable=not sys.stderr.isatty() and os.environ.get("GLASSTORCH_PROGRESS") != "1")


# ---- train -------------------------------------------------------------------------------------------
def cmd_train(args) -> int:
    import glasstorch as torch
    from .nn import functional as F
    from .utils.data import DataLoader, TensorDataset
    from .utils.safetensors import save_file

    out = args.out or os.path.join("runs", args.dataset)
    state_path = os.path.join(out, "train_state.pt")
    config = {"dataset": args.dataset, "hidden": args.hidden, "epochs": args.epochs, "batch_size": args.batch_size,
              "optimizer": args.optimizer, "lr": args.lr, "seed": args.seed, "device": args.device}
    if args.resume:
        for needed in (state_path, os.path.join(out, "config.json")):
            if not os.path.exists(needed):
                raise UsageError(f"--resume: no saved run in {out} (expected {needed})")
        with open(os.path.join(out, "config.json")) as f:
            saved = json.load(f)
        saved["epochs"] = args.epochs if args.epochs_given else saved["epochs"]
        config = saved
    dev = _device(config["device"])
    os.makedirs(out, exist_ok=True)

    Xtr, ytr = load_split(config["dataset"], True, args.data_dir)
    Xte, yte = load_split(config["dataset"], False, args.data_dir)
    torch.manual_seed(config["seed"])
    model = build_model(config["hidden"]).to(dev)
    opt = make_optimizer(config["optimizer"], model.parameters(), config["lr"])
    shuffle = torch.Generator().manual_seed(config["seed"])
    history, start_epoch = [], 0
    if args.resume:
        state = torch.load(state_path)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        shuffle.set_state(state["shuffle_rng"])
        history, start_epoch = state["history"], state["epoch"]
        if start_epoch >= config["epochs"]:  # checked before config.json is rewritten with the new --epochs
            raise UsageError(f"nothing to train: the run in {out} already has {start_epoch} epochs (raise --epochs)")
    _atomic_write(os.path.join(out, "config.json"), lambda f: json.dump(config, f, indent=2))
    if args.serve:  # the pages read the run folder as it fills: curves grow epoch by epoch
        from .viz.serve import serve_training

        server = serve_training(out, args, UsageError)

    loader = DataLoader(TensorDataset(Xtr.to(dev), ytr.to(dev)), batch_size=config["batch_size"], shuffle=True,
                        generator=shuffle)
    Xte, yte = Xte.to(dev), yte.to(dev)
    for epoch in range(start_epoch, config["epochs"]):
        t0 = time.perf_counter()
        running, seen, correct = 0.0, 0, 0
        bar = _progress(loader, len(loader), f"epoch {epoch + 1}/{config['epochs']}")
        for step, (xb, yb) in enumerate(bar, 1):
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            running += loss.item() * len(yb)
            seen += len(yb)
            correct += (logits.argmax(1) == yb).sum().item()
            if step % 50 == 0 and hasattr(bar, "set_postfix"):
                rate = seen / (time.perf_counter() - t0)
                bar.set_postfix(loss=f"{running / seen:.4f}", samples_s=f"{rate:,.0f}")
        seconds = time.perf_counter() - t0
        test_acc, test_loss, _ = evaluate(model, Xte, yte)
        row = {"epoch": epoch + 1, "train_loss": running / seen, "train_acc": correct / seen, "test_loss": test_loss,
               "test_acc": test_acc, "seconds": seconds, "samples_per_s": seen / seconds}
        history.append(row)
        print(f"epoch {epoch + 1:>2}/{config['epochs']}  train loss {row['train_loss']:.4f}  "
              f"train acc {100 * row['train_acc']:.2f}%  test acc {100 * test_acc:.2f}%  "
              f"{seconds:.1f}s  {row['samples_per_s']:,.0f} samples/s", flush=True)
        _save_run(out, model, opt, shuffle, history, epoch + 1)
    save_file(model.state_dict(), os.path.join(out, "model.safetensors"))
    _plot(out, history)
    print(f"saved {out}/model.safetensors, metrics.csv, metrics.json, curves.png, config.json")
    if args.serve:
        from .viz.serve import finish_training

        finish_training(server, args)
    return 0


def _save_run(out, model, opt, shuffle, history, epoch) -> None:
    """Everything --resume needs, plus the metrics so far (each file written atomically)."""
    import glasstorch as torch

    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "shuffle_rng": shuffle.get_state(),
                "history": history, "epoch": epoch}, os.path.join(out, "train_state.pt"))
    _atomic_write(os.path.join(out, "metrics.json"), lambda f: json.dump(history, f, indent=2))

    def write_csv(f):
        w = csv.DictWriter(f, fieldnames=list(history[0]))
        w.writeheader()
        w.writerows(history)
    _atomic_write(os.path.join(out, "metrics.csv"), write_csv)


def _plot(out, history) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: skipping curves.png (pip install 'glasstorch[cli]')", file=sys.stderr)
        return
    epochs = [h["epoch"] for h in history]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    a.plot(epochs, [h["train_loss"] for h in history], "o-", label="train")
    a.plot(epochs, [h["test_loss"] for h in history], "o-", label="test")
    a.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    a.legend()
    b.plot(epochs, [100 * h["train_acc"] for h in history], "o-", label="train")
    b.plot(epochs, [100 * h["test_acc"] for h in history], "o-", label="test")
    b.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
    b.legend()
    fig.tight_layout()
    tmp = os.path.join(out, "curves.tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, os.path.join(out, "curves.png"))


# ---- eval / predict ----------------------------------------------------------------------------------
def _load_checkpoint(path: str):
    """The model of a checkpoint, rebuilt from the config.json saved beside it."""
    from .utils.safetensors import load_file

    if not os.path.isfile(path):
        raise UsageError(f"checkpoint not found: {path}")
    cfg_path = os.path.join(os.path.dirname(path) or ".", "config.json")
    config = {"hidden": 128, "dataset": "mnist"}
    if os.path.exists(cfg_path):
        with open(cfg_path) as f:
            config.update(json.load(f))
    try:
        state = load_file(path)
    except Exception as e:
        raise UsageError(f"{path} is not a glasstorch checkpoint ({e})") from None
    model = build_model(config["hidden"])
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise UsageError(f"{path} does not fit the 784-{config['hidden']}-10 model: "
                         + " ".join(str(e).split())) from None
    model.eval()
    return model, config


def _device(name: str):
    """The device of --device, or a usage error when it is 'cuda' on a machine without CUDA."""
    import glasstorch as torch

    if name == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda: CUDA is not available on this machine (use --device cpu)")
    return torch.device(name)


def cmd_eval(args) -> int:
    dev = _device(args.device)
    model, config = _load_checkpoint(args.checkpoint)
    X, y = load_split(config["dataset"], False, args.data_dir)
    acc, loss, pred = evaluate(model.to(dev), X.to(dev), y.to(dev))
    print(f"test accuracy {100 * acc:.2f}%  loss {loss:.4f}  ({len(y)} images)")
    conf = np.zeros((10, 10), dtype=np.int64)
    np.add.at(conf, (y.numpy(), pred), 1)
    print("confusion matrix (rows: true class, columns: predicted)")
    print("      " + " ".join(f"{c:>5}" for c in range(10)))
    for i, r in enumerate(conf):
        print(f"{i:>5} " + " ".join(f"{v:>5}" for v in r))
    return 0


def read_image(path: str) -> np.ndarray:
    """A grayscale image as float32 [28, 28] in [0, 1] (resized if needed)."""
    if not os.path.isfile(path):
        raise UsageError(f"image not found: {path}")
    try:
        from PIL import Image
    except ImportError:
        raise UsageError("predict needs Pillow: pip install 'glasstorch[cli]'") from None
    try:
        with Image.open(path) as im:
            im = im.convert("L")
            if im.size != (28, 28):
                im = im.resize((28, 28), Image.BILINEAR)
            return np.asarray(im, dtype=np.float32) / 255.0
    except (OSError, ValueError) as e:
        raise UsageError(f"{path} is not an image ({type(e).__name__})") from None


def cmd_predict(args) -> int:
    import glasstorch as torch

    dev = _device(args.device)
    model, config = _load_checkpoint(args.checkpoint)
    img = read_image(args.image)
    if img.mean() > 0.5:  # dark digit on white paper: MNIST digits are light on black
        img = 1.0 - img
    with torch.no_grad():
        probs = torch.softmax(model.to(dev)(torch.from_numpy(img).reshape(1, 1, 28, 28).to(dev)), dim=1)[0]
    top = probs.topk(3)
    names = CLASS_NAMES[config["dataset"]]
    for p, i in zip(top.values.tolist(), top.indices.tolist()):
        print(f"{names[i]:>12}  {100 * p:6.2f}%")
    return 0


# ---- run / compare -------------------------------------------------------------------------------------
def cmd_run(args) -> int:
    from ._compat import run_script

    if not os.path.isfile(args.script):
        raise UsageError(f"script not found: {args.script}")
    from .distributed.run import run_as_rank, under_mpirun

    if under_mpirun():  # `mpirun -n N glasstorch run script`: one rank, with torchrun's environment
        return run_as_rank(args.script, args.args)
    run_script(args.script, args.args)  # run_script puts the script's path in sys.argv[0] itself
    return 0


def cmd_launch(args) -> int:
    from .distributed.run import LaunchError, launch

    try:
        return launch(args)
    except LaunchError as e:
        raise UsageError(str(e)) from None


def cmd_trace(args) -> int:
    from .viz.command import run

    return run(args, UsageError)


def cmd_serve(args) -> int:
    from .viz.serve import run

    return run(args, UsageError)


def cmd_compare(args) -> int:
    from ._compare import compare_outputs, run_and_capture

    if not os.path.isfile(args.script):
        raise UsageError(f"script not found: {args.script}")
    try:
        import importlib.util

        has_torch = importlib.util.find_spec("torch") is not None
    except ValueError:
        has_torch = False
    if not has_torch:
        raise UsageError("compare needs PyTorch installed to run the reference (pip install torch)")
    argv = args.args  # run_and_capture runs `python script *argv`: the script is not repeated
    rc_t, out_t, err_t = run_and_capture(args.script, argv, use_glasstorch=False, timeout=args.timeout)
    rc_g, out_g, err_g = run_and_capture(args.script, argv, use_glasstorch=True, timeout=args.timeout)
    if rc_t != 0:
        print(f"PyTorch run failed (exit {rc_t}):\n{err_t.strip()[-2000:]}")
        return 1
    if rc_g != 0:
        print(f"glasstorch run failed (exit {rc_g}):\n{err_g.strip()[-2000:]}")
        return 1
    diff = compare_outputs(out_t, out_g, rtol=args.rtol, atol=args.atol)
    if diff is None:
        n = len(out_t.splitlines())
        print(f"agree: {n} lines of output match (rtol={args.rtol}, atol={args.atol})")
        return 0
    print(f"differ: {diff}")
    return 1


# ---- entry point ---------------------------------------------------------------------------------------
class _ArgumentParser(argparse.ArgumentParser):
    """argparse, with every usage error ending in the same `glasstorch: error: ...` line (a
    subcommand's parser would otherwise say `glasstorch train: error: ...`)."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, f"glasstorch: error: {message}\n")


def parser() -> argparse.ArgumentParser:
    p = _ArgumentParser(prog="glasstorch", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    t = sub.add_parser("train", help="train the MLP on MNIST, Fashion-MNIST or KMNIST")
    t.add_argument("--dataset", choices=DATASETS, default="mnist")
    t.add_argument("--hidden", type=int, default=128, help="hidden units (default 128)")
    t.add_argument("--epochs", type=int, default=None, help="epochs (default 10)")
    t.add_argument("--batch-size", type=int, default=64)
    t.add_argument("--optimizer", choices=OPTIMIZERS, default="adam")
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    t.add_argument("--data-dir", default=None, help="dataset folder (default $GLASSTORCH_DATA or the cache)")
    t.add_argument("--out", default=None, help="output folder (default runs/DATASET)")
    t.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    t.add_argument("--serve", action="store_true", help="serve the live training curves (see `glasstorch serve`)")
    from .viz.serve import add_arguments as serve_arguments, add_server_options

    add_server_options(t)
    e = sub.add_parser("eval", help="test accuracy and confusion matrix of a checkpoint")
    e.add_argument("checkpoint")
    e.add_argument("--data-dir", default=None)
    e.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    pr = sub.add_parser("predict", help="top-3 classes of an image")
    pr.add_argument("checkpoint")
    pr.add_argument("image")
    pr.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    r = sub.add_parser("run", help="run a PyTorch script with torch mapped to glasstorch")
    r.add_argument("script")
    r.add_argument("args", nargs=argparse.REMAINDER)
    c = sub.add_parser("compare", help="run a script under PyTorch and glasstorch and compare outputs")
    c.add_argument("script")
    c.add_argument("args", nargs=argparse.REMAINDER)
    c.add_argument("--rtol", type=float, default=1e-4)
    c.add_argument("--atol", type=float, default=1e-6)
    c.add_argument("--timeout", type=float, default=600)
    from .distributed.run import add_arguments as launch_arguments

    launch_arguments(sub.add_parser("launch", help="run a script on N processes (torchrun's flags), through mpirun"))
    from .viz.command import add_arguments as trace_arguments

    trace_arguments(sub.add_parser("trace", help="run a PyTorch script under a trace and write an HTML page of its ops"))
    serve_arguments(sub.add_parser("serve", help="a local web app on a run folder: draw a digit, curves, a traced step"))
    return p


def main(argv=None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if args.command is None:
        p.print_help()
        return 2
    if args.command == "train":
        args.epochs_given = args.epochs is not None
        args.epochs = 10 if args.epochs is None else args.epochs
        if args.epochs < 1 or args.batch_size < 1 or args.hidden < 1 or args.lr <= 0:
            print("glasstorch: error: --epochs, --batch-size, --hidden and --lr must be positive", file=sys.stderr)
            return 2
    handlers = {"train": cmd_train, "eval": cmd_eval, "predict": cmd_predict, "run": cmd_run, "compare": cmd_compare,
                "launch": cmd_launch, "trace": cmd_trace, "serve": cmd_serve}
    try:
        return handlers[args.command](args)
    except UsageError as e:
        print(f"glasstorch: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("glasstorch: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
