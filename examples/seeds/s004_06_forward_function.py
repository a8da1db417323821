# Seed 004 ("Build a neural-network training pipeline by hand"), "The forward pass": packaged as a function.
# Split from one long line. [added] setup: the four tensors (s004_01) and a torch.randn
# stand-in for the MNIST batch `x_batch`. Prints nothing.
import torch  # [added]

# ---- [added] setup ----
W1 = torch.randn(784, 128, requires_grad=True) # [784, 128]
b1 = torch.zeros(128, requires_grad=True)      # [128]
W2 = torch.randn(128, 10, requires_grad=True)  # [128, 10]
b2 = torch.zeros(10, requires_grad=True)       # [10]
x_batch = torch.randn(64, 784)  # [added] stand-in for 64 MNIST images

# ---- the listing ----
def forward(x, W1, b1, W2, b2):
    """Complete forward pass — 3 lines, no torch.nn."""
    h = torch.clamp(x @ W1 + b1, min=0)  # hidden + ReLU
    out = h @ W2 + b2                    # output logits
    return out

# Usage:
logits = forward(x_batch, W1, b1, W2, b2)  # [64, 10]
prediction = logits.argmax(dim=1)          # [64] — predicted digit for each image
