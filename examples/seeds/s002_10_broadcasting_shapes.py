# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# section 2 "Tensor Operations" / "Broadcasting rules" (shape tracking examples).
# [added] import torch. Uses torch.randn but prints only shapes: deterministic output.
import torch  # [added]

# Shape tracking examples
A = torch.randn(4, 3)    # Shape: (4, 3)
b = torch.randn(3)       # Shape:    (3)  →  broadcast to (4, 3)
C = A + b                 # Result: (4, 3) ✓

print(f"A {A.shape} + b {b.shape} = C {C.shape}")

# Another example
X = torch.randn(2, 3, 4)  # Shape: (2, 3, 4)
Y = torch.randn(1, 1, 4)  # Shape: (1, 1, 4) → broadcast to (2, 3, 4)
Z = X + Y                  # Result: (2, 3, 4) ✓

print(f"X {X.shape} + Y {Y.shape} = Z {Z.shape}")

# This would FAIL:
# A = torch.randn(4, 3)
# b = torch.randn(4)
# C = A + b  # ERROR! 3 ≠ 4 when comparing from the right
