"""A variational auto-encoder on MNIST, written as a plain PyTorch + torchvision program.

It has the shape of the official PyTorch VAE example: an encoder 784 -> 400 -> (mu, logvar) of 20
numbers each, a sample z = mu + eps * exp(logvar / 2) (the reparameterisation trick, so gradients
reach mu and logvar through a draw), a decoder 20 -> 400 -> 784 with a sigmoid, and the loss
binary cross-entropy + KL divergence from N(0, I), trained with Adam(lr=1e-3). After every epoch it
saves reconstructions of test images and decodings of random z as image grids:

    glasstorch run examples/vae.py --epochs 1 --results results/vae
    glasstorch run examples/vae.py --dry-run                 # a few batches, for a quick check
    python examples/vae.py --epochs 1                         # on PyTorch, with torchvision installed

MNIST is read from ../data (torchvision's layout, downloaded there if missing); under glasstorch a
verified copy in $GLASSTORCH_DATA is found as well.
"""
import argparse
import os

import torch
import torch.utils.data
from torch import nn, optim
from torch.nn import functional as F
from torchvision import datasets, transforms
from torchvision.utils import save_image


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)  # mu
        self.fc22 = nn.Linear(400, 20)  # log variance
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)  # the randomness is an input: z is differentiable in mu and logvar
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    """Reconstruction + KL divergence, summed over the batch.

    KL(N(mu, sigma^2) || N(0, 1)) = -1/2 * sum(1 + log(sigma^2) - mu^2 - sigma^2)  (Kingma & Welling, appendix B)
    """
    bce = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def train(args, model, device, train_loader, optimizer, epoch):
    model.train()
    train_loss, seen = 0.0, 0
    for batch_idx, (data, _) in enumerate(train_loader):
        data = data.to(device)
        optimizer.zero_grad()
        recon_batch, mu, logvar = model(data)
        loss = loss_function(recon_batch, data, mu, logvar)
        loss.backward()
        train_loss += loss.item()
        seen += len(data)
        optimizer.step()
        if batch_idx % args.log_interval == 0:
            print(f"Train Epoch: {epoch} [{batch_idx * len(data)}/{len(train_loader.dataset)} "
                  f"({100.0 * batch_idx / len(train_loader):.0f}%)]\tLoss: {loss.item() / len(data):.6f}", flush=True)
        if args.batches and batch_idx + 1 >= args.batches:
            break
    print(f"====> Epoch: {epoch} Average loss: {train_loss / seen:.4f}", flush=True)


def test(args, model, device, test_loader, epoch):
    model.eval()
    test_loss, seen = 0.0, 0
    with torch.no_grad():
        for i, (data, _) in enumerate(test_loader):
            data = data.to(device)
            recon_batch, mu, logvar = model(data)
            test_loss += loss_function(recon_batch, data, mu, logvar).item()
            seen += len(data)
            if i == 0:  # the first 8 test images above their reconstructions
                n = min(data.size(0), 8)
                comparison = torch.cat([data[:n], recon_batch.view(-1, 1, 28, 28)[:n]])
                save_image(comparison.cpu(), os.path.join(args.results, f"reconstruction_{epoch}.png"), nrow=n)
            if args.batches and i + 1 >= args.batches:
                break
    print(f"====> Test set loss: {test_loss / seen:.4f}", flush=True)


def main():
    parser = argparse.ArgumentParser(description="VAE MNIST Example")
    parser.add_argument("--batch-size", type=int, default=128, metavar="N",
                        help="input batch size for training (default: 128)")
    parser.add_argument("--epochs", type=int, default=10, metavar="N",
                        help="number of epochs to train (default: 10)")
    parser.add_argument("--batches", type=int, default=0, metavar="N",
                        help="stop each epoch's training and testing after N batches (default: all)")
    parser.add_argument("--dry-run", action="store_true",
                        help="quickly check a single pass: 1 epoch of 20 batches")
    parser.add_argument("--no-accel", action="store_true",
                        help="disables accelerator")
    parser.add_argument("--seed", type=int, default=1, metavar="S",
                        help="random seed (default: 1)")
    parser.add_argument("--log-interval", type=int, default=10, metavar="N",
                        help="how many batches to wait before logging training status")
    parser.add_argument("--results", default="results", metavar="DIR",
                        help="folder for the image grids (default: results)")
    args = parser.parse_args()
    if args.dry_run:
        args.epochs, args.batches = 1, args.batches or 20

    use_accel = not args.no_accel and torch.accelerator.is_available()
    torch.manual_seed(args.seed)
    device = torch.accelerator.current_accelerator() if use_accel else torch.device("cpu")
    kwargs = {"num_workers": 1, "pin_memory": True} if use_accel else {}
    os.makedirs(args.results, exist_ok=True)

    train_loader = torch.utils.data.DataLoader(
        datasets.MNIST("../data", train=True, download=True, transform=transforms.ToTensor()),
        batch_size=args.batch_size, shuffle=True, **kwargs)
    test_loader = torch.utils.data.DataLoader(
        datasets.MNIST("../data", train=False, transform=transforms.ToTensor()),
        batch_size=args.batch_size, shuffle=False, **kwargs)

    model = VAE().to(device)
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(1, args.epochs + 1):
        train(args, model, device, train_loader, optimizer, epoch)
        test(args, model, device, test_loader, epoch)
        with torch.no_grad():  # decode 64 draws from the prior
            sample = model.decode(torch.randn(64, 20).to(device)).cpu()
            save_image(sample.view(64, 1, 28, 28), os.path.join(args.results, f"sample_{epoch}.png"))


if __name__ == "__main__":
    main()
