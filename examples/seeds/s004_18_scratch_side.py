# Seed 004 ("Build a neural-network training pipeline by hand"), "From scratch vs torch.nn": the from-scratch side.
# Split from one long line. [added] setup: a torch.randn batch (x, y), lr, and cross_entropy =
# the text's cross_entropy_loss (s004_09). Random weights; prints nothing.
import torch  # [added]

# ---- [added] setup ----
def cross_entropy_loss(logits, targets):
    shifted = logits - logits.max(dim=1, keepdim=True).values
    log_probs = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))
    loss = -log_probs[torch.arange(logits.shape[0]), targets]
    return loss.mean()

cross_entropy = cross_entropy_loss
x = torch.randn(64, 784)
y = torch.randint(0, 10, (64,))
lr = 0.01

# ---- the listing ----
# Raw tensors
W1 = torch.randn(784,128) * 0.05
W1.requires_grad_(True)
b1 = torch.zeros(128, requires_grad=True)
W2 = torch.randn(128,10) * 0.05
W2.requires_grad_(True)
b2 = torch.zeros(10, requires_grad=True)

# Forward
h = torch.clamp(x@W1+b1, min=0)
out = h @ W2 + b2

# Loss + backward
loss = cross_entropy(out, y)
loss.backward()

# SGD update
with torch.no_grad():
    W1 -= lr * W1.grad
W1.grad.zero_()
