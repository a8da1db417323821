# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# section 9 "Exercises" / "Exercise 1: Tensor Shapes" (the question; it prints nothing).
# [added] import torch. Uses torch.randn; prints nothing: deterministic (empty) output.
import torch  # [added]

A = torch.randn(3, 4)
B = torch.randn(4, 5)
C = torch.randn(3, 4)
v = torch.randn(4)

# What are the shapes of:
# a) A @ B
# b) A + C
# c) A * C
# d) A + v  (broadcasting)
# e) A.reshape(6, 2)
# f) A.reshape(-1)
