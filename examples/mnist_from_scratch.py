"""MNIST from scratch: seed 004's pipeline with raw tensors only, on the real digits.

No nn, no optim, no DataLoader: four tensors are the whole model, the loss is written out, Adam
is ten lines, and batches come from slicing a random permutation. Autograd computes the
gradients. The text runs this on torch.randn stand-in data; here it gets real MNIST.

    784 pixels --W1, b1--> 128 ReLU units --W2, b2--> 10 class scores (logits)

Compare with examples/mnist.py, the same network written with nn, optim and DataLoader.

    python examples/mnist_from_scratch.py           # 10 epochs, as in the text (~97.5-98%)
    python examples/mnist_from_scratch.py --fast    # 1 epoch (also GLASSTORCH_FAST=1)

MNIST is read from $GLASSTORCH_DATA (or fetched into glasstorch's cache).
"""
from __future__ import annotations

import argparse
import os

import glasstorch as torch
from glasstorch.datasets import MNIST


def load_mnist(train: bool):
    """(images float32 [N, 784] in [0, 1], labels int64 [N]) of one MNIST split."""
    images, labels = MNIST(train=train, download=True).tensors()  # images: [N, 1, 28, 28]
    return images.reshape(len(images), 784), labels


def init_params():
    """W1 [784, 128], b1 [128], W2 [128, 10], b2 [10]: Kaiming initialization for ReLU.

    randn * sqrt(2 / fan_in) keeps the variance of the activations about the same layer after
    layer; plain randn would make the first layer's outputs ~28 times too large.
    """
    W1 = torch.randn(784, 128) * (2.0 / 784) ** 0.5
    W1.requires_grad_(True)  # after the scaling, so that W1 is a leaf that collects .grad
    b1 = torch.zeros(128, requires_grad=True)
    W2 = torch.randn(128, 10) * (2.0 / 128) ** 0.5
    W2.requires_grad_(True)
    b2 = torch.zeros(10, requires_grad=True)
    return [W1, b1, W2, b2]


def forward(x, params):
    """x [B, 784] -> logits [B, 10]."""
    W1, b1, W2, b2 = params
    h = torch.clamp(x @ W1 + b1, min=0)  # ReLU
    return h @ W2 + b2


def cross_entropy(logits, y):
    """Mean of -log softmax(logits)[y], computed stably.

    exp() of a logit above ~88 overflows float32. Subtracting each row's maximum first changes
    no probability (softmax is shift-invariant) and makes the largest exponent exp(0) = 1.
    """
    shifted = logits - logits.max(dim=1, keepdim=True).values
    log_probs = shifted - torch.log(torch.exp(shifted).sum(1, keepdim=True))
    return -log_probs[torch.arange(logits.shape[0]), y].mean()


class Adam:
    """Adam by hand: a running mean of gradients (m) and of squared gradients (v) per parameter."""

    def __init__(self, params, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        self.params, self.lr, self.beta1, self.beta2, self.eps = params, lr, beta1, beta2, eps
        self.ms = [torch.zeros_like(p) for p in params]
        self.vs = [torch.zeros_like(p) for p in params]
        self.t = 0

    def step(self):
        self.t += 1
        with torch.no_grad():  # updating weights is not part of the model: autograd must not record it
            for j, p in enumerate(self.params):
                self.ms[j] = self.beta1 * self.ms[j] + (1 - self.beta1) * p.grad
                self.vs[j] = self.beta2 * self.vs[j] + (1 - self.beta2) * p.grad ** 2
                # m and v start at 0, so early averages are biased toward 0: divide that out
                m_hat = self.ms[j] / (1 - self.beta1 ** self.t)
                v_hat = self.vs[j] / (1 - self.beta2 ** self.t)
                p -= self.lr * m_hat / (v_hat.sqrt() + self.eps)  # in place: p stays the same leaf
                p.grad.zero_()  # backward() adds into .grad, so clear it for the next batch


def get_batches(X, y, batch_size: int):
    """Yields (x, y) batches of a fresh random permutation: each sample once per epoch."""
    perm = torch.randperm(len(X))
    for i in range(0, len(X), batch_size):
        idx = perm[i:i + batch_size]
        yield X[idx], y[idx]


def accuracy(X, y, params, batch_size: int = 1000) -> float:
    """Fraction of samples whose largest logit is the true class."""
    correct = 0
    with torch.no_grad():
        for i in range(0, len(X), batch_size):
            correct += (forward(X[i:i + batch_size], params).argmax(1) == y[i:i + batch_size]).sum().item()
    return correct / len(X)


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fast", action="store_true", help="1 epoch, for CI (also GLASSTORCH_FAST=1)")
    p.add_argument("--epochs", type=int, default=None, help="epochs (default 10, or 1 with --fast)")
    args = p.parse_args(argv)
    fast = args.fast or os.environ.get("GLASSTORCH_FAST") == "1"
    epochs = args.epochs or (1 if fast else 10)
    batch_size = 64

    X_train, y_train = load_mnist(train=True)
    X_test, y_test = load_mnist(train=False)
    print(f"train {tuple(X_train.shape)}, test {tuple(X_test.shape)}")

    torch.manual_seed(0)
    params = init_params()
    optimizer = Adam(params, lr=1e-3)
    n_batches = (len(X_train) + batch_size - 1) // batch_size  # 938: the last batch has 32
    history = []
    for epoch in range(epochs):
        epoch_loss, correct = 0.0, 0
        for x, y in get_batches(X_train, y_train, batch_size):
            out = forward(x, params)
            loss = cross_entropy(out, y)
            loss.backward()   # fills W1.grad ... b2.grad
            optimizer.step()
            epoch_loss += loss.item()
            correct += (out.argmax(1) == y).sum().item()
        train_loss, train_acc = epoch_loss / n_batches, correct / len(X_train)
        history.append(train_loss)
        print(f"Epoch {epoch + 1}/{epochs} | Loss: {train_loss:.4f} | Acc: {100 * train_acc:.1f}%")

    test_acc = accuracy(X_test, y_test, params)
    print(f"Test accuracy: {100 * test_acc:.2f}%")
    return {"train_loss": history, "train_acc": train_acc, "test_acc": test_acc}


if __name__ == "__main__":
    main()
