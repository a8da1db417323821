"""MNIST with the library: the from-scratch network again, written with nn, optim and DataLoader.

examples/mnist_from_scratch.py builds a 784-128-10 network out of four raw tensors, a
hand-written loss, a hand-written Adam and a hand-written batch loop. Each of those has a
library counterpart, and the training loop shrinks to five lines:

    four tensors + forward()         ->  nn.Sequential(nn.Flatten(), nn.Linear, nn.ReLU, nn.Linear)
    stable cross-entropy by hand     ->  nn.CrossEntropyLoss()   (the same max-shifted log-softmax)
    Adam by hand                     ->  optim.Adam(model.parameters(), lr=1e-3)
    randperm + slicing               ->  DataLoader(TensorDataset(X, y), batch_size=64, shuffle=True)

One difference: nn.Linear initializes its weights uniformly in +-1/sqrt(fan_in) (PyTorch's
default), not with randn * sqrt(2 / fan_in); both train this network well.

    python examples/mnist.py            # 5 epochs: ~97.5% test accuracy
    python examples/mnist.py --fast     # 1 epoch (also GLASSTORCH_FAST=1)

MNIST is read from $GLASSTORCH_DATA (or fetched into glasstorch's cache).
"""
from __future__ import annotations

import argparse
import os
import time

import glasstorch as torch
import glasstorch.nn as nn
import glasstorch.optim as optim
from glasstorch.datasets import MNIST
from glasstorch.utils.data import DataLoader, TensorDataset


def evaluate(model, loader) -> float:
    """Test accuracy: eval mode (no dropout etc. would be active), no graph recorded."""
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in loader:
            correct += (model(x).argmax(1) == y).sum().item()
    model.train()
    return correct / len(loader.dataset)


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fast", action="store_true", help="1 epoch, for CI (also GLASSTORCH_FAST=1)")
    p.add_argument("--epochs", type=int, default=None, help="epochs (default 5, or 1 with --fast)")
    args = p.parse_args(argv)
    fast = args.fast or os.environ.get("GLASSTORCH_FAST") == "1"
    epochs = args.epochs or (1 if fast else 5)

    # Whole splits as two tensors each: images float32 [N, 1, 28, 28] in [0, 1], labels int64 [N].
    train_set = TensorDataset(*MNIST(train=True, download=True).tensors())
    test_set = TensorDataset(*MNIST(train=False, download=True).tensors())
    torch.manual_seed(0)  # fixes the initial weights and the shuffling order
    train_loader = DataLoader(train_set, batch_size=64, shuffle=True)  # new order every epoch
    test_loader = DataLoader(test_set, batch_size=1000)

    model = nn.Sequential(
        nn.Flatten(),          # [B, 1, 28, 28] -> [B, 784]
        nn.Linear(784, 128),
        nn.ReLU(),
        nn.Linear(128, 10),    # logits: CrossEntropyLoss applies the softmax itself
    )
    print(model)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=1e-3)

    history = []
    for epoch in range(epochs):
        t0, running = time.perf_counter(), 0.0
        for x, y in train_loader:
            loss = criterion(model(x), y)
            optimizer.zero_grad()   # gradients accumulate across backward() calls
            loss.backward()
            optimizer.step()
            running += loss.item() * len(y)
        train_loss = running / len(train_set)
        test_acc = evaluate(model, test_loader)
        history.append({"train_loss": train_loss, "test_acc": test_acc})
        print(f"epoch {epoch + 1}/{epochs}  train loss {train_loss:.4f}  test accuracy {100 * test_acc:.2f}%  "
              f"({time.perf_counter() - t0:.1f} s)")
    print(f"Test accuracy: {100 * history[-1]['test_acc']:.2f}%")
    return {"history": history, "test_acc": history[-1]["test_acc"]}


if __name__ == "__main__":
    main()
