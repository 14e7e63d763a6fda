#!/usr/bin/env python3
"""Writes the named hostile inputs of tests/fuzz/corpus/ (issue 14), each small, each a case a loader once
got wrong or had no test for. Python's zipfile, gzip and struct make them (not our code), patched by hand
where a field must lie. Re-create with:  python3 tests/fuzz/make_hostile_corpus.py
"""
import gzip
import io
import os
import struct
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
WEIGHTS = os.path.join(HERE, "corpus", "weights")
IDX = os.path.join(HERE, "corpus", "idx")


def write(folder, name, data):
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def npy(values, shape):
    """A float32 .npy (format 1.0) of the given values."""
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }" % (str(tuple(shape)).replace(",)", ",)"))
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + struct.pack("<%df" % len(values), *values)


def safetensors(header, data):
    h = header.encode()
    return struct.pack("<Q", len(h)) + h + data


def zip_bytes(entries, method=zipfile.ZIP_STORED, force_zip64=False):
    saved = zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT
    if force_zip64:
        # zipfile writes zip64 records and extra fields for whatever exceeds these limits: with -1, for everything.
        zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = -1, -1
    try:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", compression=method) as z:
            for name, data in entries:
                z.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), data, compress_type=method)
        return bytearray(out.getvalue())
    finally:
        zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = saved


def main():
    # safetensors: two tensors sharing bytes 4..8; a file cut inside its header; a header length of 2^63;
    # a tensor described twice.
    write(WEIGHTS, "safetensors-overlapping-offsets", safetensors(
        '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}',
        bytes(12)))
    whole = safetensors('{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', bytes(16))
    write(WEIGHTS, "safetensors-truncated-in-header", whole[:30])
    write(WEIGHTS, "safetensors-header-length-2e63", struct.pack("<Q", 1 << 63) + whole[8:])
    write(WEIGHTS, "safetensors-duplicate-tensor", safetensors(
        '{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
        bytes(4)))
    # .npz: zip64 throughout (loads; only the model builder refuses a lone array), an encrypted entry (flag
    # bit 0 set in the local and central headers), a bzip2 entry (method 12, real bzip2 data).
    array = npy([1.5, -2.0, 0.25, 3.0], (2, 2))
    zip64 = zip_bytes([("w.npy", array)], zipfile.ZIP_DEFLATED, force_zip64=True)
    write(WEIGHTS, "npz-zip64", bytes(zip64))
    # The same whose zip64 end record claims 2^40 entries (on this disk and in all): refused before any
    # allocation for them.
    at = zip64.find(b"PK\x06\x06")
    zip64[at + 24:at + 40] = struct.pack("<QQ", 1 << 40, 1 << 40)
    write(WEIGHTS, "npz-zip64-entry-count-2e40", bytes(zip64))
    encrypted = zip_bytes([("w.npy", array)])
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = encrypted.find(signature) + flags_at
        encrypted[at] |= 1
    write(WEIGHTS, "npz-encrypted-entry", bytes(encrypted))
    write(WEIGHTS, "npz-bzip2-entry", bytes(zip_bytes([("w.npy", array)], zipfile.ZIP_BZIP2)))
    # A torch.save-like archive whose storage claims 2^60 float32 elements, its deflated entry claiming
    # 2^62 bytes (zip64 fields patched): 64 · 2^60 overflowed int64 in the checkpoint reader (UBSan).
    def binunicode(s):
        return b"X" + struct.pack("<I", len(s)) + s.encode()
    pickle = (b"\x80\x02ccollections\nOrderedDict\n)R" + binunicode("w") + b"ctorch._utils\n_rebuild_tensor_v2\n(("
              + binunicode("storage") + b"ctorch\nFloatStorage\n" + binunicode("0") + binunicode("cpu")
              + b"\x8a\x08" + struct.pack("<q", 1 << 60) + b"tQK\x00(K\x04t(K\x01t\x89ccollections\nOrderedDict\n)RtRs.")
    archive = zip_bytes([("c/data.pkl", pickle), ("c/data/0", bytes(16))], zipfile.ZIP_DEFLATED, force_zip64=True)
    # In each header of c/data/0, the zip64 extra field (id 1) starts with the uncompressed size.
    start = 0
    while True:
        at = archive.find(b"c/data/0", start)
        if at < 0:
            break
        extra = archive.find(b"\x01\x00", at + 8)
        archive[extra + 4:extra + 12] = struct.pack("<Q", 1 << 62)
        start = at + 8
    write(WEIGHTS, "pt-storage-numel-2e60", bytes(archive))

    # IDX (fuzz_idx splits an input at the fraction its first byte gives): a 1 KB gzip'ed image file whose header
    # declares 2^31 images of 28×28, then a plain label file. The header must refuse it before anything is inflated.
    images = gzip.compress(struct.pack(">IIII", 0x803, 1 << 31, 28, 28) + bytes(100000), mtime=0)
    labels = struct.pack(">II", 0x801, 1) + b"\x03"
    cut = len(images) + 1
    first = -(-255 * (cut - 1) // (len(images) + len(labels)))  # smallest first byte whose cut is past the images
    body = images + labels
    assert 1 + (len(body)) * first // 255 == cut, "the cut must fall between the two files"
    write(IDX, "idx-gzip-header-declares-1.6e12-pixels", bytes([first]) + body)


if __name__ == "__main__":
    main()
