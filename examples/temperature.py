"""Celsius to Fahrenheit: can one nn.Linear(1, 1) learn F = 1.8 * C + 32?

Seed 002's exercise 4 trains it with SGD at lr 0.0001 for 5000 epochs. It does not converge: the
slope is found quickly but the intercept crawls (PyTorch ends near F = 1.99 * C + 15.8). The
reason is the scale of the input. C runs from -40 to 100, so the loss curves far more steeply
along the weight than along the bias (by the mean of C², about 2600 times); a learning rate small
enough for the weight not to diverge moves the bias by a tiny amount per step.

Part 2 fixes the problem, not the optimizer: standardize C (subtract the mean, divide by the
standard deviation), train the same model with a 1000 times larger learning rate, and convert its
weight and bias back to the original units. It finds 1.8 and 32 in a few hundred steps.

    python examples/temperature.py            # 5000 epochs for part 1, as in the text
    python examples/temperature.py --fast     # 1000 (also GLASSTORCH_FAST=1)
"""
from __future__ import annotations

import argparse
import os

import glasstorch as torch
import glasstorch.nn as nn
import glasstorch.optim as optim


def fit(C, F, lr: float, epochs: int, report_every: int) -> tuple[nn.Linear, list[float]]:
    """Trains nn.Linear(1, 1) on C -> F with SGD and MSE; returns the model and the losses."""
    torch.manual_seed(42)
    model = nn.Linear(1, 1)
    criterion = nn.MSELoss()
    optimizer = optim.SGD(model.parameters(), lr=lr)
    losses = []
    for epoch in range(epochs):
        loss = criterion(model(C), F)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if epoch % report_every == 0 or epoch == epochs - 1:
            print(f"Epoch {epoch:5d}: Loss = {loss.item():.6f}")
    return model, losses


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fast", action="store_true", help="a reduced run for CI (also GLASSTORCH_FAST=1)")
    fast = p.parse_args(argv).fast or os.environ.get("GLASSTORCH_FAST") == "1"
    epochs = 1000 if fast else 5000

    C_train = torch.linspace(-40, 100, 50).reshape(-1, 1)  # [50, 1]: one feature per sample
    F_train = 1.8 * C_train + 32

    print(f"== 1. Raw Celsius, SGD lr 0.0001, {epochs} epochs (the text's setup) ==")
    model, raw_losses = fit(C_train, F_train, lr=1e-4, epochs=epochs, report_every=epochs // 5)
    raw_fit = model.weight.item(), model.bias.item()
    print(f"Learned: F = {raw_fit[0]:.4f} * C + {raw_fit[1]:.4f}")
    print("Actual:  F = 1.8000 * C + 32.0000")
    ratio = (C_train ** 2).mean().item()  # d²loss/dw² over d²loss/db² for a linear model
    print(f"The intercept is far from 32 (the slope leans to make up for it): the loss is {ratio:.0f} "
          "times more curved along w than along b, and lr 1e-4 is sized for w.")
    test_temps = torch.tensor([[0.0], [100.0], [37.0], [-10.0]])
    with torch.no_grad():
        predictions = model(test_temps).flatten().tolist()
    for c, pred in zip(test_temps.flatten().tolist(), predictions):
        print(f"  {c:4.0f}°C -> predicted {pred:7.2f}°F (actual: {1.8 * c + 32:.1f}°F)")

    print("\n== 2. Standardized Celsius, SGD lr 0.1, 100 epochs ==")
    mean, std = C_train.mean(), C_train.std()
    model, std_losses = fit((C_train - mean) / std, F_train, lr=0.1, epochs=100, report_every=20)
    # F = w' * (C - mean) / std + b'  =>  slope w' / std, intercept b' - w' * mean / std
    w_s, b_s = model.weight.item(), model.bias.item()
    w, b = w_s / std.item(), b_s - w_s * mean.item() / std.item()
    print(f"Learned: F = {w:.4f} * C + {b:.4f}")
    return {"raw_losses": raw_losses, "raw_fit": raw_fit, "std_losses": std_losses, "std_fit": (w, b)}


if __name__ == "__main__":
    main()
