# Seed 001 (Chapter 7 "Building Forward Pass in PyTorch"), section "Batch Forward Pass":
# listing "Batch Forward Pass — All 16 Images at Once" (batch_forward.py).
# The listing reuses DiagonalFlipNet (from forward_pytorch.py, s001_01) and make_dataset (from
# dataset.py, s001_02); both are copied below, marked [added], with the imports they need.
# Random weights (the listing never loads the fixed ones): the loss depends on the RNG.
import torch.nn as nn  # [added]
import torch.nn.functional as F  # [added]


class DiagonalFlipNet(nn.Module):  # [added] from forward_pytorch.py
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Linear(4, 3)
        self.layer2 = nn.Linear(3, 4)

    def forward(self, x):
        h = F.relu(self.layer1(x))
        y_hat = self.layer2(h)
        return y_hat


def make_dataset():  # [added] from dataset.py
    """Generate all 16 possible 2x2 binary images
    with their diagonal-flipped targets."""
    inputs, targets = [], []
    for i in range(16):
        bits = [(i >> 3) & 1, (i >> 2) & 1,
                (i >> 1) & 1, i & 1]
        img = torch.tensor(bits, dtype=torch.float32)
        flipped = img.reshape(2, 2).T.reshape(-1)
        inputs.append(img)
        targets.append(flipped)
    return torch.stack(inputs), torch.stack(targets)


# ---- the listing ----
import torch

# ── Setup (reusing model and dataset from above) ──
model = DiagonalFlipNet()
X, Y = make_dataset()  # X: (16, 4), Y: (16, 4)

# ── Batch forward pass — all 16 images at once ──
predictions = model(X)
batch_loss = torch.mean((predictions - Y) ** 2)

# ── Verify: batch == single ──
single = model(X[11])
batched = predictions[11]
print(torch.allclose(single, batched))

print(f"Predictions shape: {predictions.shape}")
print(f"Batch MSE loss:    {batch_loss.item():.4f}")
