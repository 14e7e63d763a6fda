#!/usr/bin/python3
"""A PyTorch CNN fixture for tests/nn/tst_cnn.cpp, written by the real torch.save.

Run with Debian's interpreter (python3-torch, python3-numpy):
    /usr/bin/python3 scripts/make_cnn_fixture.py
The outputs are committed (tests/data/weights/), so CI needs no PyTorch.

The architecture KernelScope reads from a state_dict with 4-D weights (core/nn/model_from_weights.cpp):
conv 3x3 padding 1 -> ReLU -> max-pool 2, twice, flatten, Linear, ReLU, Linear, log-softmax on
1x28x28 inputs; here with few channels so the fixture stays small:
  tiny_cnn.pt            torch.save(state_dict): conv1 1->2, conv2 2->4, fc1 196->8, fc2 8->10, float32
  tiny_cnn_inputs.npy    5 x 784 float32 inputs (flattened 1x28x28)
  tiny_cnn_logp.npy      PyTorch's log-probabilities for them, 5 x 10
"""
import collections
import pathlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "weights"


class TinyCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 2, 3, padding=1)
        self.conv2 = nn.Conv2d(2, 4, 3, padding=1)
        self.fc1 = nn.Linear(4 * 7 * 7, 8)
        self.fc2 = nn.Linear(8, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return F.log_softmax(self.fc2(F.relu(self.fc1(x))), dim=1)


def main():
    torch.manual_seed(2026)
    model = TinyCnn().eval()
    inputs = torch.randn(5, 1, 28, 28)
    with torch.no_grad():
        logp = model(inputs)
    torch.save(collections.OrderedDict(model.state_dict()), OUT / "tiny_cnn.pt")
    np.save(OUT / "tiny_cnn_inputs.npy", inputs.reshape(5, 784).numpy().astype(np.float32))
    np.save(OUT / "tiny_cnn_logp.npy", logp.numpy().astype(np.float32))
    print("torch", torch.__version__, "->", OUT)


if __name__ == "__main__":
    main()
