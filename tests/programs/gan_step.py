"""A small GAN on 4x4 "images": BCEWithLogitsLoss, .detach(), two optimizers, one generator step each."""
import math

import torch
import torch.nn as nn


def det_init(m):
    if isinstance(m, nn.Linear):
        with torch.no_grad():
            k = torch.arange(m.weight.numel(), dtype=torch.float32)
            m.weight.copy_(torch.sin(k * 0.37 + m.in_features).view_as(m.weight) / math.sqrt(m.in_features))
            m.bias.zero_()


generator = nn.Sequential(nn.Linear(4, 16), nn.LeakyReLU(0.2), nn.Linear(16, 16), nn.Tanh())
discriminator = nn.Sequential(nn.LazyLinear(32), nn.LeakyReLU(0.2, inplace=True), nn.LazyLinear(1))
print(discriminator)
discriminator(torch.zeros(1, 16))  # a dry run sizes the lazy layers
print(discriminator)
generator.apply(det_init)
discriminator.apply(det_init)
criterion = nn.BCEWithLogitsLoss()
opt_g = torch.optim.Adam(generator.parameters(), lr=2e-3, betas=(0.5, 0.999))
opt_d = torch.optim.Adam(discriminator.parameters(), lr=2e-3, betas=(0.5, 0.999))

batch = 32
t = torch.arange(batch * 16, dtype=torch.float32).view(batch, 16)
real = torch.sin(t * 0.05) * 0.8          # "real" 4x4 images: smooth waves
fixed_noise = torch.cos(torch.arange(batch * 4, dtype=torch.float32).view(batch, 4) * 1.7)
real_label, fake_label = 1.0, 0.0

for step in range(30):
    noise = torch.cos(torch.arange(batch * 4, dtype=torch.float32).view(batch, 4) * (0.3 + step * 0.11))
    # (1) update D: maximize log(D(x)) + log(1 - D(G(z)))
    discriminator.zero_grad()
    label = torch.full((batch,), real_label)
    output = discriminator(real).view(-1)
    err_d_real = criterion(output, label)
    err_d_real.backward()
    d_x = torch.sigmoid(output).mean().item()
    fake = generator(noise)
    label.fill_(fake_label)
    output = discriminator(fake.detach()).view(-1)
    err_d_fake = criterion(output, label)
    err_d_fake.backward()
    d_g_z1 = torch.sigmoid(output).mean().item()
    err_d = err_d_real + err_d_fake
    opt_d.step()
    # (2) update G: maximize log(D(G(z)))
    generator.zero_grad()
    label.fill_(real_label)
    output = discriminator(fake).view(-1)
    err_g = criterion(output, label)
    err_g.backward()
    d_g_z2 = torch.sigmoid(output).mean().item()
    opt_g.step()
    if step % 5 == 0:
        print(f"[{step}/30] Loss_D: {err_d.item():.4f} Loss_G: {err_g.item():.4f} "
              f"D(x): {d_x:.4f} D(G(z)): {d_g_z1:.4f} / {d_g_z2:.4f}")

print(fake.requires_grad, fake.detach().requires_grad, fake.grad_fn.name(), err_d.grad_fn)
with torch.no_grad():
    samples = generator(fixed_noise).view(-1, 1, 4, 4)
print(samples.shape, samples.min().item() >= -1, samples.max().item() <= 1)
print(samples[0, 0])
