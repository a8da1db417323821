# Seed 004 ("Build a neural-network training pipeline by hand"), "From scratch vs torch.nn": the torch.nn side.
# Split from one long line. [added] imports, a torch.randn batch (x, y), and the optimizer the
# listing steps (SGD, lr=0.01, created right after the model). Random weights; prints nothing.
import torch  # [added]
import torch.nn as nn  # [added]
import torch.nn.functional as F  # [added]

x = torch.randn(64, 784)  # [added]
y = torch.randint(0, 10, (64,))  # [added]

# ---- the listing ----
# nn.Module
model = nn.Sequential(
    nn.Linear(784, 128),
    nn.ReLU(),
    nn.Linear(128, 10)
)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)  # [added]

# Forward
out = model(x)

# Loss + backward
loss = F.cross_entropy(out, y)
loss.backward()

# Optimizer step
optimizer.step()
optimizer.zero_grad()
