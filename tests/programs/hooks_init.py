"""Looking inside a model: hooks, named modules and parameters, init with apply(), freezing layers."""
import torch
import torch.nn as nn


class SmallCNN(nn.Module):
    def __init__(self, num_classes=5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 4, kernel_size=3, padding=1), nn.BatchNorm2d(4), nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(4, 8, kernel_size=3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d((2, 2)))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.25), nn.Linear(32, 16), nn.ReLU(),
                                        nn.Linear(16, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


def init_fn(m):
    if isinstance(m, (nn.Conv2d, nn.Linear)):
        nn.init.xavier_uniform_(m.weight)
        nn.init.zeros_(m.bias)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.ones_(m.weight)
        nn.init.constant_(m.bias, 0.1)


torch.manual_seed(0)
model = SmallCNN()
print(model)
model.apply(init_fn)
for name, module in model.named_modules():
    print(repr(name), type(module).__name__)
total = sum(p.numel() for p in model.parameters())
trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
print(f"parameters: {total} (trainable {trainable})")
for name, p in model.named_parameters():
    print(name, tuple(p.shape), p.dtype, p.requires_grad)
for name, b in model.named_buffers():
    print(name, b.shape, b.dtype)
print(list(model.state_dict().keys()))
print([name for name, _ in model.named_children()])

lin = model.classifier[2]
bound = (6.0 / (lin.in_features + lin.out_features)) ** 0.5
print("xavier bound", round(bound, 6), bool(lin.weight.abs().max() <= bound), bool((lin.bias == 0).all()))
print(model.features[1].weight, model.features[1].bias)

# deterministic weights from here on, so both libraries compute the same numbers
with torch.no_grad():
    for p in model.parameters():
        if p.dim() > 1:
            p.copy_(torch.cos(torch.arange(p.numel(), dtype=torch.float32) * 1.3).reshape(p.shape) * 0.3)

activations = {}


def get_activation(name):
    def hook(module, inputs, output):
        activations[name] = output.detach()
    return hook


handles = [model.features[2].register_forward_hook(get_activation('relu1')),
           model.features[6].register_forward_hook(get_activation('pool')),
           model.classifier[4].register_forward_hook(get_activation('logits'))]
pre_shapes = []
handles.append(model.classifier.register_forward_pre_hook(lambda m, inp: pre_shapes.append(tuple(inp[0].shape))))
x = torch.sin(torch.arange(2 * 1 * 8 * 8, dtype=torch.float32)).reshape(2, 1, 8, 8)
model.eval()
out = model(x)
for k, v in activations.items():
    print(k, tuple(v.shape), round(v.mean().item(), 5), round(v.abs().max().item(), 5))
print(pre_shapes, out)
for h in handles:
    h.remove()
activations.clear()
model(x)
print("after remove:", len(activations))

# freeze the feature extractor, fine-tune the classifier
for p in model.features.parameters():
    p.requires_grad_(False)
trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
print("trainable after freezing", trainable)
optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.1, momentum=0.9)
frozen_before = model.features[0].weight.clone()
head_before = model.classifier[4].weight.clone()
model.train()
model.classifier[1].p = 0.0  # no dropout: the same numbers on both libraries
target = torch.tensor([1, 3])
for step in range(3):
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(x), target)
    loss.backward()
    optimizer.step()
    print(step, round(loss.item(), 6), model.features[0].weight.grad is None)
print(torch.equal(frozen_before, model.features[0].weight), torch.equal(head_before, model.classifier[4].weight))
print(model.features[1].running_mean, model.features[1].num_batches_tracked)
