"""A character-level GPT, written the way the well-known from-scratch lecture writes it, in plain PyTorch.

Token and position embeddings, blocks of multi-head causal self-attention (each head masks its scores
with a registered lower-triangular buffer) and a feed-forward layer, each behind a LayerNorm with a
residual connection and Dropout; AdamW; text sampled with torch.multinomial. It trains on the short
text below (a few verses, shipped with the example so it needs no download):

    glasstorch run examples/char_gpt.py                 # on glasstorch
    python examples/char_gpt.py                         # the same program on PyTorch
    glasstorch run examples/char_gpt.py --fast          # a few seconds

The last line printed is `final loss: X`, the mean cross-entropy over every block of the text in eval
mode (deterministic, so two libraries with different random streams can be compared on it).
"""
import argparse

import torch
import torch.nn as nn
from torch.nn import functional as F

TEXT = """\
The quick brown fox jumps over the lazy dog. The lazy dog sleeps in the sun.
A small cat sat on the mat and watched the fox run over the hill and far away.
The sun is warm, the hill is green, the fox is quick and the dog is slow.
Over the hill and under the tree the small cat waits for the quick brown fox.
"""


class Head(nn.Module):
    """One head of causal self-attention: (B, T, C) -> (B, T, head_size)."""

    def __init__(self, n_embd, head_size, block_size, dropout):
        super().__init__()
        self.key = nn.Linear(n_embd, head_size, bias=False)
        self.query = nn.Linear(n_embd, head_size, bias=False)
        self.value = nn.Linear(n_embd, head_size, bias=False)
        self.register_buffer("tril", torch.tril(torch.ones(block_size, block_size)))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        B, T, C = x.shape
        k = self.key(x)
        q = self.query(x)
        wei = q @ k.transpose(-2, -1) * k.shape[-1] ** -0.5  # (B, T, T) attention scores
        wei = wei.masked_fill(self.tril[:T, :T] == 0, float("-inf"))  # no look at the future
        wei = F.softmax(wei, dim=-1)
        wei = self.dropout(wei)
        return wei @ self.value(x)


class MultiHeadAttention(nn.Module):
    def __init__(self, n_embd, num_heads, head_size, block_size, dropout):
        super().__init__()
        self.heads = nn.ModuleList([Head(n_embd, head_size, block_size, dropout) for _ in range(num_heads)])
        self.proj = nn.Linear(head_size * num_heads, n_embd)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        out = torch.cat([h(x) for h in self.heads], dim=-1)
        return self.dropout(self.proj(out))


class FeedForward(nn.Module):
    def __init__(self, n_embd, dropout):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.ReLU(), nn.Linear(4 * n_embd, n_embd),
                                 nn.Dropout(dropout))

    def forward(self, x):
        return self.net(x)


class Block(nn.Module):
    """Communication (attention) then computation (feed-forward), pre-norm with residuals."""

    def __init__(self, n_embd, n_head, block_size, dropout):
        super().__init__()
        self.sa = MultiHeadAttention(n_embd, n_head, n_embd // n_head, block_size, dropout)
        self.ffwd = FeedForward(n_embd, dropout)
        self.ln1 = nn.LayerNorm(n_embd)
        self.ln2 = nn.LayerNorm(n_embd)

    def forward(self, x):
        x = x + self.sa(self.ln1(x))
        return x + self.ffwd(self.ln2(x))


class GPTLanguageModel(nn.Module):
    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size, dropout):
        super().__init__()
        self.block_size = block_size
        self.token_embedding_table = nn.Embedding(vocab_size, n_embd)
        self.position_embedding_table = nn.Embedding(block_size, n_embd)
        self.blocks = nn.Sequential(*[Block(n_embd, n_head, block_size, dropout) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)
        self.lm_head = nn.Linear(n_embd, vocab_size)

    def forward(self, idx, targets=None):
        B, T = idx.shape
        tok_emb = self.token_embedding_table(idx)  # (B, T, C)
        pos_emb = self.position_embedding_table(torch.arange(T))  # (T, C)
        x = self.blocks(tok_emb + pos_emb)
        logits = self.lm_head(self.ln_f(x))  # (B, T, vocab_size)
        if targets is None:
            return logits, None
        B, T, C = logits.shape
        loss = F.cross_entropy(logits.view(B * T, C), targets.view(B * T))
        return logits, loss

    def generate(self, idx, max_new_tokens):
        for _ in range(max_new_tokens):
            logits, _ = self(idx[:, -self.block_size:])
            probs = F.softmax(logits[:, -1, :], dim=-1)
            idx_next = torch.multinomial(probs, num_samples=1)
            idx = torch.cat((idx, idx_next), dim=1)
        return idx


def get_batch(data, block_size, batch_size):
    ix = torch.randint(len(data) - block_size, (batch_size,))
    x = torch.stack([data[i:i + block_size] for i in ix])
    y = torch.stack([data[i + 1:i + block_size + 1] for i in ix])
    return x, y


@torch.no_grad()
def full_loss(model, data, block_size):
    """Mean loss over every block of the text (all start positions), in eval mode."""
    model.eval()
    starts = range(len(data) - block_size)
    x = torch.stack([data[i:i + block_size] for i in starts])
    y = torch.stack([data[i + 1:i + block_size + 1] for i in starts])
    _, loss = model(x, y)
    model.train()
    return loss.item()


FAST = dict(steps=300, batch_size=64, block_size=16, n_embd=32, n_layer=2, dropout=0.0, eval_interval=100)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--block-size", type=int, default=32)
    parser.add_argument("--n-embd", type=int, default=64)
    parser.add_argument("--n-head", type=int, default=4)
    parser.add_argument("--n-layer", type=int, default=3)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--eval-interval", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1337)
    parser.add_argument("--fast", action="store_true", help="a small model for a few seconds")
    # --fast: a small model, no dropout and larger batches, so a short run's loss is steady across seeds
    parser.set_defaults(**FAST if parser.parse_known_args(argv)[0].fast else {})
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    chars = sorted(set(TEXT))
    stoi = {ch: i for i, ch in enumerate(chars)}
    itos = {i: ch for i, ch in enumerate(chars)}
    data = torch.tensor([stoi[c] for c in TEXT], dtype=torch.long)

    model = GPTLanguageModel(len(chars), args.n_embd, args.n_head, args.n_layer, args.block_size, args.dropout)
    print(f"{sum(p.numel() for p in model.parameters())} parameters")
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr)
    for step in range(args.steps):
        if step % args.eval_interval == 0:
            print(f"step {step}: loss {full_loss(model, data, args.block_size):.4f}")
        xb, yb = get_batch(data, args.block_size, args.batch_size)
        _, loss = model(xb, yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    model.eval()
    context = torch.tensor([[stoi["T"]]], dtype=torch.long)
    print("".join(itos[i] for i in model.generate(context, max_new_tokens=80)[0].tolist()))
    final = full_loss(model, data, args.block_size)
    print(f"final loss: {final:.4f}")
    return final


if __name__ == "__main__":
    main()
