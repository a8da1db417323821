# Seed 004 ("Build a neural-network training pipeline by hand"), "What torch.nn adds": 1. automatic parameter tracking.
# Split from one long line. [added] imports and the four tensors (s004_01) the first line lists.
# Random initialization: the printed parameters depend on the RNG.
import torch  # [added]
import torch.nn as nn  # [added]

W1 = torch.randn(784, 128, requires_grad=True)
b1 = torch.zeros(128, requires_grad=True)
W2 = torch.randn(128, 10, requires_grad=True)
b2 = torch.zeros(10, requires_grad=True)  # [added] (s004_01)

# ---- the listing ----
# From scratch: manually list all parameters
params = [W1, b1, W2, b2]  # add W3, b3 if you add a layer → easy to forget one!

# torch.nn: parameters found automatically
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 128)  # registers .weight and .bias
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))

model = Net()
print(list(model.parameters()))  # automatically finds all 4 tensors!
optimizer = torch.optim.Adam(model.parameters(), lr=0.001)  # pass them to Adam
