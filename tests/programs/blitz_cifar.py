"""The 60-minute blitz, part 4: train a classifier on CIFAR-shaped images (FakeData, no download)."""
import os
import tempfile

import numpy as np
import torch
import torchvision
import torchvision.transforms as transforms
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

torch.manual_seed(0)
transform = transforms.Compose(
    [transforms.ToTensor(),
     transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])
batch_size = 4
trainset = torchvision.datasets.FakeData(size=160, image_size=(3, 32, 32), num_classes=10, transform=transform)
trainloader = torch.utils.data.DataLoader(trainset, batch_size=batch_size, shuffle=True, num_workers=0)
testset = torchvision.datasets.FakeData(size=40, image_size=(3, 32, 32), num_classes=10, transform=transform,
                                        random_offset=1000)
testloader = torch.utils.data.DataLoader(testset, batch_size=batch_size, shuffle=False, num_workers=0)
classes = ('plane', 'car', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck')
print(len(trainset), len(trainloader), len(testloader))

dataiter = iter(trainloader)
images, labels = next(dataiter)
print(images.shape, images.dtype, labels.shape, labels.dtype)
print(bool(images.min() >= -1), bool(images.max() <= 1))
img, label = trainset[0]
print(type(img).__name__, img.shape, type(label).__name__)
grid = torchvision.utils.make_grid(images)
print(grid.shape)
img = grid / 2 + 0.5     # unnormalize, as imshow() does
npimg = img.numpy()
print(npimg.shape, npimg.dtype, bool(npimg.min() >= 0), bool(npimg.max() <= 1))
print(np.transpose(npimg, (1, 2, 0)).shape, npimg[:, :2, :3].tolist())
small = torch.linspace(-1, 1, 3 * 16).view(3, 1, 4, 4)
grid = torchvision.utils.make_grid(small, nrow=2, padding=1, normalize=True)
print(grid.shape, grid.dtype, grid.min().item(), grid.max().item())
print(grid[0, :6, :6])
grid2 = torchvision.utils.make_grid(small, nrow=8, padding=2, pad_value=0.5)
print(grid2.shape, grid2[0, 0, :3], torch.equal(grid2[:, 2:6, 2:6], small[0].expand(3, 4, 4)))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)  # flatten all dimensions except batch
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


net = Net()
print(net)
criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
for epoch in range(2):
    running_loss = 0.0
    for i, data in enumerate(trainloader, 0):
        inputs, labels = data
        optimizer.zero_grad()
        outputs = net(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
        if i % 20 == 19:
            print(f'[{epoch + 1}, {i + 1:5d}] loss: {running_loss / 20:.3f}')
            running_loss = 0.0
print('Finished Training')
PATH = os.path.join(tempfile.mkdtemp(), 'cifar_net.pth')
torch.save(net.state_dict(), PATH)
net2 = Net()
print(net2.load_state_dict(torch.load(PATH, weights_only=True)))
images, labels = next(iter(testloader))
print('GroundTruth: ', ' '.join(f'{classes[labels[j]]:5s}' for j in range(4)))
outputs = net2(images)
_, predicted = torch.max(outputs, 1)
print('Predicted: ', ' '.join(f'{classes[predicted[j]]:5s}' for j in range(4)))
print('same outputs after reload:', torch.equal(outputs, net(images)))

correct = 0
total = 0
with torch.no_grad():
    for data in testloader:
        images, labels = data
        outputs = net2(images)
        _, predicted = torch.max(outputs.data, 1)
        total += labels.size(0)
        correct += (predicted == labels).sum().item()
print(f'Accuracy of the network on the {total} test images: {100 * correct // total} %')

correct_pred, total_pred = ({classname: 0 for classname in classes} for _ in range(2))
with torch.no_grad():
    for data in testloader:
        images, labels = data
        outputs = net2(images)
        _, predictions = torch.max(outputs, 1)
        for label, prediction in zip(labels, predictions):
            if label == prediction:
                correct_pred[classes[label]] += 1
            total_pred[classes[label]] += 1
print(sum(total_pred.values()), sum(correct_pred.values()))
for classname, correct_count in correct_pred.items():
    accuracy = 100 * float(correct_count) / max(total_pred[classname], 1)
    print(f'Accuracy for class: {classname:5s} is {accuracy:.1f} %')
