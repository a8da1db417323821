# Seed 004 ("Build a neural-network training pipeline by hand"), "The loss": stable softmax.
# Split from one long line; [added] import torch. No random numbers: deterministic output.
import torch  # [added]

# Stable softmax (what PyTorch actually computes)
def softmax(logits):
    # Subtract max for numerical stability
    shifted = logits - logits.max(dim=1, keepdim=True).values
    exp_logits = torch.exp(shifted)  # now all values ≤ 0, so exp ≤ 1
    return exp_logits / exp_logits.sum(dim=1, keepdim=True)

# Verify: same input, no overflow
logits = torch.tensor([[100.0, 101.0, 102.0]])
print(softmax(logits))  # tensor([[0.0900, 0.2447, 0.6652]]) — sums to 1.0 ✓
