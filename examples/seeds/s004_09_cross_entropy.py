# Seed 004 ("Build a neural-network training pipeline by hand"), "The loss": cross-entropy by hand vs F.cross_entropy.
# Split from one long line; [added] import torch. Random logits and targets, but it prints
# only whether the two agree: deterministic output ("True").
import torch  # [added]

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

# Verify: matches PyTorch's built-in
import torch.nn.functional as F
logits = torch.randn(64, 10)
targets = torch.randint(0, 10, (64,))
ours = cross_entropy_loss(logits, targets)
theirs = F.cross_entropy(logits, targets)
print(torch.allclose(ours, theirs))  # True ← identical!
