# Seed 003 (Chapter 8 "Backpropagation in PyTorch"), section "Python: The Training Loop":
# listing "Training Loop (200 Steps) — NumPy" (training_loop_numpy.py).
# Code unchanged; pure NumPy (no torch). Fixed weights: deterministic output.
import numpy as np

# ── Same network setup ──
W1 = np.array([[ 0.2, -0.5,  0.1],
               [-0.3,  0.4, -0.2],
               [ 0.1,  0.3,  0.5],
               [-0.4,  0.2, -0.1]])
b1 = np.array([0.1, -0.1, 0.0])
W2 = np.array([[ 0.3, -0.2,  0.4,  0.1],
               [-0.1,  0.5, -0.3,  0.2],
               [ 0.2, -0.4,  0.1, -0.5]])
b2 = np.array([0.0, 0.1, -0.1, 0.0])

x = np.array([1.0, 0.0, 1.0, 1.0])
target = np.array([1.0, 1.0, 0.0, 1.0])
eta = 0.1

for step in range(201):
    # Forward
    z1 = np.round(x @ W1 + b1, 10)
    h = np.maximum(0, z1)
    y_hat = h @ W2 + b2
    loss = np.mean((y_hat - target) ** 2)

    if step in [0, 1, 5, 10, 25, 50, 100, 200]:
        pred = np.round(y_hat, 3)
        print(f"Step {step:<4} loss={loss:.6f}  pred={pred}")

    # Backward
    dL_dy = 0.5 * (y_hat - target)
    dL_dW2 = np.outer(h, dL_dy)
    dL_db2 = dL_dy.copy()
    dL_dh = W2 @ dL_dy
    dL_dz1 = dL_dh * (z1 > 0).astype(float)
    dL_dW1 = np.outer(x, dL_dz1)
    dL_db1 = dL_dz1.copy()

    # Update
    W1 -= eta * dL_dW1
    b1 -= eta * dL_db1
    W2 -= eta * dL_dW2
    b2 -= eta * dL_db2
