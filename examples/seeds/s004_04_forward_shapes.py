# Seed 004 ("Build a neural-network training pipeline by hand"), "The forward pass": the three lines with shapes.
# Split from one long line. [added] setup: the four tensors (s004_01), and a torch.randn
# stand-in for the MNIST batch `batch_of_images` (as the text's full pipeline does). Prints nothing.
import torch  # [added]

# ---- [added] setup ----
W1 = torch.randn(784, 128, requires_grad=True) # [784, 128]
b1 = torch.zeros(128, requires_grad=True)      # [128]
W2 = torch.randn(128, 10, requires_grad=True)  # [128, 10]
b2 = torch.zeros(10, requires_grad=True)       # [10]
batch_of_images = torch.randn(64, 784)  # [added] stand-in for 64 MNIST images

# ---- the listing ----
# x shape: [64, 784] — 64 images, each with 784 pixel values (0-1)
x = batch_of_images  # normalized to [0, 1]

# Step 1: Linear transformation (hidden layer)
h = x @ W1 + b1  # [64, 784] @ [784, 128] = [64, 128]
# Each of the 64 images now has 128 "features"
# b1 broadcasts: [128] → [64, 128]

# Step 2: ReLU activation
h = torch.clamp(h, min=0)  # [64, 128] → [64, 128] (same shape, negative values → 0)

# Step 3: Linear transformation (output layer)
out = h @ W2 + b2  # [64, 128] @ [128, 10] = [64, 10]
# Each image now has 10 "logits" — one per digit class
