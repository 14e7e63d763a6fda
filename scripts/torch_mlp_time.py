#!/usr/bin/python3
"""PyTorch's time for the digit MLP's inference, the peer of `kernelscope-cli bench mlp` (dense row).

    OPENBLAS_CORETYPE=Zen LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp OMP_NUM_THREADS=2 \
        /usr/bin/python3 scripts/torch_mlp_time.py [--arch mlp|cnn] [--threads 2] [--runs 200]

2,000 × 784 float32 inputs through Linear 784→512→128→10 with ReLU and log_softmax (or the digit CNN
of core/nn: conv 1→8, 8→16 3×3 pad 1, ReLU, max-pool 2, fc 784→64→10), under torch.no_grad();
prints the median and minimum of many runs and the GFLOP/s of the median.
"""
import argparse
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(784, 512), nn.Linear(512, 128), nn.Linear(128, 10)
        self.flops = 2 * (784 * 512 + 512 * 128 + 128 * 10)

    def forward(self, x):
        return F.log_softmax(self.fc3(F.relu(self.fc2(F.relu(self.fc1(x))))), dim=1)


class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 8, 3, padding=1), nn.Conv2d(8, 16, 3, padding=1)
        self.fc1, self.fc2 = nn.Linear(784, 64), nn.Linear(64, 10)
        self.flops = 2 * (8 * 9 * 784 + 16 * 72 * 196 + 784 * 64 + 64 * 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x.view(-1, 1, 28, 28))), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return F.log_softmax(self.fc2(F.relu(self.fc1(torch.flatten(x, 1)))), dim=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", choices=["mlp", "cnn"], default="mlp")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    model = (Mlp() if args.arch == "mlp" else Cnn()).eval()
    x = torch.randn(2000, 784)
    times = []
    with torch.no_grad():
        for _ in range(10):
            model(x)
        for _ in range(args.runs):
            start = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(f"torch {torch.__version__}, {args.threads} threads, {args.arch}, 2000 samples: "
          f"median {median * 1e3:.3f} ms, min {min(times) * 1e3:.3f} ms, "
          f"{model.flops * 2000 / median * 1e-9:.1f} GFLOP/s (median)")


if __name__ == "__main__":
    main()
