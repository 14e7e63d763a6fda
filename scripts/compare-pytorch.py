#!/usr/bin/python3
"""KernelScope and PyTorch side by side on this machine: the speed targets of issues #4, #5 and #6.

Shared machines are noisy, so only ratios measured together mean anything: every round runs each
case once in PyTorch (in this process) and once in KernelScope (`kernelscope-cli bench ...`,
which times internally, so process start-up is not counted), alternately, and the table keeps the
median over rounds of each side's median.

Optional set-up (Debian 12, about 650 MB; not needed to build or test KernelScope):
    apt-get install -y --no-install-recommends python3-torch python3-numpy libopenblas0-openmp
Run (Debian's interpreter; the script points PyTorch at OpenBLAS itself):
    scripts/compare-pytorch.py --cli build/app/cli/kernelscope-cli [--rounds 3] [--only conv,matmul,mlp,cnn]

The second peer, oneDNN 2.6 (Debian libdnnl-dev), is a separate program: the machines' peer benchmarks
ship its source (onednn_conv_peer.cpp; build it with `g++ -O2 -std=c++17 onednn_conv_peer.cpp -ldnnl`).
With `--onednn PATH_TO_THAT_PROGRAM`, every conv round also times oneDNN's direct, Winograd and automatic
convolutions on the ResNet-style layers (in its blocked layout and in NCHW) and a second table sets
KernelScope's best, direct and im2col beside oneDNN's fastest, direct and NCHW (GEMM) paths.
"""
import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time

OPENBLAS = "/usr/lib/x86_64-linux-gnu/openblas-openmp"
if os.path.isdir(OPENBLAS) and os.environ.get("KS_PEER_ENV") != "1":
    # PyTorch's generic BLAS is the reference one unless OpenBLAS is first on the library path;
    # OpenBLAS misdetects these virtual CPUs, so name the core type (AVX2 Zen; SkylakeX with AVX-512).
    env = dict(os.environ, KS_PEER_ENV="1", LD_LIBRARY_PATH=OPENBLAS, OMP_NUM_THREADS="2")
    flags = open("/proc/cpuinfo").read()
    env.setdefault("OPENBLAS_CORETYPE", "SkylakeX" if "avx512f" in flags else "Zen")
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

# name, (N, C, H, W, K, R, stride, pad)
CONV = [
    ("single 32² k3", (1, 1, 32, 32, 1, 3, 1, 0)),
    ("single 256² k3", (1, 1, 256, 256, 1, 3, 1, 0)),
    ("single 256² k7", (1, 1, 256, 256, 1, 7, 1, 0)),
    ("single 256² k11", (1, 1, 256, 256, 1, 11, 1, 0)),
    ("single 512² k23", (1, 1, 512, 512, 1, 23, 1, 0)),
    ("layer 64×56²", (1, 64, 56, 56, 64, 3, 1, 1)),
    ("layer 128×28²", (1, 128, 28, 28, 128, 3, 1, 1)),
    ("layer 256×14²", (1, 256, 14, 14, 256, 3, 1, 1)),
]
# name, (M, K, N)
MATMUL = [
    ("512²", (512, 512, 512)),
    ("1024²", (1024, 1024, 1024)),
    ("2048²", (2048, 2048, 2048)),
    ("1000×784·784×128", (1000, 784, 128)),
    ("2000×784·784×512", (2000, 784, 512)),  # the digit MLP's fc1 on 2,000 digits
]
RANKS = [8, 16, 32, 64]
# The oneDNN peer's names for the ResNet-style layers above.
ONEDNN_LAYERS = {"layer 64×56²": "cnn_64x56_k3", "layer 128×28²": "cnn_128x28_k3", "layer 256×14²": "cnn_256x14_k3"}
# The assignment's single-channel case, valid output: every size × kernel (part "single").
SINGLE_SIZES = [32, 64, 128, 256, 512]
SINGLE_KERNELS = [3, 5, 7, 9, 11, 15, 23]


def time_torch(fn, seconds=0.3):
    for _ in range(3):
        fn()
    times = []
    start = time.perf_counter()
    while len(times) < 5 or (time.perf_counter() - start < seconds and len(times) < 2000):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def run_cli(cli, args):
    with tempfile.NamedTemporaryFile(suffix=".csv") as f:
        subprocess.run([cli] + args + ["--csv", f.name], check=True, stdout=subprocess.DEVNULL)
        with open(f.name) as g:
            return list(csv.DictReader(g))


def run_onednn(peer, shape):
    """One round of the oneDNN peer on one shape: {(algo, layout): (median_ms, implementation)}."""
    with tempfile.NamedTemporaryFile(suffix=".csv") as f:
        subprocess.run([peer, "--only", shape, "--rounds", "1", "--quiet-wait", "1", "--csv", f.name], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ, OMP_NUM_THREADS="2"))
        with open(f.name) as g:
            rows = csv.DictReader(line for line in g if not line.startswith("#"))
            return {(row["algo"], row["layout"]): (float(row["median_ms"]), row["impl"])
                    for row in rows if row["median_ms"]}


def conv_round(cli, results, onednn=None, onednn_results=None):
    for name, (n, c, h, w, k, r, s, p) in CONV:
        g = torch.Generator().manual_seed(0)
        x, wt, b = torch.randn(n, c, h, w, generator=g), torch.randn(k, c, r, r, generator=g), torch.randn(k, generator=g)
        t = time_torch(lambda: F.conv2d(x, wt, b, stride=s, padding=p))
        rows = run_cli(cli, ["bench", "conv", "--shape", f"{n},{c},{h},{w},{k},{r},{s},{p}", "--min-seconds", "0.3"])
        best = min(rows, key=lambda row: float(row["median_ms"]))
        results.setdefault(name, []).append((t, float(best["median_ms"]), best["algorithm"]))
        if onednn and name in ONEDNN_LAYERS:
            peer = run_onednn(onednn, ONEDNN_LAYERS[name])
            ours = {row["algorithm"]: float(row["median_ms"]) for row in rows}
            fastest = min(peer.items(), key=lambda item: item[1][0])
            onednn_results.setdefault(name, []).append({
                "best": (fastest[1][0], float(best["median_ms"]),
                         f"{fastest[0][0]}/{fastest[0][1]} ({fastest[1][1]}) vs {best['algorithm']}"),
                "direct": (peer[("direct", "blocked")][0], ours["direct"], peer[("direct", "blocked")][1]),
                "im2col": (peer[("direct", "nchw")][0], ours["im2col"], peer[("direct", "nchw")][1]),
            })


def single_round(cli, results):
    for n in SINGLE_SIZES:
        for k in SINGLE_KERNELS:
            if k > n:
                continue
            g = torch.Generator().manual_seed(0)
            x, wt, b = torch.randn(1, 1, n, n, generator=g), torch.randn(1, 1, k, k, generator=g), torch.randn(1, generator=g)
            t = time_torch(lambda: F.conv2d(x, wt, b), seconds=0.15)
            rows = run_cli(cli, ["bench", "conv", "--shape", f"1,1,{n},{n},1,{k}", "--min-seconds", "0.15"])
            best = min(rows, key=lambda row: float(row["median_ms"]))
            results.setdefault(f"single {n}² k{k}", []).append((t, float(best["median_ms"]), best["algorithm"]))


def matmul_round(cli, results):
    for name, (m, k, n) in MATMUL:
        g = torch.Generator().manual_seed(0)
        a, b = torch.randn(m, k, generator=g), torch.randn(k, n, generator=g)
        t = time_torch(lambda: torch.matmul(a, b))
        ranks = RANKS if name.startswith("1000") else [8]
        rows = run_cli(cli, ["bench", "matmul", "--shape", f"{m},{k},{n}", "--rank", ",".join(map(str, ranks)),
                             "--min-seconds", "0.15", "--rounds", "2"])
        dense = next(row for row in rows if row["method"] == "dense")
        results.setdefault(f"dense {name}", []).append((t, float(dense["median_ms"]), "dense"))
        if name.startswith("1000"):
            for rank in RANKS:
                u, v = torch.randn(k, rank, generator=g), torch.randn(rank, n, generator=g)
                tr = time_torch(lambda: torch.matmul(torch.matmul(a, u), v))
                row = next(row for row in rows if row["method"] == "svd" and row["rank"] == str(rank))
                results.setdefault(f"rank {rank} {name}", []).append(
                    (tr, float(row["median_ms"]), f"svd, {100 * float(row['measured_speedup']) / float(row['flop_model_speedup']):.0f} % of model"))


def mlp_round(cli, results):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2000, 784, generator=g)
    layers = [torch.nn.Linear(784, 512), torch.nn.Linear(512, 128), torch.nn.Linear(128, 10)]

    def forward():
        with torch.no_grad():
            h = F.relu(layers[0](x))
            h = F.relu(layers[1](h))
            return F.log_softmax(layers[2](h), dim=1)

    t = time_torch(forward)
    rows = run_cli(cli, ["bench", "mlp", "--ranks", "32", "--rounds", "3"])
    dense = next(row for row in rows if row["rank"] == "dense")
    results.setdefault("MLP 2000 digits", []).append((t, float(dense["median_ms"]), "dense"))


def cnn_round(cli, results):
    """The digit CNN (conv 1→8, pool, conv 8→16, pool, 784→64→10) on 2,000 digits, float32."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2000, 1, 28, 28, generator=g)
    conv1, conv2 = torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.Conv2d(8, 16, 3, padding=1)
    fc1, fc2 = torch.nn.Linear(784, 64), torch.nn.Linear(64, 10)

    def forward():
        with torch.no_grad():
            h = F.max_pool2d(F.relu(conv1(x)), 2)
            h = F.max_pool2d(F.relu(conv2(h)), 2)
            h = F.relu(fc1(torch.flatten(h, 1)))
            return F.log_softmax(fc2(h), dim=1)

    t = time_torch(forward)
    rows = run_cli(cli, ["bench", "mlp", "--weights", "embedded-cnn", "--ranks", "16", "--rounds", "3"])
    dense = next(row for row in rows if row["rank"] == "dense")
    results.setdefault("CNN 2000 digits", []).append((t, float(dense["median_ms"]), "direct conv, tiles of 10 digits"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", required=True, help="path to kernelscope-cli")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", default="conv,matmul,mlp,cnn", help="parts: conv, single, matmul, mlp, cnn")
    ap.add_argument("--onednn", help="path to the built oneDNN conv peer (onednn_conv_peer): conv rounds run it too")
    args = ap.parse_args()
    torch.set_num_threads(2)
    onednn_results = {}
    rounds = {"conv": lambda cli, res: conv_round(cli, res, args.onednn, onednn_results), "single": single_round,
              "matmul": matmul_round, "mlp": mlp_round, "cnn": cnn_round}
    results = {}
    for i in range(args.rounds):
        for part in args.only.split(","):
            rounds[part](args.cli, results)
        print(f"round {i + 1} of {args.rounds} done", file=sys.stderr)
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads; medians over {args.rounds} rounds\n")
    print("| case | PyTorch ms | KernelScope ms | PyTorch / KernelScope | KernelScope's best |")
    print("|---|---|---|---|---|")
    for name, samples in results.items():
        t = statistics.median(s[0] for s in samples)
        o = statistics.median(s[1] for s in samples)
        print(f"| {name} | {t:.4f} | {o:.4f} | {t / o:.2f}× | {samples[-1][2]} |")
    if onednn_results:
        print(f"\noneDNN (blocked layout: inputs and weights reordered once, outside the timing); medians over "
              f"{args.rounds} rounds\n")
        print("| layer | comparison | oneDNN ms | KernelScope ms | oneDNN / KernelScope | oneDNN's implementation |")
        print("|---|---|---|---|---|---|")
        labels = {"best": "fastest of each", "direct": "direct (oneDNN blocked)", "im2col": "im2col vs oneDNN NCHW"}
        for name, samples in onednn_results.items():
            for key, label in labels.items():
                t = statistics.median(s[key][0] for s in samples)
                o = statistics.median(s[key][1] for s in samples)
                print(f"| {name} | {label} | {t:.4f} | {o:.4f} | {t / o:.2f}× | {samples[-1][key][2]} |")


if __name__ == "__main__":
    main()
