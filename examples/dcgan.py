"""A small DCGAN on torchvision's FakeData, written as a plain PyTorch + torchvision program.

It has the shape of the official PyTorch DCGAN example: a generator of transposed convolutions
(noise [B, nz, 1, 1] -> 4x4 -> ... -> image, BatchNorm + ReLU between, Tanh at the end), a
discriminator of strided convolutions (LeakyReLU(0.2), BatchNorm, Sigmoid at the end), weights drawn
from N(0, 0.02) as the DCGAN paper asks, BCELoss, and Adam(lr=0.0002, betas=(0.5, 0.999)) for both.
Each step trains the discriminator on a real and a fake batch, then the generator to fool it. Image
grids of the real batch and of the generator's output for a fixed noise are saved with
torchvision.utils.save_image.

    glasstorch run examples/dcgan.py --epochs 1 --outf results/dcgan
    glasstorch run examples/dcgan.py --dry-run               # a few batches, for a quick check
    python examples/dcgan.py --dry-run                       # on PyTorch, with torchvision installed

FakeData's images are random noise, so this shows the program runs and both players learn, not
pictures worth looking at; point the dataset at real images for that.
"""
import argparse
import math
import os

import torch
import torch.nn as nn
import torch.optim as optim
import torch.utils.data
import torchvision.datasets as dset
import torchvision.transforms as transforms
import torchvision.utils as vutils


def weights_init(m):
    """DCGAN's initialisation: convolutions N(0, 0.02); batch norm scale N(1, 0.02), shift 0."""
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def levels(image_size):
    """How many resolutions lie between 4x4 and the image (4x4 included): 3 for 32x32, 4 for 64x64."""
    return int(math.log2(image_size)) - 2


class Generator(nn.Module):
    """[B, nz, 1, 1] noise -> [B, nc, S, S] images in [-1, 1]; channels halve as the resolution doubles."""

    def __init__(self, nz, ngf, nc, image_size):
        super().__init__()
        n = levels(image_size)
        layers = [nn.ConvTranspose2d(nz, ngf * 2 ** (n - 1), 4, 1, 0, bias=False),  # -> 4x4
                  nn.BatchNorm2d(ngf * 2 ** (n - 1)), nn.ReLU(True)]
        for i in range(n - 1, 0, -1):  # each step doubles the side
            layers += [nn.ConvTranspose2d(ngf * 2 ** i, ngf * 2 ** (i - 1), 4, 2, 1, bias=False),
                       nn.BatchNorm2d(ngf * 2 ** (i - 1)), nn.ReLU(True)]
        layers += [nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh()]  # -> S x S
        self.main = nn.Sequential(*layers)

    def forward(self, z):
        return self.main(z)


class Discriminator(nn.Module):
    """[B, nc, S, S] images -> [B] probabilities of being real; the generator's mirror image."""

    def __init__(self, nc, ndf, image_size):
        super().__init__()
        n = levels(image_size)
        layers = [nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]  # -> S/2
        for i in range(n - 1):  # each step halves the side, down to 4x4
            layers += [nn.Conv2d(ndf * 2 ** i, ndf * 2 ** (i + 1), 4, 2, 1, bias=False),
                       nn.BatchNorm2d(ndf * 2 ** (i + 1)), nn.LeakyReLU(0.2, inplace=True)]
        layers += [nn.Conv2d(ndf * 2 ** (n - 1), 1, 4, 1, 0, bias=False), nn.Sigmoid()]  # -> 1x1
        self.main = nn.Sequential(*layers)

    def forward(self, x):
        return self.main(x).view(-1, 1).squeeze(1)


def main():
    parser = argparse.ArgumentParser(description="DCGAN on FakeData")
    parser.add_argument("--batch-size", type=int, default=64, help="input batch size (default: 64)")
    parser.add_argument("--image-size", type=int, default=32, choices=(32, 64),
                        help="height and width of the images (default: 32)")
    parser.add_argument("--fake-size", type=int, default=1024, help="images in the FakeData set (default: 1024)")
    parser.add_argument("--nz", type=int, default=100, help="size of the latent z vector (default: 100)")
    parser.add_argument("--ngf", type=int, default=32, help="generator width (default: 32)")
    parser.add_argument("--ndf", type=int, default=32, help="discriminator width (default: 32)")
    parser.add_argument("--epochs", type=int, default=5, help="number of epochs to train for (default: 5)")
    parser.add_argument("--batches", type=int, default=0, help="stop each epoch after N batches (default: all)")
    parser.add_argument("--lr", type=float, default=0.0002, help="learning rate (default: 0.0002)")
    parser.add_argument("--beta1", type=float, default=0.5, help="Adam's beta1 (default: 0.5)")
    parser.add_argument("--dry-run", action="store_true", help="check a single pass: 1 epoch of 3 batches")
    parser.add_argument("--no-accel", action="store_true", help="disables accelerator")
    parser.add_argument("--seed", type=int, default=999, help="random seed (default: 999)")
    parser.add_argument("--outf", default="results", help="folder to output images into (default: results)")
    parser.add_argument("--log-interval", type=int, default=1, help="batches between log lines (default: 1)")
    args = parser.parse_args()
    if args.dry_run:
        args.epochs, args.batches = 1, args.batches or 3

    os.makedirs(args.outf, exist_ok=True)
    torch.manual_seed(args.seed)
    use_accel = not args.no_accel and torch.accelerator.is_available()
    device = torch.accelerator.current_accelerator() if use_accel else torch.device("cpu")

    nc = 3
    dataset = dset.FakeData(size=args.fake_size, image_size=(nc, args.image_size, args.image_size),
                            transform=transforms.Compose([
                                transforms.ToTensor(),
                                transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),  # [0, 1] -> Tanh's [-1, 1]
                            ]))
    dataloader = torch.utils.data.DataLoader(dataset, batch_size=args.batch_size, shuffle=True, drop_last=True)

    netG = Generator(args.nz, args.ngf, nc, args.image_size).to(device)
    netG.apply(weights_init)
    netD = Discriminator(nc, args.ndf, args.image_size).to(device)
    netD.apply(weights_init)
    print(netG)
    print(netD)

    criterion = nn.BCELoss()
    fixed_noise = torch.randn(args.batch_size, args.nz, 1, 1, device=device)
    real_label, fake_label = 1.0, 0.0
    optimizerD = optim.Adam(netD.parameters(), lr=args.lr, betas=(args.beta1, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=args.lr, betas=(args.beta1, 0.999))

    for epoch in range(args.epochs):
        for i, (real_cpu, _) in enumerate(dataloader):
            # (1) the discriminator: maximize log(D(x)) + log(1 - D(G(z)))
            netD.zero_grad()
            real = real_cpu.to(device)
            batch_size = real.size(0)
            label = torch.full((batch_size,), real_label, dtype=real.dtype, device=device)
            output = netD(real)
            errD_real = criterion(output, label)
            errD_real.backward()
            D_x = output.mean().item()

            noise = torch.randn(batch_size, args.nz, 1, 1, device=device)
            fake = netG(noise)
            label.fill_(fake_label)
            output = netD(fake.detach())  # no gradient into the generator on this pass
            errD_fake = criterion(output, label)
            errD_fake.backward()
            D_G_z1 = output.mean().item()
            errD = errD_real + errD_fake
            optimizerD.step()

            # (2) the generator: maximize log(D(G(z))), i.e. call its fakes real
            netG.zero_grad()
            label.fill_(real_label)
            output = netD(fake)
            errG = criterion(output, label)
            errG.backward()
            D_G_z2 = output.mean().item()
            optimizerG.step()

            if i % args.log_interval == 0:
                print(f"[{epoch}/{args.epochs}][{i}/{len(dataloader)}] Loss_D: {errD.item():.4f} "
                      f"Loss_G: {errG.item():.4f} D(x): {D_x:.4f} D(G(z)): {D_G_z1:.4f} / {D_G_z2:.4f}", flush=True)
            if args.batches and i + 1 >= args.batches:
                break
        vutils.save_image(real_cpu, os.path.join(args.outf, "real_samples.png"), normalize=True)
        with torch.no_grad():
            fake = netG(fixed_noise)
        vutils.save_image(fake.detach(), os.path.join(args.outf, f"fake_samples_epoch_{epoch:03d}.png"),
                          normalize=True)


if __name__ == "__main__":
    main()
