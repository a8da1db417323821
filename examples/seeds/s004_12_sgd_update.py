# Seed 004 ("Build a neural-network training pipeline by hand"), "The optimizer": SGD in three lines.
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
lr = 0.01  # learning rate — how big a step to take

with torch.no_grad():  # don't track these ops in the graph
    W1 -= lr * W1.grad  # take one step down the gradient
    b1 -= lr * b1.grad
    W2 -= lr * W2.grad
    b2 -= lr * b2.grad

# CRITICAL: zero the gradients after updating!
W1.grad.zero_()
b1.grad.zero_()
W2.grad.zero_()
b2.grad.zero_()
