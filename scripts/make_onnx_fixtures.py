#!/usr/bin/python3
"""ONNX fixtures for tests/nn/tst_onnx_graph.cpp, written by PyTorch's own exporter (torch.onnx.export).

Run with Debian's interpreter (python3-torch, python3-onnx, python3-numpy):
    /usr/bin/python3 scripts/make_onnx_fixtures.py
The outputs are committed (tests/data/onnx/), so CI needs neither PyTorch nor onnx. For each model M:
  M.onnx           the exported graph (dynamic batch), weights inside
  M_inputs.npy     8 inputs, float32, N x 1 x 28 x 28 (deterministic: seeded)
  M_outputs.npy    PyTorch's float32 outputs for them (eval mode)

Models (seeded PyTorch default initialisation; the batch-norm statistics are set to non-trivial values so
that folding them is tested):
  lenet5           LeNet-5 for 28x28: conv 5x5 no padding, average pooling, tanh in the classifier
  resnet_tiny      a small residual CNN: batch norm (exported unfolded: TrainingMode.PRESERVE), stride-2
                   convolutions, a 1x1 projection shortcut, average pooling with padding (exported as Pad +
                   AveragePool), global average pooling, softmax
  resnet_tiny_folded  the same network exported in eval mode, batch norm folded by the exporter
  lenet_300_100    the fully connected LeNet-300-100 (784-300-100-10, ReLU, log-softmax): a sequential model
  cnn_tiny         today's digit-CNN architecture (conv 3x3 pad 1, ReLU, max-pool 2, twice; Linear, ReLU,
                   Linear, log-softmax) with few channels: a sequential model
"""
import pathlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "onnx"
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


def randomise_batch_norm(model, generator):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.weight.data = 0.5 + torch.rand(c, generator=generator)
            m.bias.data = 0.2 * torch.randn(c, generator=generator)
            m.running_mean.data = 0.3 * torch.randn(c, generator=generator)
            m.running_var.data = 0.5 + torch.rand(c, generator=generator)


def export(name, model, training=torch.onnx.TrainingMode.EVAL):
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
    print(f"{path.name}: {path.stat().st_size} bytes")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(20)
    export("lenet5", LeNet5())
    resnet = ResNetTiny()
    randomise_batch_norm(resnet, torch.Generator().manual_seed(7))
    export("resnet_tiny", resnet, torch.onnx.TrainingMode.PRESERVE)
    export("resnet_tiny_folded", resnet)
    export("lenet_300_100", LeNet300100())
    export("cnn_tiny", CnnTiny())


if __name__ == "__main__":
    main()
