# Seed 004 ("Build a neural-network training pipeline by hand"), "Tensors": what is stored in a tensor.
# Split from one long line. Uses W1 from the four-tensors listing (s004_01), copied below as
# [added] setup. W1[0, :5] depends on the RNG; the other lines do not.
import torch  # [added]

# ---- [added] setup: the four tensors (s004_01) ----
W1 = torch.randn(784, 128, requires_grad=True) # [784, 128]
b1 = torch.zeros(128, requires_grad=True)      # [128]
W2 = torch.randn(128, 10, requires_grad=True)  # [128, 10]
b2 = torch.zeros(10, requires_grad=True)       # [10]

# ---- the listing ----
print(W1.shape)          # torch.Size([784, 128])
print(W1.dtype)          # torch.float32
print(W1.device)         # device(type='cpu')
print(W1.requires_grad)  # True
print(W1.grad)           # None (no backward pass yet)

# Peek at actual values
print(W1[0, :5])
# tensor([ 0.3421, -1.2018, 0.8843, -0.4912, 0.1357])
# Random numbers ~ N(0,1) — some positive, some negative
