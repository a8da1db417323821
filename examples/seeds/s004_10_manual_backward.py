# Seed 004 ("Build a neural-network training pipeline by hand"), "Gradients": the backward pass by hand.
# Split from one long line. [added] setup below. Prints nothing.
import torch  # [added]

# ---- [added] setup: the four tensors (s004_01), softmax (s004_08), cross_entropy_loss
# (s004_09), and torch.randn / torch.randint stand-ins for an MNIST batch ----
W1 = torch.randn(784, 128, requires_grad=True) # [784, 128]
b1 = torch.zeros(128, requires_grad=True)      # [128]
W2 = torch.randn(128, 10, requires_grad=True)  # [128, 10]
b2 = torch.zeros(10, requires_grad=True)       # [10]

def softmax(logits):
    shifted = logits - logits.max(dim=1, keepdim=True).values
    exp_logits = torch.exp(shifted)
    return exp_logits / exp_logits.sum(dim=1, keepdim=True)

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

x = torch.randn(64, 784)                # [added] stand-in for 64 MNIST images
targets = torch.randint(0, 10, (64,))   # [added] stand-in for their labels

# ---- the listing ----
# Forward pass (saving intermediates for backward)
h_pre = x @ W1 + b1            # [64, 128] — pre-activation
h = torch.clamp(h_pre, min=0)  # [64, 128] — post-ReLU
out = h @ W2 + b2              # [64, 10] — logits

# Softmax + loss
probs = softmax(out)                     # [64, 10]
loss = cross_entropy_loss(out, targets)

# === BACKWARD PASS (what .backward() computes) ===

# Gradient of loss w.r.t. logits (softmax + NLL combined)
# This is the beautiful simplification: d_out = probs - one_hot(targets)
d_out = probs.clone()                  # [64, 10]
d_out[torch.arange(64), targets] -= 1  # subtract 1 from correct class
d_out /= 64                            # average over batch
# d_out[i,j] = (prob[i,j] - 1{j==target[i]}) / batch_size

# Gradient of loss w.r.t. W2: out = h @ W2 + b2
# ∂loss/∂W2 = h.T @ d_out
d_W2 = h.T @ d_out         # [128, 64] @ [64, 10] = [128, 10] ✓
d_b2 = d_out.sum(dim=0)    # [10] ✓

# Gradient flows back through W2
d_h = d_out @ W2.T         # [64, 10] @ [10, 128] = [64, 128]

# ReLU gradient: 1 if input > 0, else 0
d_h_pre = d_h * (h_pre > 0).float()  # [64, 128] — zero out where ReLU killed

# Gradient of loss w.r.t. W1: h_pre = x @ W1 + b1
# ∂loss/∂W1 = x.T @ d_h_pre
d_W1 = x.T @ d_h_pre         # [784, 64] @ [64, 128] = [784, 128] ✓
d_b1 = d_h_pre.sum(dim=0)    # [128] ✓
