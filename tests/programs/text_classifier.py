"""A bag-of-words text classifier (nn.EmbeddingBag with offsets), a checkpoint dict and resuming from it."""
import os
import tempfile

import torch
from torch import nn
from torch.utils.data import DataLoader

CORPUS = [
    (0, "the team won the match in the final minute"), (1, "stocks fell as markets reacted to the rate news"),
    (2, "the new phone has a faster chip and a better camera"), (0, "the striker scored twice in the derby"),
    (1, "the central bank raised interest rates again"), (2, "a software update fixes the battery bug"),
    (0, "the coach praised the defence after the win"), (1, "investors sold shares after weak earnings"),
    (2, "researchers unveiled a chip for machine learning"), (0, "fans cheered as the team lifted the cup"),
    (1, "the market rallied on strong earnings news"), (2, "the camera app gets a night mode update"),
]
tokenizer = str.split
vocab = {"<unk>": 0}
for _, text in CORPUS:
    for tok in tokenizer(text):
        vocab.setdefault(tok, len(vocab))
text_pipeline = lambda x: [vocab.get(tok, 0) for tok in tokenizer(x)]
print(len(vocab), text_pipeline("the team scored a goal"))


def collate_batch(batch):
    label_list, text_list, offsets = [], [], [0]
    for _label, _text in batch:
        label_list.append(_label)
        processed_text = torch.tensor(text_pipeline(_text), dtype=torch.int64)
        text_list.append(processed_text)
        offsets.append(processed_text.size(0))
    label_list = torch.tensor(label_list, dtype=torch.int64)
    offsets = torch.tensor(offsets[:-1]).cumsum(dim=0)
    text_list = torch.cat(text_list)
    return label_list, text_list, offsets


class TextClassificationModel(nn.Module):
    def __init__(self, vocab_size, embed_dim, num_class):
        super(TextClassificationModel, self).__init__()
        self.embedding = nn.EmbeddingBag(vocab_size, embed_dim, sparse=False)
        self.fc = nn.Linear(embed_dim, num_class)
        self.init_weights()

    def init_weights(self):
        # deterministic (library-independent) weights in [-0.5, 0.5]
        with torch.no_grad():
            e = self.embedding.weight
            self.embedding.weight.copy_(torch.sin(torch.arange(e.numel(), dtype=torch.float32)).view_as(e) * 0.5)
            self.fc.weight.copy_(torch.cos(torch.arange(self.fc.weight.numel(), dtype=torch.float32)).view_as(self.fc.weight) * 0.5)
        self.fc.bias.data.zero_()

    def forward(self, text, offsets):
        embedded = self.embedding(text, offsets)
        return self.fc(embedded)


dataloader = DataLoader(CORPUS, batch_size=4, shuffle=False, collate_fn=collate_batch)
label, text, offsets = next(iter(dataloader))
print(label, text.shape, offsets)
model = TextClassificationModel(len(vocab), 8, 3)
print(model)
criterion = torch.nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=5)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.1)


def train_epoch(model, optimizer):
    model.train()
    total_acc, total_count, total_loss = 0, 0, 0.0
    for label, text, offsets in dataloader:
        optimizer.zero_grad()
        predicted_label = model(text, offsets)
        loss = criterion(predicted_label, label)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        optimizer.step()
        total_acc += (predicted_label.argmax(1) == label).sum().item()
        total_count += label.size(0)
        total_loss += loss.item()
    return total_acc / total_count, total_loss / len(dataloader), norm


for epoch in range(1, 4):
    acc, loss, norm = train_epoch(model, optimizer)
    print(f"| epoch {epoch:3d} | accuracy {acc:8.3f} | loss {loss:.6f} | last grad norm {norm:.5f} | lr {scheduler.get_last_lr()[0]:.4f}")
    scheduler.step()

path = os.path.join(tempfile.mkdtemp(), "checkpoint.pt")
torch.save({'epoch': epoch, 'model_state_dict': model.state_dict(),
            'optimizer_state_dict': optimizer.state_dict(), 'loss': loss}, path)
checkpoint = torch.load(path)
print(sorted(checkpoint), checkpoint['epoch'], round(checkpoint['loss'], 6))
print(checkpoint['optimizer_state_dict']['param_groups'][0]['lr'], list(checkpoint['model_state_dict'].keys()))

resumed = TextClassificationModel(len(vocab), 8, 3)
resumed_opt = torch.optim.SGD(resumed.parameters(), lr=5)
resumed.load_state_dict(checkpoint['model_state_dict'])
resumed_opt.load_state_dict(checkpoint['optimizer_state_dict'])
start = checkpoint['epoch'] + 1
print(resumed_opt.param_groups[0]['lr'], start)
for epoch in range(start, start + 2):
    acc_a, loss_a, _ = train_epoch(model, optimizer)
    acc_b, loss_b, _ = train_epoch(resumed, resumed_opt)
    print(epoch, acc_a == acc_b, loss_a == loss_b, f"{loss_b:.6f}")

model.eval()
with torch.no_grad():
    for sentence in ("the team won the cup", "rates and earnings hit the market", "a faster camera chip"):
        logits = model(torch.tensor(text_pipeline(sentence)), torch.tensor([0]))
        print(sentence, "->", logits.argmax(1).item(), logits.softmax(1).numpy().round(3))
    bag = nn.EmbeddingBag.from_pretrained(torch.arange(12.0).view(4, 3), mode='sum')
    print(bag(torch.tensor([[0, 1], [2, 3]])), bag(torch.tensor([1, 2, 3]), torch.tensor([0, 1])))
    bag_max = nn.EmbeddingBag(4, 3, mode='max')
    bag_max.weight.copy_(torch.arange(12.0).view(4, 3).flip(0))
    print(bag_max(torch.tensor([0, 2, 1, 3]), torch.tensor([0, 2])), bag_max)
