"""Training-loop utilities: seeding helpers, activation checkpointing, weight/spectral norm,
torch.func.functional_call (a MAML-style meta step), channels_last, and out= buffers."""
import random
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call
from torch.utils.checkpoint import checkpoint, checkpoint_sequential


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    torch.use_deterministic_algorithms(True)
    torch.set_float32_matmul_precision("high")
    torch.set_num_threads(1)


class Block(nn.Module):
    def __init__(self, dim):
        super().__init__()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # nn.utils.weight_norm is deprecated
            self.fc1 = nn.utils.weight_norm(nn.Linear(dim, 2 * dim))
        self.fc2 = nn.Linear(2 * dim, dim)

    def forward(self, x):
        return x + self.fc2(F.gelu(self.fc1(x)))


class Net(nn.Module):
    def __init__(self, dim=8, depth=3, use_checkpoint=True):
        super().__init__()
        self.blocks = nn.ModuleList(Block(dim) for _ in range(depth))
        self.head = nn.Linear(dim, 1)
        self.use_checkpoint = use_checkpoint

    def forward(self, x):
        for block in self.blocks:
            x = checkpoint(block, x, use_reentrant=False) if self.use_checkpoint and self.training else block(x)
        return self.head(x)


def deterministic_(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.7 + i).view_as(p) * 0.4)
    return model


seed_everything(0)
print(torch.are_deterministic_algorithms_enabled(), torch.get_float32_matmul_precision(), torch.get_num_threads())
x = torch.cos(torch.arange(64, dtype=torch.float32) * 0.3).view(8, 8)
y = x.sum(1, keepdim=True).tanh()
plain, ckpt = deterministic_(Net(use_checkpoint=False)), deterministic_(Net())
print(sorted(k for k in ckpt.state_dict() if k.startswith("blocks.0")))
for model in (plain, ckpt):
    F.mse_loss(model(x), y).backward()
print([torch.allclose(a.grad, b.grad, atol=1e-6) for a, b in zip(plain.parameters(), ckpt.parameters())])
print(ckpt.blocks[0].fc1.weight_g.grad.view(-1)[:4], ckpt.head.weight.grad)

seq = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 1))
deterministic_(seq)
out = checkpoint_sequential(seq, 2, x.requires_grad_(), use_reentrant=True)
out.sum().backward()
print(out.grad_fn, x.grad.abs().sum())
x = x.detach()

# MAML-style: one inner SGD step through functional_call, then the meta-gradient (a plain MLP: the
# second derivative of PyTorch's fused weight_norm kernel is wrong, see tests/test_program_fixes.py)
model = deterministic_(nn.Sequential(nn.Linear(8, 16), nn.GELU(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 1)))
meta_opt = torch.optim.Adam(model.parameters(), lr=1e-2)
for step in range(3):
    params = dict(model.named_parameters())
    inner_loss = F.mse_loss(functional_call(model, params, (x[:4],)), y[:4])
    grads = torch.autograd.grad(inner_loss, params.values(), create_graph=True)
    fast = {name: p - 0.1 * g for (name, p), g in zip(params.items(), grads)}
    outer_loss = F.mse_loss(functional_call(model, fast, (x[4:],)), y[4:])
    meta_opt.zero_grad()
    outer_loss.backward()
    meta_opt.step()
    print(step, f"{inner_loss.item():.6f} {outer_loss.item():.6f}")

# spectral norm: the power iteration converges to the weight's largest singular value from any start
critic = nn.utils.spectral_norm(deterministic_(nn.Linear(8, 6)))
for _ in range(60):
    critic(x)
print(sorted(critic.state_dict()), torch.linalg.matrix_norm(critic.weight.detach(), 2).item().__round__(4))
critic.eval()
print(critic(x)[:2].detach().numpy().round(4))

# channels_last convolution and out= buffers
conv = deterministic_(nn.Conv2d(2, 4, 3, padding=1)).to(memory_format=torch.channels_last)
img = torch.sin(torch.arange(2 * 2 * 6 * 6, dtype=torch.float32)).view(2, 2, 6, 6).to(memory_format=torch.channels_last)
feat = conv(img)
print(feat.shape, torch.channels_last, round(feat.sum().item(), 3))
avg = torch.zeros(4)
with torch.no_grad():
    for i in range(3):
        torch.add(avg, feat[0, :, i].mean(-1), alpha=1 / 3, out=avg)
print(avg, torch.mul(avg, 2, out=torch.empty(4)))
torch.use_deterministic_algorithms(False)
