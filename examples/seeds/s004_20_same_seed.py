# Seed 004 ("Build a neural-network training pipeline by hand"), "From scratch vs torch.nn": "same random seed".
# Split from one long line; [added] imports. The listing elides the training ("# ...", "After
# training both for 10 epochs") and never defines loss_scratch / loss_nn, so its last line is
# commented out below ([removed]). Its claim is also wrong: nn.Linear initializes with
# kaiming_uniform_, not torch.randn * 0.05, so PyTorch prints False (the text says True).
# The printed value does not depend on the RNG: deterministic output.
import torch  # [added]
import torch.nn as nn  # [added]

torch.manual_seed(42)
# From-scratch version
W1_scratch = torch.randn(784, 128) * 0.05; W1_scratch.requires_grad_(True)
# ...

torch.manual_seed(42)  # SAME seed
# torch.nn version
model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
# nn.Linear uses the same torch.randn internally!

# After training both for 10 epochs on same data:
print(torch.allclose(W1_scratch, model[0].weight.T, atol=1e-6))  # True
# print(loss_scratch == loss_nn)  # True (same to floating point)   [removed: undefined names]
