# Seed 004 ("Build a neural-network training pipeline by hand"), "The optimizer": Adam from scratch.
# Split from one long line. [added] setup below. Prints nothing.
import torch  # [added]

# ---- [added] setup: the four tensors (s004_01), cross_entropy_loss (s004_09), a torch.randn
# stand-in batch, and one forward + backward pass so that every .grad is filled ----
W1 = torch.randn(784, 128, requires_grad=True) # [784, 128]
b1 = torch.zeros(128, requires_grad=True)      # [128]
W2 = torch.randn(128, 10, requires_grad=True)  # [128, 10]
b2 = torch.zeros(10, requires_grad=True)       # [10]

def cross_entropy_loss(logits, targets):
    """
    logits: [batch_size, 10] — raw output of network
    targets: [batch_size] — integer labels (0-9)
    returns: scalar loss (averaged over batch)
    """
    # Stable softmax
    shifted = logits - logits.max(dim=1, keepdim=True).values
    log_probs = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))
    # log_probs shape: [64, 10]

    # Pick the log-probability of the correct class for each sample
    loss = -log_probs[torch.arange(logits.shape[0]), targets]
    # shape: [64] — one loss per sample

    return loss.mean()  # average over batch → scalar

x = torch.randn(64, 784)
targets = torch.randint(0, 10, (64,))
out = torch.clamp(x @ W1 + b1, min=0) @ W2 + b2
loss = cross_entropy_loss(out, targets)
loss.backward()

# ---- the listing ----
# Adam from scratch (~15 lines)
lr = 0.001
beta1, beta2 = 0.9, 0.999  # momentum coefficients
eps = 1e-8                 # prevents division by zero
t = 0                      # timestep counter

# First moment (mean of gradients) and second moment (mean of squared gradients)
m_W1 = torch.zeros_like(W1)
v_W1 = torch.zeros_like(W1)
# ... same for b1, W2, b2

def adam_step(param, grad, m, v, t):
    """One Adam update step for a single parameter."""
    t += 1
    m = beta1 * m + (1 - beta1) * grad       # update mean estimate
    v = beta2 * v + (1 - beta2) * grad ** 2  # update variance estimate

    # Bias correction (early steps would be biased toward zero)
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)

    # Update: larger gradients get SMALLER steps (adaptive!)
    param -= lr * m_hat / (torch.sqrt(v_hat) + eps)
    return m, v, t

# Usage in training loop:
with torch.no_grad():
    m_W1, v_W1, t = adam_step(W1, W1.grad, m_W1, v_W1, t)
    # ... same for b1, W2, b2
