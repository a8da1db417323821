"""One training step written out by hand in NumPy, next to the same step done by autograd.

Seed 003 derives the backward pass of the 4-3-4 diagonal-flip network in seven lines of NumPy
(chain rule, layer by layer) and then shows that PyTorch's `loss.backward()` does the same. Here
both run side by side on the same weights, and we check that every gradient agrees.

Two details matter for "agrees":

- arithmetic. glasstorch (like PyTorch) computes in float32, so the NumPy side does too, and
  adds the terms of the first layer's dot products in the same order as glasstorch (left to
  right). This matters: the first hidden unit's pre-activation 0.2 + 0.1 - 0.4 + 0.1 is exactly 0
  on paper; in float32, added left to right, it comes out a hair above zero, so ReLU passes its
  gradient (dL/db1[0] = -0.0975) and the new loss is 0.721839. Added in another order it can land
  at or below zero and ReLU blocks the gradient: BLAS's `x @ W1` and PyTorch's kernels add in an
  order that depends on the CPU, which is why PyTorch prints 0.721839 on some machines and 0.7258
  on others. The text's NumPy code rounds that value to exactly 0, blocks the gradient and reports
  0.7258. We show that variant too.
- layout. NumPy's W1 is [in, out] (x @ W1); nn.Linear stores weight as [out, in] (x @ W.T).

    python examples/numpy_vs_autograd.py      # (--fast is accepted; the run is instant anyway)
"""
from __future__ import annotations

import argparse

import numpy as np

import glasstorch as torch

# Seed 003's weights and example in NumPy layout: W1 [4 in, 3 hidden], W2 [3 hidden, 4 out].
SEED = {
    "W1": [[0.2, -0.5, 0.1],
           [-0.3, 0.4, -0.2],
           [0.1, 0.3, 0.5],
           [-0.4, 0.2, -0.1]],
    "b1": [0.1, -0.1, 0.0],
    "W2": [[0.3, -0.2, 0.4, 0.1],
           [-0.1, 0.5, -0.3, 0.2],
           [0.2, -0.4, 0.1, -0.5]],
    "b2": [0.0, 0.1, -0.1, 0.0],
    "x": [1.0, 0.0, 1.0, 1.0],
    "target": [1.0, 1.0, 0.0, 1.0],
}
LR = 0.1
NAMES = ("W1", "b1", "W2", "b2")


def numpy_step(dtype=np.float32, round_z1: bool = False) -> tuple[float, dict, float]:
    """Seed 003's hand-written step: (loss, gradients by name, loss after one SGD step).

    dtype=np.float64, round_z1=True is the text's own version: float64 and np.round(z1, 10),
    which makes unit 0's pre-activation exactly 0.
    """
    W1, b1, W2, b2, x, target = (np.array(SEED[k], dtype=dtype) for k in ("W1", "b1", "W2", "b2", "x", "target"))

    def forward(W1, b1, W2, b2):
        # z1 = x @ W1 + b1, with the four products added left to right as glasstorch adds them.
        # Unit 0's sum is exactly 0 on paper; in float32 its sign depends on that order.
        z1 = (x[:, None] * W1).sum(axis=0) + b1
        if round_z1:
            z1 = np.round(z1, 10)
        h = np.maximum(0, z1)
        return z1, h, h @ W2 + b2

    z1, h, y_hat = forward(W1, b1, W2, b2)
    loss = np.mean((y_hat - target) ** 2)
    # Backward, output to input. d/dy of mean((y - t)^2) over 4 outputs is 2/4 * (y - t).
    dL_dy = dtype(0.5) * (y_hat - target)
    dL_dW2 = np.outer(h, dL_dy)          # y = h @ W2 + b2
    dL_db2 = dL_dy
    dL_dh = W2 @ dL_dy
    dL_dz1 = dL_dh * (z1 > 0)            # ReLU passes gradient only where its input was positive
    dL_dW1 = np.outer(x, dL_dz1)         # z1 = x @ W1 + b1
    dL_db1 = dL_dz1
    grads = dict(zip(NAMES, (dL_dW1, dL_db1, dL_dW2, dL_db2)))
    new = [p - dtype(LR) * g for p, g in zip((W1, b1, W2, b2), grads.values())]
    new_loss = np.mean((forward(*new)[2] - target) ** 2)
    return float(loss), grads, float(new_loss)


def autograd_step() -> tuple[float, dict, float]:
    """The same step with glasstorch: forward, loss.backward(), SGD. Gradients in NumPy layout."""
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 4))
    with torch.no_grad():
        for layer, n in ((model[0], "1"), (model[2], "2")):
            layer.weight.copy_(torch.tensor(SEED["W" + n]).T)  # [in, out] -> nn.Linear's [out, in]
            layer.bias.copy_(torch.tensor(SEED["b" + n]))
    x, target = torch.tensor(SEED["x"]), torch.tensor(SEED["target"])
    loss = torch.mean((model(x) - target) ** 2)
    loss.backward()  # the seven NumPy lines above, done by the graph autograd recorded
    grads = {"W1": model[0].weight.grad.numpy().T, "b1": model[0].bias.grad.numpy(),
             "W2": model[2].weight.grad.numpy().T, "b2": model[2].bias.grad.numpy()}
    torch.optim.SGD(model.parameters(), lr=LR).step()
    with torch.no_grad():
        new_loss = torch.mean((model(x) - target) ** 2).item()
    return loss.item(), grads, new_loss


def show(a: np.ndarray) -> list:
    """An array as a short list: 4 decimals, and -0.0 printed as 0.0."""
    return (np.round(a.astype(np.float64), 4) + 0.0).tolist()


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fast", action="store_true", help="accepted for uniformity; this example is always fast")
    p.parse_args(argv)

    np_loss, np_grads, np_new = numpy_step()
    ag_loss, ag_grads, ag_new = autograd_step()
    print("Gradients, NumPy by hand (float32) vs glasstorch autograd:")
    max_diff = 0.0
    for name in NAMES:
        diff = float(np.abs(np_grads[name] - ag_grads[name]).max())
        max_diff = max(max_diff, diff)
        print(f"dL/d{name} NumPy:    {show(np_grads[name])}")
        print(f"dL/d{name} autograd: {show(ag_grads[name])}   max |diff| {diff:.1e}")
    # The same float32 arithmetic in a possibly different order: equal up to rounding.
    for name in NAMES:
        np.testing.assert_allclose(ag_grads[name], np_grads[name], rtol=1e-6, atol=1e-7, err_msg=name)
    print("All gradients equal.")
    print(f"Loss after one SGD step (lr {LR}): NumPy {np_loss:.4f} -> {np_new:.6f}, "
          f"autograd {ag_loss:.4f} -> {ag_new:.6f}")

    _, rounded_grads, rounded_new = numpy_step(np.float64, round_z1=True)
    print(f"\nThe text's NumPy (float64, z1 rounded to 10 decimals): dL/db1 = {show(rounded_grads['b1'])}, "
          f"new loss {rounded_new:.4f} (unit 0 is cut off: its gradient {np_grads['b1'][0]:.4f} is lost)")
    return {"numpy_grads": np_grads, "autograd_grads": ag_grads, "max_diff": max_diff,
            "numpy_loss": (np_loss, np_new), "autograd_loss": (ag_loss, ag_new),
            "rounded_new_loss": rounded_new}


if __name__ == "__main__":
    main()
