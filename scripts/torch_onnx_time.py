#!/usr/bin/python3
"""Float32 inference of the ONNX fixtures' networks: PyTorch against KernelScope, in one run, on this machine.

    OMP_NUM_THREADS=2 /usr/bin/python3 scripts/torch_onnx_time.py [--cli build/app/cli/kernelscope-cli] [--threads 2]

Needs python3-torch and libopenblas0-openmp (without OpenBLAS, Debian's PyTorch multiplies with the reference BLAS,
30x slower: ../shared/bench/README.md).

PyTorch (Debian's python3-torch) runs the modules of scripts/make_onnx_fixtures.py in eval mode on 2,000 inputs
of 1x28x28 under torch.no_grad() (median of 15 runs after 3 warm-ups); KernelScope runs the exported files
(tests/data/onnx/M.onnx) with `kernelscope-cli eval` on the 2,000 embedded test digits (median of its own
repeats). The weights differ (PyTorch's here are freshly initialised) but the work does not: the same layers on
the same number of inputs. Rounds alternate the two, and the ratio is taken per round.
"""
import argparse
import pathlib
import re
import statistics
import subprocess
import sys
import time

import torch

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import make_onnx_fixtures as fixtures  # noqa: E402

MODELS = {"lenet5": fixtures.LeNet5, "resnet_tiny": fixtures.ResNetTiny, "lenet_300_100": fixtures.LeNet300100,
          "cnn_tiny": fixtures.CnnTiny}


def torch_ms(module, x):
    module.eval()
    with torch.no_grad():
        for _ in range(3):
            module(x)
        times = []
        for _ in range(15):
            start = time.perf_counter()
            module(x)
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def kernelscope_ms(cli, name, threads):
    out = subprocess.run([cli, "eval", "--weights", str(HERE.parent / "tests" / "data" / "onnx" / f"{name}.onnx"),
                          "--threads", str(threads)], check=True, capture_output=True, text=True).stdout
    return float(re.search(r"images in ([0-9.]+) ms", out).group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cli", default=str(HERE.parent / "build" / "app" / "cli" / "kernelscope-cli"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    x = torch.randn(2000, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    print(f"torch {torch.__version__}, {args.threads} threads; 2,000 inputs; median ms per pass; ratio = torch / ours")
    print(f"{'model':<16}{'torch ms':>10}{'ours ms':>10}{'ratio':>8}")
    for name, make in MODELS.items():
        module = make()
        rounds = [(torch_ms(module, x), kernelscope_ms(args.cli, name, args.threads)) for _ in range(args.rounds)]
        t = statistics.median(r[0] for r in rounds)
        k = statistics.median(r[1] for r in rounds)
        ratio = statistics.median(r[0] / r[1] for r in rounds)
        print(f"{name:<16}{t:>10.1f}{k:>10.1f}{ratio:>8.2f}")


if __name__ == "__main__":
    main()
