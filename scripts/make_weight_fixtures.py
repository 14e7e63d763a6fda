#!/usr/bin/python3
"""Weight-file fixtures for tests/io and tests/nn, written by the real PyTorch and NumPy.

Run with Debian's interpreter after
    apt-get install -y --no-install-recommends python3-torch python3-numpy
    /usr/bin/python3 scripts/make_weight_fixtures.py
The outputs are committed (tests/data/weights/), so CI needs neither PyTorch nor NumPy.

A tiny MLP 6 → 5 → 4 → 3 (ReLU, log-softmax) with seeded weights, saved as:
  tiny_mlp.pt                torch.save(state_dict), float32
  tiny_mlp_f16.pt            the same weights as float16 (the expected output uses the rounded weights)
  tiny_mlp_f64.pt            as float64
  tiny_mlp_module.pt         keys prefixed "module." (a DataParallel model)
  tiny_mlp_checkpoint.pt     {"model_state_dict": ..., "optimizer_state_dict": ..., "epoch": 3}
  tiny_mlp_strided.pt        fc1.weight saved as a transposed (non-contiguous) view
  tiny_mlp_lowrank.pt        fc2 as nn.Sequential(Linear(5, 2, bias=False), Linear(2, 4))
  tiny_mlp.npz               numpy.savez (stored entries)
  tiny_mlp_compressed.npz    numpy.savez_compressed (deflate entries)
  tiny_mlp.safetensors       written by hand from the format's specification (no safetensors package
                             in Debian), tensors in reverse order in the header
  tiny_inputs.npy            8 × 6 float32 inputs
  tiny_logp.npy              PyTorch's log-probabilities for them (float32 weights), 8 × 3
  tiny_logp_f16.npy          the same for the float16-rounded weights
  tiny_lowrank_logp.npy      the same for the low-rank model
  evil_global.pt             a checkpoint whose pickle calls os.system (must be refused, never run)
  conv_net.pt                a small CNN (conv kernels are not a supported network yet: must be refused
                             with a message listing the tensors)
"""
import collections
import io
import json
import os
import pathlib
import pickle
import struct
import zipfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "weights"


class TinyMlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 5)
        self.fc2 = nn.Linear(5, 4)
        self.fc3 = nn.Linear(4, 3)

    def forward(self, x):
        return F.log_softmax(self.fc3(F.relu(self.fc2(F.relu(self.fc1(x))))), dim=1)


class LowRankMlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 5)
        self.fc2 = nn.Sequential(nn.Linear(5, 2, bias=False), nn.Linear(2, 4))
        self.fc3 = nn.Linear(4, 3)

    def forward(self, x):
        return F.log_softmax(self.fc3(F.relu(self.fc2(F.relu(self.fc1(x))))), dim=1)


def save_npy(name, array):
    np.save(OUT / name, np.ascontiguousarray(array, dtype=np.float32))


def write_safetensors(path, tensors):
    header = {"__metadata__": {"made_by": "scripts/make_weight_fixtures.py"}}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        data = t.detach().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    # Reverse the header's order: readers must follow the offsets, not the order.
    header = dict(reversed(list(header.items())))
    text = json.dumps(header).encode()
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))


class Evil:
    def __reduce__(self):
        return (os.system, ("echo this must never run > /tmp/kernelscope-pwned",))


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(5545)
    model = TinyMlp().eval()
    # Clones: the optimizer step below must not change the saved weights (state_dict shares storage).
    sd = collections.OrderedDict((k, v.clone()) for k, v in model.state_dict().items())
    x = torch.randn(8, 6)
    with torch.no_grad():
        logp = model(x)
    save_npy("tiny_inputs.npy", x.numpy())
    save_npy("tiny_logp.npy", logp.numpy())

    torch.save(sd, OUT / "tiny_mlp.pt")
    torch.save({k: v.half() for k, v in sd.items()}, OUT / "tiny_mlp_f16.pt")
    half_model = TinyMlp()
    half_model.load_state_dict({k: v.half().float() for k, v in sd.items()})
    with torch.no_grad():
        save_npy("tiny_logp_f16.npy", half_model(x).numpy())
    torch.save({k: v.double() for k, v in sd.items()}, OUT / "tiny_mlp_f64.pt")
    torch.save(collections.OrderedDict(("module." + k, v) for k, v in sd.items()), OUT / "tiny_mlp_module.pt")
    optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0)
    loss = -model(x)[:, 0].mean()
    loss.backward()
    optimizer.step()
    model.load_state_dict(sd)  # back to the weights of tiny_logp.npy, with a non-empty optimizer state
    torch.save({"model_state_dict": model.state_dict(), "optimizer_state_dict": optimizer.state_dict(), "epoch": 3,
                "loss": 0.25}, OUT / "tiny_mlp_checkpoint.pt")
    strided = collections.OrderedDict(sd)
    strided["fc1.weight"] = sd["fc1.weight"].t().contiguous().t()  # same values, strides (1, 5)
    assert not strided["fc1.weight"].is_contiguous()
    torch.save(strided, OUT / "tiny_mlp_strided.pt")

    np.savez(OUT / "tiny_mlp.npz", **{k: v.numpy() for k, v in sd.items()})
    np.savez_compressed(OUT / "tiny_mlp_compressed.npz", **{k: v.numpy() for k, v in sd.items()})
    write_safetensors(OUT / "tiny_mlp.safetensors", sd)

    low = LowRankMlp().eval()
    low_sd = low.state_dict()
    torch.save(low_sd, OUT / "tiny_mlp_lowrank.pt")
    with torch.no_grad():
        save_npy("tiny_lowrank_logp.npy", low(x).numpy())

    # A checkpoint-shaped zip whose pickle would run a shell command if unpickled naively.
    buffer = io.BytesIO()
    pickle.dump(collections.OrderedDict([("fc1.weight", Evil())]), buffer, protocol=2)
    with zipfile.ZipFile(OUT / "evil_global.pt", "w", zipfile.ZIP_STORED) as z:
        z.writestr("evil_global/data.pkl", buffer.getvalue())
        z.writestr("evil_global/version", "3\n")

    conv = nn.Sequential(collections.OrderedDict(
        [("conv1", nn.Conv2d(1, 2, 3)), ("fc1", nn.Linear(2 * 26 * 26, 10))]))
    torch.save(conv.state_dict(), OUT / "conv_net.pt")
    print("torch", torch.__version__, "numpy", np.__version__, "->", OUT)
    for p in sorted(OUT.iterdir()):
        print(f"  {p.name:28s} {p.stat().st_size:6d} bytes")


if __name__ == "__main__":
    main()
