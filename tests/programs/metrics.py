"""Evaluation metrics by hand: confusion matrix, top-k accuracy, counts, and how tensors print."""
import numpy as np
import torch

num_classes = 4
n = 24
logits = torch.stack([torch.sin(torch.arange(1, n + 1, dtype=torch.float32) * (k + 1) * 0.9) for k in range(num_classes)], 1)
targets = torch.tensor([0, 1, 2, 3, 1, 1, 0, 2, 3, 3, 0, 1, 2, 2, 1, 0, 3, 3, 1, 0, 2, 1, 0, 3])
print(logits[:3])
print(targets)

preds = logits.argmax(dim=1)
print(preds, preds.dtype)
correct = preds.eq(targets).sum().item()
print(f"accuracy: {correct}/{n} = {correct / n:.4f}")
print((preds == targets).float().mean())

cm = torch.bincount(num_classes * targets + preds, minlength=num_classes ** 2).reshape(num_classes, num_classes)
print(cm)
tp = cm.diag()
precision = tp / cm.sum(0).clamp(min=1)
recall = tp / cm.sum(1).clamp(min=1)
f1 = torch.where(precision + recall > 0, 2 * precision * recall / (precision + recall), torch.zeros(()))
print("precision", precision)
print("recall", recall)
print("f1", f1, "macro-F1", f1.mean().item())

maxk = 3
_, pred = logits.topk(maxk, 1, True, True)
pred = pred.t()
correct = pred.eq(targets.view(1, -1).expand_as(pred))
for k in (1, 2, 3):
    correct_k = correct[:k].reshape(-1).float().sum(0, keepdim=True)
    print(f"top-{k}", correct_k.mul_(100.0 / n))

values, counts = torch.unique(targets, return_counts=True)
print(values, counts)
uniq, inverse = torch.unique(preds, sorted=True, return_inverse=True)
print(uniq, inverse)
print(torch.unique(torch.tensor([3, 1, 2, 3, 1]), return_inverse=True, return_counts=True))
print(torch.where(preds == targets)[0])
print(torch.where(logits > 0.9))
print(torch.nonzero(cm > 1))
log_probs = logits - logits.exp().sum(-1).log().unsqueeze(-1)  # log_softmax by hand ("What is torch.nn really?")
nll = -log_probs[range(targets.shape[0]), targets].mean()
print("nll by hand", nll, torch.nn.functional.nll_loss(log_probs, targets))
per_model = torch.tensor([np.array([0.1, 0.7, 0.2]), np.array([0.5, 0.3, 0.2])])  # scores from two NumPy models
print(per_model.dtype, per_model.mean(0))
probs = torch.softmax(logits, dim=1)
print(probs.max(dim=1).values[:5], probs.sum(1)[:3])
conf, idx = probs.max(1)
print(torch.sort(conf, descending=True).indices[:5])
print(torch.histc(conf, bins=4, min=0, max=1))

# how tensors print
print(torch.tensor([1.5, -2.25, 3.0]))
print(torch.tensor([1, -2, 300]))
print(torch.tensor([True, False]))
print(torch.tensor([1e-8, 1.0, 1e8]))
print(torch.tensor([0.1, 0.2], dtype=torch.float64))
print(torch.tensor([1, 2], dtype=torch.int32), torch.tensor([1, 2], dtype=torch.uint8))
print(torch.tensor(3.5), torch.tensor(7), torch.tensor([]), torch.zeros(2, 0))
print(torch.tensor([float('nan'), float('inf'), -float('inf'), 1.0]))
w = torch.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
print(w)
y = (w * 2).sum()
print(y, y.grad_fn.name())
print(torch.arange(12).reshape(3, 4).float() / 7)
print(torch.arange(2000).reshape(2, 1000))
print(torch.nn.Parameter(torch.ones(2)))
print(torch.tensor([[1.0, 2.0]]).half(), torch.tensor([1.0]).bfloat16())
print(f"{torch.tensor(0.123456789).item():.6f}", torch.tensor([2.0, 4.0]).tolist(), torch.tensor(5).item())
print(torch.tensor([1.23456789]), torch.tensor([123456.789]))
