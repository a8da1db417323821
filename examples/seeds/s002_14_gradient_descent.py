# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# section 3 "What Is a Gradient?" / "Gradient Descent in Action".
# [added] import torch. No random numbers: deterministic output (the text prints it).
import torch  # [added]

# Start at a random position
x = torch.tensor(0.0, requires_grad=True)
learning_rate = 0.1

print("Step | x       | f(x)    | gradient")
print("-----|---------|---------|--------")

for step in range(20):
    # Forward: compute f(x)
    f = (x - 5) ** 2

    # Backward: compute gradient
    f.backward()

    # Print current state
    if step < 10 or step % 5 == 0:
        print(f"  {step:2d} | {x.item():7.4f} | {f.item():7.4f} | {x.grad.item():7.4f}")

    # Update x: move in the opposite direction of the gradient
    with torch.no_grad():  # Don't track this operation
        x -= learning_rate * x.grad

    # Reset gradient for next iteration
    x.grad.zero_()

print(f"\nFinal x = {x.item():.6f} (target: 5.0)")
