"""SGD, SGD with momentum and Adam on the Rosenbrock function, drawn over its contour plot.

    f(x, y) = (1 - x)² + 100 (y - x²)²        minimum f = 0 at (1, 1)

Its minimum lies at the bottom of a long, curved, flat-bottomed valley: the walls are steep
(curvature in the thousands) and the floor is almost flat. That is what makes training hard in
many real models too, and the three optimizers handle it differently:

- SGD steps along -lr * gradient. The learning rate must be small enough for the steep walls,
  so it crawls along the flat floor.
- Momentum keeps a running sum of past gradients: the zig-zag across the valley cancels out and
  the steady pull along the floor adds up, so it travels much farther with the same lr.
- Adam divides each coordinate's step by a running RMS of its gradients, so steps have about
  the size lr whatever the scale of the gradient: large gradients on the walls are tamed, small
  ones on the floor are amplified.

Each optimizer is glasstorch.optim's, driving one parameter tensor [x, y] from (-1.5, 2).

    python examples/optimizers.py                       # 2000 steps, writes ./optimizers.png
    python examples/optimizers.py --fast --out /tmp/o.png   # 300 steps (also GLASSTORCH_FAST=1)
"""
from __future__ import annotations

import argparse
import os

import numpy as np

import glasstorch as torch

START = (-1.5, 2.0)


def rosenbrock(x, y):
    """Works on glasstorch tensors (for gradients) and on NumPy arrays (for the contour grid)."""
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


OPTIMIZERS = {
    "SGD (lr 1e-3)": lambda p: torch.optim.SGD([p], lr=1e-3),
    "SGD + momentum 0.9 (lr 1e-3)": lambda p: torch.optim.SGD([p], lr=1e-3, momentum=0.9),
    "Adam (lr 0.05)": lambda p: torch.optim.Adam([p], lr=0.05),
}


def descend(make_optimizer, steps: int) -> tuple[np.ndarray, list[float]]:
    """Runs one optimizer from START: (path [steps + 1, 2], loss before each step and at the end)."""
    p = torch.tensor(START, requires_grad=True)
    optimizer = make_optimizer(p)
    path, losses = [p.tolist()], []
    for _ in range(steps):
        loss = rosenbrock(p[0], p[1])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        path.append(p.tolist())
    losses.append(rosenbrock(*path[-1]))
    return np.array(path), losses


def plot(paths: dict, losses: dict, out: str) -> None:
    """Left: trajectories over log-spaced contours of f. Right: f against step, log scale."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed: render straight to a file
    import matplotlib.pyplot as plt

    xs, ys = np.meshgrid(np.linspace(-2, 2, 400), np.linspace(-1, 3, 400))
    fig, (ax, ax_loss) = plt.subplots(1, 2, figsize=(13, 5.5))
    # f spans 0 to ~2500 here: log-spaced levels show the flat valley floor as well as the walls
    levels = np.logspace(-1, 3.5, 19)
    ax.contourf(xs, ys, rosenbrock(xs, ys), levels=levels, norm="log", cmap="Blues_r", extend="both")
    ax.contour(xs, ys, rosenbrock(xs, ys), levels=levels, colors="white", linewidths=0.3)
    # widest line first, so that paths running along the same valley floor all stay visible
    for (name, path), color, width in zip(paths.items(), ("tab:red", "tab:orange", "black"), (3.5, 2, 1)):
        ax.plot(path[:, 0], path[:, 1], "-", color=color, linewidth=width, label=name)
        ax_loss.semilogy(np.maximum(losses[name], 1e-12), color=color, label=name)
    ax.plot(*START, "wo", markeredgecolor="k", label="start")
    ax.plot(1, 1, "y*", markeredgecolor="k", markersize=16, label="minimum (1, 1)")
    ax.set(xlabel="x", ylabel="y", title="Rosenbrock function: paths")
    ax.legend(loc="lower right", fontsize=8)
    ax_loss.set(xlabel="step", ylabel="f(x, y)", title="loss per step (log scale)")
    ax_loss.legend(fontsize=8)
    fig.tight_layout()
    tmp = f"{out}.tmp{os.getpid()}.png"  # write aside, then rename: no half-written file at `out`
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, out)


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fast", action="store_true", help="300 steps instead of 2000 (also GLASSTORCH_FAST=1)")
    p.add_argument("--out", default="optimizers.png", help="where to write the plot (default ./optimizers.png)")
    args = p.parse_args(argv)
    steps = 300 if args.fast or os.environ.get("GLASSTORCH_FAST") == "1" else 2000

    print(f"Rosenbrock from {START}: f = {rosenbrock(*START):.4f}; minimum f = 0 at (1, 1)")
    paths, losses = {}, {}
    for name, make in OPTIMIZERS.items():
        paths[name], losses[name] = descend(make, steps)
        x, y = paths[name][-1]
        print(f"{name:<30} after {steps} steps: f = {losses[name][-1]:.6f} at ({x:.4f}, {y:.4f})")
    plot(paths, losses, args.out)
    print(f"saved {args.out}")
    return {"start_loss": rosenbrock(*START), "losses": losses, "out": args.out}


if __name__ == "__main__":
    main()
