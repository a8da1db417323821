"""The benchmark workloads. Each takes the framework module `m` (torch or glasstorch) so both run
the very same code; the NumPy floor is written out by hand."""
from __future__ import annotations

import math
import os

import numpy as np

MNIST_DIR = os.environ.get("GLASSTORCH_DATA") or os.path.join(os.path.dirname(__file__), "..", "..", "shared",
                                                              "datasets", "mnist")


def load_mnist_arrays():
    """(images float32 [60000, 784] in [0, 1], labels int64 [60000]) from the IDX files."""
    from glasstorch.datasets.idx import read_idx

    def find(name):
        for cand in (name + ".gz", name):
            p = os.path.join(MNIST_DIR, cand)
            if os.path.exists(p):
                return p
        raise FileNotFoundError(f"{name} not found in {MNIST_DIR}; set GLASSTORCH_DATA")

    x = read_idx(find("train-images-idx3-ubyte")).reshape(-1, 784).astype(np.float32) / 255.0
    y = read_idx(find("train-labels-idx1-ubyte")).astype(np.int64)
    return x, y


# ---- 1. MNIST MLP epoch, the idiomatic way -------------------------------------------------------
def mlp_epoch(m, X, y, batch_size: int = 64, seed: int = 0) -> float:
    """One epoch of the seed's 784 -> 128 -> 10 MLP with Adam; returns the last loss."""
    nn, F = m.nn, m.nn.functional
    m.manual_seed(seed)
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = m.optim.Adam(model.parameters(), lr=1e-3)
    n = X.shape[0]
    perm = m.randperm(n)
    loss = None
    for i in range(0, n, batch_size):
        idx = perm[i:i + batch_size]
        xb, yb = X[idx], y[idx]
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return loss.item()


def numpy_mlp_epoch(X: np.ndarray, y: np.ndarray, batch_size: int = 64, seed: int = 0) -> float:
    """The same epoch with no framework: forward, backward and Adam written out in NumPy."""
    rng = np.random.default_rng(seed)
    b1, b2 = 1 / math.sqrt(784), 1 / math.sqrt(128)
    params = [rng.uniform(-b1, b1, (784, 128)).astype(np.float32), rng.uniform(-b1, b1, 128).astype(np.float32),
              rng.uniform(-b2, b2, (128, 10)).astype(np.float32), rng.uniform(-b2, b2, 10).astype(np.float32)]
    m1 = [np.zeros_like(p) for p in params]
    v1 = [np.zeros_like(p) for p in params]
    lr, beta1, beta2, eps = 1e-3, 0.9, 0.999, 1e-8
    n = X.shape[0]
    perm = rng.permutation(n)
    loss = 0.0
    step = 0
    for i in range(0, n, batch_size):
        idx = perm[i:i + batch_size]
        xb, yb = X[idx], y[idx]
        W1, c1, W2, c2 = params
        h = xb @ W1 + c1
        np.maximum(h, 0, out=h)
        z = h @ W2 + c2
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        s = e.sum(axis=1, keepdims=True)
        rows = np.arange(len(yb))
        loss = float(np.log(s[:, 0]).mean() - z[rows, yb].mean())
        dz = e / s
        dz[rows, yb] -= 1
        dz /= len(yb)
        dh = dz @ W2.T
        dh[h <= 0] = 0
        grads = [xb.T @ dh, dh.sum(0), h.T @ dz, dz.sum(0)]
        step += 1
        bc1, bc2 = 1 - beta1 ** step, 1 - beta2 ** step
        for p, g, mm, vv in zip(params, grads, m1, v1):
            mm *= beta1
            mm += (1 - beta1) * g
            vv *= beta2
            vv += (1 - beta2) * g * g
            p -= (lr / bc1) * mm / (np.sqrt(vv) / math.sqrt(bc2) + eps)
    return loss


# ---- 2. small-op overhead ----------------------------------------------------------------------------
def small_ops(m, repeats: int = 20) -> float:
    """A chain of 200 elementwise ops on a 16-element tensor, forward + backward, `repeats` times."""
    m.manual_seed(0)
    x = m.randn(16, requires_grad=True)
    for _ in range(repeats):
        y = x
        for _ in range(50):
            y = (y * 1.01 + 0.1).tanh() - 0.05
        y.sum().backward()
    return x.grad.sum().item()


# ---- 3. BLAS-bound ---------------------------------------------------------------------------------
def wide_mlp(m, steps: int = 2, width: int = 4096, batch: int = 512) -> float:
    """A 4096-wide 3-layer MLP at batch 512: forward + backward + SGD step."""
    nn, F = m.nn, m.nn.functional
    m.manual_seed(0)
    model = nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                          nn.Linear(width, 10))
    opt = m.optim.SGD(model.parameters(), lr=0.01)
    x = m.randn(batch, width)
    t = m.randint(0, 10, (batch,))
    loss = None
    for _ in range(steps):
        loss = F.cross_entropy(model(x), t)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return loss.item()


# ---- 4. seed 004 from scratch ------------------------------------------------------------------------
def scratch_epoch(m, X, y, batch_size: int = 64, seed: int = 0) -> float:
    """Seed 004's raw-tensor loop: no nn, no optim, hand-written stable cross-entropy and Adam."""
    m.manual_seed(seed)
    W1 = m.randn(784, 128) * (2.0 / 784) ** 0.5
    W1.requires_grad_(True)
    b1 = m.zeros(128, requires_grad=True)
    W2 = m.randn(128, 10) * (2.0 / 128) ** 0.5
    W2.requires_grad_(True)
    b2 = m.zeros(10, requires_grad=True)
    lr = 0.001
    params = [W1, b1, W2, b2]
    ms = [m.zeros_like(p) for p in params]
    vs = [m.zeros_like(p) for p in params]
    t = 0
    n = X.shape[0]
    perm = m.randperm(n)
    epoch_loss, correct = 0.0, 0
    for i in range(0, n, batch_size):
        idx = perm[i:i + batch_size]
        x, yb = X[idx], y[idx]
        h = m.clamp(x @ W1 + b1, min=0)
        out = h @ W2 + b2
        shifted = out - out.max(dim=1, keepdim=True).values
        log_probs = shifted - m.log(m.exp(shifted).sum(1, keepdim=True))
        loss = -log_probs[m.arange(x.shape[0]), yb].mean()
        loss.backward()
        t += 1
        with m.no_grad():
            for j, p in enumerate(params):
                ms[j] = 0.9 * ms[j] + 0.1 * p.grad
                vs[j] = 0.999 * vs[j] + 0.001 * p.grad ** 2
                m_hat = ms[j] / (1 - 0.9 ** t)
                v_hat = vs[j] / (1 - 0.999 ** t)
                p -= lr * m_hat / (v_hat.sqrt() + 1e-8)
                p.grad.zero_()
        epoch_loss += loss.item()
        correct += (out.argmax(1) == yb).sum().item()
    return epoch_loss


def numpy_scratch_epoch(X: np.ndarray, y: np.ndarray, batch_size: int = 64, seed: int = 0) -> float:
    """Seed 004's loop with no framework: the same forward and Adam lines in NumPy, and the backward
    pass the seed derives by hand (d_out = softmax - onehot, then back through each layer)."""
    rng = np.random.default_rng(seed)
    W1 = rng.standard_normal((784, 128), dtype=np.float32) * np.float32((2.0 / 784) ** 0.5)
    b1 = np.zeros(128, np.float32)
    W2 = rng.standard_normal((128, 10), dtype=np.float32) * np.float32((2.0 / 128) ** 0.5)
    b2 = np.zeros(10, np.float32)
    lr = 0.001
    params = [W1, b1, W2, b2]
    ms = [np.zeros_like(p) for p in params]
    vs = [np.zeros_like(p) for p in params]
    t = 0
    n = X.shape[0]
    perm = rng.permutation(n)
    epoch_loss, correct = 0.0, 0
    for i in range(0, n, batch_size):
        idx = perm[i:i + batch_size]
        x, yb = X[idx], y[idx]
        h_pre = x @ W1 + b1
        h = np.maximum(h_pre, 0)
        out = h @ W2 + b2
        shifted = out - out.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        s = e.sum(axis=1, keepdims=True)
        log_probs = shifted - np.log(s)
        rows = np.arange(x.shape[0])
        loss = -log_probs[rows, yb].mean()
        d_out = e / s
        d_out[rows, yb] -= 1
        d_out /= x.shape[0]
        d_h = d_out @ W2.T
        d_h[h_pre <= 0] = 0
        grads = [x.T @ d_h, d_h.sum(axis=0), h.T @ d_out, d_out.sum(axis=0)]
        t += 1
        for j, p in enumerate(params):
            ms[j] = 0.9 * ms[j] + 0.1 * grads[j]
            vs[j] = 0.999 * vs[j] + 0.001 * grads[j] ** 2
            m_hat = ms[j] / (1 - 0.9 ** t)
            v_hat = vs[j] / (1 - 0.999 ** t)
            p -= lr * m_hat / (np.sqrt(v_hat) + 1e-8)
        epoch_loss += float(loss)
        correct += int((out.argmax(axis=1) == yb).sum())
    return epoch_loss


# ---- 6. MNIST CNN training step ----------------------------------------------------------------------
def mnist_cnn(m, seed: int = 0):
    """PyTorch's examples/mnist network: two 3x3 convolutions, a 2x2 max pool, dropout, two linears."""
    nn = m.nn
    m.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10), nn.LogSoftmax(dim=1))


def cnn_steps(m, model, opt, batches) -> float:
    """Training steps of mnist_cnn (nll_loss of its log_softmax, one optimizer step per batch)."""
    F = m.nn.functional
    loss = None
    for xb, yb in batches:
        opt.zero_grad()
        loss = F.nll_loss(model(xb), yb)
        loss.backward()
        opt.step()
    return loss.item()


def cnn_batches(m, X: np.ndarray, y: np.ndarray, steps: int, batch_size: int = 64) -> list:
    """The first `steps` batches of MNIST as (N, 1, 28, 28) images of framework `m`."""
    n = steps * batch_size
    imgs = X[:n].reshape(-1, 1, 28, 28)
    return [(m.from_numpy(imgs[i:i + batch_size].copy()), m.from_numpy(y[i:i + batch_size].copy()))
            for i in range(0, n, batch_size)]


# ---- 7. word-language-model LSTM ----------------------------------------------------------------------
def lstm_lm(m, steps: int = 4, vocab: int = 1000, emb: int = 256, hidden: int = 256, layers: int = 2,
            seq: int = 35, batch: int = 20) -> float:
    """The word-LM shape (embedding 256 -> 2-layer LSTM, hidden 256, 35 steps of batch 20): forward + backward
    of truncated-BPTT chunks, the state carried over detached. The decoder is left out so the LSTM dominates."""
    nn = m.nn
    m.manual_seed(0)
    encoder, rnn = nn.Embedding(vocab, emb), nn.LSTM(emb, hidden, layers)
    tokens = m.randint(0, vocab, (seq, batch))
    state, loss = None, None
    for _ in range(steps):
        rnn.zero_grad()
        encoder.zero_grad()
        out, (h, c) = rnn(encoder(tokens), state)
        loss = out.pow(2).mean()
        loss.backward()
        state = (h.detach(), c.detach())
    return loss.item()
