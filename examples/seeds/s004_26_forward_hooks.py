# Seed 004 ("Build a neural-network training pipeline by hand"), "What torch.nn adds": 5. hooks for debugging.
# Split from one long line. [added] imports, the 784-128-10 Sequential model of the torch.nn side
# (s004_19) and a torch.randn batch x. Random: the printed means depend on the RNG.
import torch  # [added]
import torch.nn as nn  # [added]

model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))  # [added] (s004_19)
x = torch.randn(64, 784)  # [added] stand-in batch

# ---- the listing ----
# Peek at activations during forward pass
def print_activation(module, input, output):
    print(f"{module.__class__.__name__}: {output.shape}, mean={output.mean():.3f}")

# Register on every layer
for layer in model:
    layer.register_forward_hook(print_activation)

model(x)
# Linear: torch.Size([64, 128]), mean=0.012
# ReLU: torch.Size([64, 128]), mean=0.401
# Linear: torch.Size([64, 10]), mean=-0.003
