# Seed 004 ("Build a neural-network training pipeline by hand"), "The optimizer": SGD with momentum.
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
# SGD with Momentum
lr = 0.01
mu = 0.9  # momentum coefficient (how much history to keep)

# Initialize velocity tensors (zeros, same shape as weights)
v_W1 = torch.zeros_like(W1)
v_b1 = torch.zeros_like(b1)
v_W2 = torch.zeros_like(W2)
v_b2 = torch.zeros_like(b2)

# Update step
with torch.no_grad():
    v_W1 = mu * v_W1 + W1.grad  # blend old velocity with new gradient
    W1 -= lr * v_W1             # update using velocity (not raw gradient)
    # ... same for b1, W2, b2
