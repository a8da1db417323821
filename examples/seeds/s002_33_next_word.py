# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# section 7 "Loss Functions" / "Why cross-entropy for LLMs?" (next-word prediction).
# [added] imports. No random numbers: deterministic output.
import torch  # [added]
import torch.nn as nn  # [added]

# Simulating LLM next-word prediction
# Vocabulary: ["the", "cat", "sat", "on", "mat"]
vocab_size = 5

# Model's raw predictions for the next word
logits = torch.tensor([[1.5, 3.2, 0.5, 0.1, 0.8]])  # thinks "cat" is most likely
true_next_word = torch.tensor([1])  # correct answer is "cat" (index 1)

loss = nn.CrossEntropyLoss()(logits, true_next_word)
probs = torch.softmax(logits, dim=1)

print("Word probabilities:")
vocab = ["the", "cat", "sat", "on", "mat"]
for i, word in enumerate(vocab):
    marker = " ← correct" if i == 1 else ""
    print(f"  {word}: {probs[0][i].item():.4f}{marker}")
print(f"\nLoss: {loss.item():.4f}")
