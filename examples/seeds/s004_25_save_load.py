# Seed 004 ("Build a neural-network training pipeline by hand"), "What torch.nn adds": 3. serialization (save/load).
# Split from one long line. [added] imports, the four tensors (s004_01) and the Sequential model
# of s004_24. Writes model.pt in the current directory (the test runs it in a temporary one).
# Prints nothing.
import torch  # [added]
import torch.nn as nn  # [added]

W1 = torch.randn(784, 128, requires_grad=True)
b1 = torch.zeros(128, requires_grad=True)
W2 = torch.randn(128, 10, requires_grad=True)
b2 = torch.zeros(10, requires_grad=True)  # [added] (s004_01)
model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                      nn.Linear(64, 10))  # [added] (s004_24)

# ---- the listing ----
# From scratch: save each tensor manually
torch.save({'W1': W1, 'b1': b1, 'W2': W2, 'b2': b2}, 'model.pt')

# torch.nn: one-liner
torch.save(model.state_dict(), 'model.pt')
model.load_state_dict(torch.load('model.pt'))
