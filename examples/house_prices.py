"""House prices: linear regression by hand with autograd, then a small network with nn and Adam.

Seed 002 builds its first model twice:

1. From scratch (its section 5): a weight per feature and a bias, as raw tensors with
   requires_grad=True. Autograd computes the gradients; we update the weights ourselves.
2. With the library (its section 8): the same kind of data with four features, a 4-16-1 network
   written as an nn.Module, nn.MSELoss and optim.Adam.

Prices are in $1000s and sizes in 100s of square feet, which keeps the numbers near 1-100:
plain gradient descent with unscaled inputs needs a tiny learning rate (1e-4) not to diverge.

    python examples/house_prices.py           # 1000 + 2000 epochs, as in the text
    python examples/house_prices.py --fast    # 200 + 400 epochs (also GLASSTORCH_FAST=1)
"""
from __future__ import annotations

import argparse
import os

import glasstorch as torch
import glasstorch.nn as nn
import glasstorch.optim as optim


def linear_by_hand(epochs: int) -> list[float]:
    """Part 1: price = size * w0 + bedrooms * w1 + b, fitted by gradient descent. Returns the losses."""
    # [size (100s of sq ft), bedrooms] -> price ($1000s)
    X = torch.tensor([[10.0, 3.0], [15.0, 4.0], [20.0, 5.0], [8.0, 2.0], [12.0, 3.0]])
    y_true = torch.tensor([[200.0], [300.0], [400.0], [150.0], [250.0]])

    torch.manual_seed(42)
    w = torch.randn(2, 1, requires_grad=True)  # requires_grad: autograd records what we do with w
    b = torch.zeros(1, requires_grad=True)
    learning_rate = 0.0001

    print("== 1. Linear regression by hand (gradient descent, lr 1e-4) ==")
    print("Epoch | Loss")
    losses = []
    for epoch in range(epochs):
        predictions = X @ w + b                       # [5, 2] @ [2, 1] + [1] -> [5, 1]
        loss = ((predictions - y_true) ** 2).mean()
        loss.backward()                               # fills w.grad and b.grad
        with torch.no_grad():                         # the update itself is not part of the model
            w -= learning_rate * w.grad
            b -= learning_rate * b.grad
        w.grad.zero_()                                # gradients add up until cleared
        b.grad.zero_()
        losses.append(loss.item())
        if epoch % (epochs // 10) == 0 or epoch == epochs - 1:
            print(f"{epoch:5d} | {loss.item():.4f}")

    print(f"Weights: {[round(v, 4) for v in w.flatten().tolist()]}, bias: {b.item():.4f}")
    with torch.no_grad():
        for i, (pred, actual) in enumerate(zip((X @ w + b).flatten().tolist(), y_true.flatten().tolist()), 1):
            print(f"  House {i}: predicted ${pred:.1f}k, actual ${actual:.1f}k")
    return losses


class HousePriceNet(nn.Module):
    """features -> hidden ReLU units -> price."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int):
        super().__init__()
        self.layer1 = nn.Linear(input_size, hidden_size)
        self.activation = nn.ReLU()
        self.layer2 = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        return self.layer2(self.activation(self.layer1(x)))  # [B, 4] -> [B, 16] -> [B, 1]


def network_with_adam(epochs: int) -> list[float]:
    """Part 2: the 4-16-1 network trained with Adam (lr 0.01) on 8 houses. Returns the losses."""
    # [size (100s of sq ft), bedrooms, bathrooms, age (decades)] -> price ($1000s)
    X_train = torch.tensor([[10.0, 3.0, 2.0, 2.0], [15.0, 4.0, 2.5, 1.0], [20.0, 5.0, 3.0, 0.5],
                            [8.0, 2.0, 1.0, 5.0], [12.0, 3.0, 2.0, 3.0], [25.0, 6.0, 4.0, 0.0],
                            [9.0, 2.0, 1.0, 4.0], [18.0, 4.0, 3.0, 1.5]])
    y_train = torch.tensor([[200.0], [320.0], [450.0], [120.0], [240.0], [550.0], [140.0], [380.0]])

    torch.manual_seed(0)  # the text sets no seed; we do, so that every run prints the same
    model = HousePriceNet(input_size=4, hidden_size=16, output_size=1)
    print("\n== 2. A 4-16-1 network with nn.Module and Adam (lr 0.01) ==")
    print(model)
    print(f"Total parameters: {sum(p.numel() for p in model.parameters())}")  # 4*16+16 + 16*1+1 = 97

    criterion = nn.MSELoss()
    # Adam scales each parameter's step by its own gradient history, so the unscaled inputs
    # (sizes ~20, ages ~1) need no hand-tuned tiny learning rate here.
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    print(f"{'Epoch':>6} | {'Loss':>10} | {'Avg Error ($k)':>14}")
    losses = []
    for epoch in range(epochs):
        predictions = model(X_train)
        loss = criterion(predictions, y_train)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if epoch % (epochs // 5) == 0 or epoch == epochs - 1:
            avg_error = torch.abs(predictions - y_train).mean().item()
            print(f"{epoch:6d} | {loss.item():10.2f} | ${avg_error:12.2f}k")

    model.eval()
    with torch.no_grad():
        final = model(X_train).flatten().tolist()
    print(f"{'House':>5} | {'Predicted':>10} | {'Actual':>8}")
    for i, (pred, actual) in enumerate(zip(final, y_train.flatten().tolist()), 1):
        print(f"{i:5d} | ${pred:8.1f}k | ${actual:6.1f}k")
    return losses


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fast", action="store_true", help="a reduced run for CI (also GLASSTORCH_FAST=1)")
    fast = p.parse_args(argv).fast or os.environ.get("GLASSTORCH_FAST") == "1"
    by_hand = linear_by_hand(200 if fast else 1000)
    with_adam = network_with_adam(400 if fast else 2000)
    return {"by_hand": by_hand, "adam": with_adam}


if __name__ == "__main__":
    main()
