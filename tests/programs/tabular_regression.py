"""Tabular regression: TensorDataset, random_split, LR schedulers, early stopping on the best state_dict."""
import copy
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset, random_split
from torch.utils.tensorboard import SummaryWriter

torch.manual_seed(42)
rng = np.random.default_rng(0)
X = rng.normal(size=(600, 6)).astype(np.float32)
true_w = np.array([1.5, -2.0, 0.5, 0.0, 3.0, -1.0], dtype=np.float32)
y = X @ true_w + 0.3 * np.sin(X[:, 0] * X[:, 1]) + rng.normal(scale=0.1, size=600).astype(np.float32)
features, targets = torch.from_numpy(X), torch.from_numpy(y).unsqueeze(1)
mean, std = features.mean(0, keepdim=True), features.std(0, keepdim=True)
features = (features - mean) / std
print(features.shape, targets.shape, features.mean().abs().item() < 1e-6)

dataset = TensorDataset(features, targets)
train_set, val_set, test_set = random_split(dataset, [0.7, 0.15, 0.15], generator=torch.Generator().manual_seed(0))
print(len(train_set), len(val_set), len(test_set), type(train_set).__name__)
train_loader = DataLoader(train_set, batch_size=32, shuffle=True)
val_loader = DataLoader(val_set, batch_size=128)
test_loader = DataLoader(test_set, batch_size=128)
xb, yb = next(iter(train_loader))
print(xb.shape, yb.shape, len(train_loader), len(val_loader))


def make_model():
    return nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 1))


def evaluate(model, loader, loss_fn):
    model.eval()
    total, count = 0.0, 0
    with torch.inference_mode():
        for xb, yb in loader:
            total += loss_fn(model(xb), yb).item() * len(xb)
            count += len(xb)
    model.train()
    return total / count


loss_fn = nn.MSELoss()
model = make_model()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-5)
plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode='min', factor=0.5, patience=2)
best_loss, best_state, bad_epochs, patience = float('inf'), None, 0, 5
writer = SummaryWriter(os.path.join(tempfile.mkdtemp(), "runs", "mlp"))
for epoch in range(40):
    for xb, yb in train_loader:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
    val_loss = evaluate(model, val_loader, loss_fn)
    plateau.step(val_loss)
    writer.add_scalar("loss/val", val_loss, epoch)
    writer.add_scalars("lr", {"group0": optimizer.param_groups[0]['lr']}, epoch)
    if val_loss < best_loss - 1e-4:
        best_loss, best_state, bad_epochs = val_loss, copy.deepcopy(model.state_dict()), 0
    else:
        bad_epochs += 1
    if epoch % 5 == 0:
        print(f"epoch {epoch:2d} val {val_loss:.4f} lr {optimizer.param_groups[0]['lr']:.5f}")
    if bad_epochs >= patience:
        print(f"early stop at epoch {epoch}")
        break
writer.close()
print(sorted(os.listdir(writer.get_logdir()))[-1], sum(f.startswith("events.out.tfevents") for f in os.listdir(writer.get_logdir())))
model.load_state_dict(best_state)
test_loss = evaluate(model, test_loader, loss_fn)
print(f"best val {best_loss:.4f} test {test_loss:.4f} ok {test_loss < 0.2}")
print(model.training, list(best_state.keys()), best_state['0.weight'] is not model[0].weight)

with torch.inference_mode():
    pred = model.eval()(features[:3])
print(pred.requires_grad, pred.is_inference(), pred.shape)

# CosineAnnealingLR: the learning rate follows half a cosine from 0.1 to eta_min
model2 = nn.Linear(6, 1)
opt2 = torch.optim.SGD(model2.parameters(), lr=0.1, momentum=0.9)
cosine = torch.optim.lr_scheduler.CosineAnnealingLR(opt2, T_max=10, eta_min=0.001)
lrs = []
for epoch in range(12):
    for xb, yb in train_loader:
        opt2.zero_grad()
        loss_fn(model2(xb), yb).backward()
        opt2.step()
    lrs.append(cosine.get_last_lr()[0])
    cosine.step()
print([round(v, 6) for v in lrs])
print(cosine.state_dict()['last_epoch'], cosine.state_dict()['T_max'], plateau.state_dict()['mode'])
print(f"linear model test {evaluate(model2, test_loader, loss_fn):.3f}")
w = model2.weight.detach().squeeze() / std.squeeze()
print("recovered weights", [round(v, 1) for v in w.tolist()])
