# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# section 7 "Loss Functions" / "Cross-Entropy — For Classification".
# [added] imports. No random numbers: deterministic output.
import torch  # [added]
import torch.nn as nn  # [added]

# Classification example: 3 classes (cat, dog, bird)
# Model outputs raw scores (logits), not probabilities
logits = torch.tensor([[2.0, 1.0, 0.1]])   # Raw model output
target = torch.tensor([0])                    # True class: cat (index 0)

# Cross-entropy loss (handles softmax internally)
criterion = nn.CrossEntropyLoss()
loss = criterion(logits, target)
print(f"Cross-entropy loss: {loss.item():.4f}")

# Let's see what happens under the hood:
probabilities = torch.softmax(logits, dim=1)
print(f"Probabilities: {probabilities.data}")
# The model gives ~66% to cat, ~24% to dog, ~10% to bird
# Since the true label is cat, this isn't bad! Loss should be low.

# Now with a wrong prediction:
logits_wrong = torch.tensor([[0.1, 2.0, 1.0]])  # Model thinks it's a dog
loss_wrong = criterion(logits_wrong, target)
print(f"\nWrong prediction loss: {loss_wrong.item():.4f}")
probs_wrong = torch.softmax(logits_wrong, dim=1)
print(f"Wrong probabilities: {probs_wrong.data}")
# Higher loss when the model is confident about the wrong class
