# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# section 4 "Backpropagation" / "Why This Matters" (walking the computation graph).
# [added] import torch. No random numbers: deterministic output apart from the grad_fn objects'
# memory addresses, which the comparison ignores.
import torch  # [added]

# PyTorch tracks the computation graph
x = torch.tensor(3.0, requires_grad=True)

# Each operation creates a node in the graph
a = x * 2         # MulBackward
b = a + 5          # AddBackward
c = b ** 3         # PowBackward
d = torch.sin(c)   # SinBackward

print(f"d.grad_fn = {d.grad_fn}")  # Shows the last operation
# You can walk back through the graph:
print(f"  → {d.grad_fn.next_functions[0][0]}")  # PowBackward
print(f"    → {d.grad_fn.next_functions[0][0].next_functions[0][0]}")  # AddBackward

d.backward()
print(f"\nGradient of d with respect to x: {x.grad.item():.4f}")
