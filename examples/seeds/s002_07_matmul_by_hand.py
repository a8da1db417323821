# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# section 2 "Tensor Operations" / "Matrix Multiplication" ("Let's verify").
# Code unchanged; plain Python arithmetic (no torch at all): deterministic output.
# Manual verification
print(f"C[0,0] = 1*7 + 2*9 + 3*11 = {1*7 + 2*9 + 3*11}")   # 58
print(f"C[0,1] = 1*8 + 2*10 + 3*12 = {1*8 + 2*10 + 3*12}")  # 64
print(f"C[1,0] = 4*7 + 5*9 + 6*11 = {4*7 + 5*9 + 6*11}")    # 139
print(f"C[1,1] = 4*8 + 5*10 + 6*12 = {4*8 + 5*10 + 6*12}")  # 154
