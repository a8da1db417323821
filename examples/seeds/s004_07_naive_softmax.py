# Seed 004 ("Build a neural-network training pipeline by hand"), "The loss": naive softmax.
# Split from one long line; [added] import torch. No random numbers: deterministic output.
import torch  # [added]

# Naive softmax (DON'T USE — numerically unstable!)
def softmax_naive(logits):
    exp_logits = torch.exp(logits)  # [64, 10]
    return exp_logits / exp_logits.sum(dim=1, keepdim=True)

# Problem: if logits are large (e.g., 100), exp(100) = 2.7 × 10^43 → overflow!
logits = torch.tensor([[100.0, 101.0, 102.0]])
print(torch.exp(logits))
# tensor([[2.6881e+43, 7.3071e+43, inf]])
#                                  ^^^ OVERFLOW
