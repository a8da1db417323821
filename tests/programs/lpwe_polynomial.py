"""'Learning PyTorch with Examples': fit sin(x) on [-pi, pi] with a cubic, five ways."""
import math
import random

import torch


class LegendrePolynomial3(torch.autograd.Function):
    """P3(x) = 1/2 (5x^3 - 3x), with a hand-written backward."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)
    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


class DynamicNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        for name, value in zip("abcde", (0.1, 0.2, -0.1, 0.05, 0.01)):
            setattr(self, name, torch.nn.Parameter(torch.tensor(value)))

    def forward(self, x):
        y = self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3
        for exp in range(4, random.randint(4, 6)):  # 4th and maybe 5th order terms, reusing e
            y = y + self.e * x ** exp
        return y

    def string(self):
        return (f'y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + {self.d.item()} x^3 + '
                f'{self.e.item()} x^4 ? + {self.e.item()} x^5 ?')


dtype, device = torch.float, torch.device("cpu")
x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
y = torch.sin(x)

# 1. tensors, gradients by hand
a, b, c, d = (torch.tensor(v, device=device, dtype=dtype) for v in (0.1, 0.2, -0.1, 0.05))
learning_rate = 1e-6
for t in range(2000):
    y_pred = a + b * x + c * x ** 2 + d * x ** 3
    loss = (y_pred - y).pow(2).sum().item()
    if t % 500 == 99:
        print(t, loss)
    grad_y_pred = 2.0 * (y_pred - y)
    a, b = a - learning_rate * grad_y_pred.sum(), b - learning_rate * (grad_y_pred * x).sum()
    c, d = c - learning_rate * (grad_y_pred * x ** 2).sum(), d - learning_rate * (grad_y_pred * x ** 3).sum()
print(f'Result: y = {a.item()} + {b.item()} x + {c.item()} x^2 + {d.item()} x^3')

# 2. autograd + a custom Function
a, b, c, d = (torch.full((), v, device=device, dtype=dtype, requires_grad=True) for v in (0.0, -1.0, 0.0, 0.3))
learning_rate = 5e-6
for t in range(2000):
    P3 = LegendrePolynomial3.apply
    y_pred = a + b * P3(c + d * x)
    loss = (y_pred - y).pow(2).sum()
    if t % 500 == 99:
        print(t, loss.item())
    loss.backward()
    with torch.no_grad():
        for p in (a, b, c, d):
            p -= learning_rate * p.grad
            p.grad = None
print(f'Result: y = {a.item()} + {b.item()} * P3({c.item()} + {d.item()} x)')
print(y_pred.grad_fn.__class__.__name__, loss.grad_fn)

# 3. nn.Sequential + nn.Flatten, manual SGD on parameters
p = torch.tensor([1, 2, 3])
xx = x.unsqueeze(-1).pow(p)
print(xx.shape, xx.dtype)
model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
start = lambda m: (m[0].weight.data.copy_(torch.tensor([[0.1, -0.05, 0.02]])), m[0].bias.data.fill_(0.0))
start(model)
loss_fn = torch.nn.MSELoss(reduction='sum')
for t in range(2000):
    y_pred = model(xx)
    loss = loss_fn(y_pred, y)
    if t % 500 == 99:
        print(t, loss.item())
    model.zero_grad()
    loss.backward()
    with torch.no_grad():
        for param in model.parameters():
            param -= 1e-6 * param.grad
linear_layer = model[0]
result = lambda l: f'Result: y = {l.bias.item()} + {" + ".join(f"{w} x^{i + 1}" for i, w in enumerate(l.weight[0].tolist()))}'
print(result(linear_layer))

# 4. the same with optim.RMSprop
start(model)
optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)
for t in range(2000):
    loss = loss_fn(model(xx), y)
    if t % 500 == 99:
        print('RMSprop', t, loss.item())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print('RMSprop', result(linear_layer))
print(optimizer)

# 5. dynamic control flow: a random number of layers, reusing one weight
random.seed(0)
model = DynamicNet()
criterion = torch.nn.MSELoss(reduction='sum')
optimizer = torch.optim.SGD(model.parameters(), lr=1e-8, momentum=0.9)
for t in range(3000):
    loss = criterion(model(x), y)
    if t % 1000 == 999:
        print(t, loss.item())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print(f'Result: {model.string()}')
