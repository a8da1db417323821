# Seed 004 ("Build a neural-network training pipeline by hand"), "The forward pass": tracing a single "7".
# Split from one long line. [added] setup: the four tensors (s004_01).
# Random weights: the printed values depend on the RNG.
import torch  # [added]

# ---- [added] setup: the four tensors (s004_01) ----
W1 = torch.randn(784, 128, requires_grad=True) # [784, 128]
b1 = torch.zeros(128, requires_grad=True)      # [128]
W2 = torch.randn(128, 10, requires_grad=True)  # [128, 10]
b2 = torch.zeros(10, requires_grad=True)       # [10]

# ---- the listing ----
# Single image of a "7" — mostly zeros except for the stroke
x = torch.zeros(1, 784)
x[0, 350:360] = 1.0  # simulate some bright pixels

h = x @ W1 + b1  # [1, 784] @ [784, 128] = [1, 128]
print(h[0, :5])  # tensor([-0.42, 1.87, 0.03, -1.21, 0.95])

h = torch.clamp(h, min=0)
print(h[0, :5])  # tensor([ 0.00, 1.87, 0.03, 0.00, 0.95])
#                          ^^^^              ^^^^
#                          negatives become zero (ReLU)

out = h @ W2 + b2  # [1, 128] @ [128, 10] = [1, 10]
print(out)
# tensor([[-0.5, 0.2, -0.1, 0.8, -0.3, 0.1, -0.4, 2.1, -0.2, 0.3]])
#                                                 ^^^
#                                  logit for "7" is highest → correct prediction!
