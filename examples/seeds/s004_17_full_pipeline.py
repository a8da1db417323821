# Seed 004 ("Build a neural-network training pipeline by hand"), "Putting it together": the complete from-scratch training pipeline (Adam, 10 epochs).
# Split from one long line; code unchanged except one [added] line: with SEEDS_QUICK=1 in the
# environment it trains 1 epoch instead of 10 (tests/test_seeds.py uses that).
# torch.randn data stands in for MNIST, as in the text: output depends on the RNG.
import os  # [added]
import torch

# ─── Data ───────────────────────────────────────────────
# (In practice you'd load MNIST here; we simulate it)
X_train = torch.randn(60000, 784)         # [60000, 784]
y_train = torch.randint(0, 10, (60000,))  # [60000]

# ─── Initialize parameters ──────────────────────────────
W1 = torch.randn(784, 128) * (2.0/784)**0.5; W1.requires_grad_(True)
b1 = torch.zeros(128, requires_grad=True)
W2 = torch.randn(128, 10) * (2.0/128)**0.5; W2.requires_grad_(True)
b2 = torch.zeros(10, requires_grad=True)

# ─── Hyperparameters ────────────────────────────────────
lr = 0.001
batch_size = 64
epochs = 10
if os.environ.get("SEEDS_QUICK"): epochs = 1  # [added] reduced run for the test suite

# ─── Adam state ─────────────────────────────────────────
params = [W1, b1, W2, b2]
ms = [torch.zeros_like(p) for p in params]  # first moments
vs = [torch.zeros_like(p) for p in params]  # second moments
t = 0

# ─── Training loop ──────────────────────────────────────
for epoch in range(epochs):
    perm = torch.randperm(60000)
    epoch_loss = 0.0
    correct = 0

    for i in range(0, 60000, batch_size):
        # Get batch
        idx = perm[i:i+batch_size]
        x, y = X_train[idx], y_train[idx]

        # Forward
        h = torch.clamp(x @ W1 + b1, min=0)
        out = h @ W2 + b2

        # Loss (stable cross-entropy)
        shifted = out - out.max(dim=1, keepdim=True).values
        log_probs = shifted - torch.log(torch.exp(shifted).sum(1, keepdim=True))
        loss = -log_probs[torch.arange(x.shape[0]), y].mean()

        # Backward
        loss.backward()

        # Adam update
        t += 1
        with torch.no_grad():
            for j, p in enumerate(params):
                ms[j] = 0.9 * ms[j] + 0.1 * p.grad
                vs[j] = 0.999 * vs[j] + 0.001 * p.grad**2
                m_hat = ms[j] / (1 - 0.9**t)
                v_hat = vs[j] / (1 - 0.999**t)
                p -= lr * m_hat / (v_hat.sqrt() + 1e-8)
                p.grad.zero_()

        # Track metrics
        epoch_loss += loss.item()
        correct += (out.argmax(1) == y).sum().item()

    # Print epoch summary
    n_batches = (60000 + batch_size - 1) // batch_size
    print(f"Epoch {epoch+1}/10 | Loss: {epoch_loss/n_batches:.4f} | Acc: {correct/60000*100:.1f}%")
