"""The 60-minute blitz, part 3: the LeNet Net, a loss, its graph, and one SGD step."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim


class Net(nn.Module):

    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(-1, self.num_flat_features(x))
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x

    def num_flat_features(self, x):
        size = x.size()[1:]
        num_features = 1
        for s in size:
            num_features *= s
        return num_features


def init_weights(m):
    """Deterministic weights (the same on any library): a scaled sine wave per layer."""
    if isinstance(m, (nn.Conv2d, nn.Linear)):
        with torch.no_grad():
            fan_in = m.weight[0].numel()
            wave = torch.sin(torch.arange(m.weight.numel(), dtype=torch.float32) * 0.7)
            m.weight.copy_(wave.reshape(m.weight.shape) / math.sqrt(fan_in))
            m.bias.fill_(0.01)


net = Net()
print(net)
net.apply(init_weights)
params = list(net.parameters())
print(len(params))
print(params[0].size())
input = torch.cos(torch.arange(32 * 32, dtype=torch.float32)).reshape(1, 1, 32, 32)
out = net(input)
print(out)
net.zero_grad()
out.backward(torch.ones(1, 10) * 0.1)
print(net.conv1.bias.grad)

output = net(input)
target = torch.arange(1, 11, dtype=torch.float32)
target = target.view(1, -1)
criterion = nn.MSELoss()
loss = criterion(output, target)
print(loss)
print(loss.grad_fn)
print(loss.grad_fn.next_functions[0][0])
print(loss.grad_fn.next_functions[0][0].next_functions[0][0])

net.zero_grad()
print('conv1.bias.grad before backward')
print(net.conv1.bias.grad)
loss.backward()
print('conv1.bias.grad after backward')
print(net.conv1.bias.grad)

learning_rate = 0.01
for f in net.parameters():
    f.data.sub_(f.grad.data * learning_rate)

optimizer = optim.SGD(net.parameters(), lr=0.01)
for step in range(5):
    optimizer.zero_grad()
    output = net(input)
    loss = criterion(output, target)
    loss.backward()
    optimizer.step()
    print(step, loss.item())
print(net(input).detach().numpy().round(4))
