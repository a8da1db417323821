# Seed 004 ("Build a neural-network training pipeline by hand"), "What torch.nn adds": 2. Sequential containers.
# Split from one long line. [added] imports, the four tensors (s004_01) and a torch.randn batch x.
# Random initialization; prints nothing.
import torch  # [added]
import torch.nn as nn  # [added]

W1 = torch.randn(784, 128, requires_grad=True)
b1 = torch.zeros(128, requires_grad=True)
W2 = torch.randn(128, 10, requires_grad=True)
b2 = torch.zeros(10, requires_grad=True)  # [added] (s004_01)
x = torch.randn(64, 784)  # [added] stand-in batch

# ---- the listing ----
# From scratch: explicit function
def forward(x):
    h = torch.clamp(x @ W1 + b1, min=0)
    return h @ W2 + b2

# torch.nn: stack layers like LEGO
model = nn.Sequential(
    nn.Linear(784, 128),
    nn.ReLU(),
    nn.Linear(128, 64),
    nn.ReLU(),
    nn.Linear(64, 10),
)
out = model(x)  # applies each layer in order
