# Seed 001 (Chapter 7 "Building Forward Pass in PyTorch"), section "Creating the Training Dataset":
# listing "Training Dataset — All 16 Images" (dataset.py).
# Code unchanged. No weights, no random numbers: deterministic output.
import torch

def make_dataset():
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

X, Y = make_dataset()
print(f"Dataset: {X.shape[0]} samples, "
      f"input shape {X.shape}, "
      f"target shape {Y.shape}")

# Show a few examples
for i in [0, 6, 11, 15]:
    inp = X[i].tolist()
    tgt = Y[i].tolist()
    print(f"  [{inp[:2]}] → [{tgt[:2]}]")
    print(f"  [{inp[2:]}]    [{tgt[2:]}]")
