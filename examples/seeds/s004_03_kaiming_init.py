# Seed 004 ("Build a neural-network training pipeline by hand"), "Tensors": Kaiming initialization.
# Split from one long line; [added] import torch. torch.randn; prints nothing.
import torch  # [added]

# Better initialization for ReLU networks (He et al., 2015)
# Scale by sqrt(2/fan_in) to keep variance stable through layers
W1 = torch.randn(784, 128) * (2.0 / 784) ** 0.5
W1.requires_grad_(True)  # In-place version of requires_grad=True
# For our 784→128 layer: scale = sqrt(2/784) ≈ 0.0505
# Values will be roughly in [-0.15, 0.15] instead of [-3, 3]
