# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# section 2 "Tensor Operations" / "Broadcasting — When Shapes Don't Quite Match".
# [added] import torch. No random numbers: deterministic output.
import torch  # [added]

# Scalar + Vector: the scalar is "broadcast" across all elements
a = torch.tensor([1.0, 2.0, 3.0])
result = a + 10
print(f"[1, 2, 3] + 10 = {result}")  # tensor([11., 12., 13.])

# Vector + Matrix: the vector is broadcast across all rows
matrix = torch.tensor([
    [1.0, 2.0, 3.0],
    [4.0, 5.0, 6.0]
])
bias = torch.tensor([10.0, 20.0, 30.0])

result = matrix + bias
print(f"\nMatrix + bias vector:")
print(result)
# tensor([[11., 22., 33.],
#         [14., 25., 36.]])
# The bias [10, 20, 30] was added to EACH row
