#!/usr/bin/env bash
# Makes resources/images/chelsea.ppm: the CC0 photo "chelsea.png" (Chelsea the cat, by Stefan van der
# Walt) from Debian's python3-skimage, converted to a binary PPM (P6) so that kscore can embed it and
# read it without an image library. Needs apt-get, dpkg-deb and python3 (standard library only).
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
out="$here/resources/images/chelsea.ppm"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$work"
apt-get download python3-skimage
deb="$(ls python3-skimage_*.deb)"
echo "package: $deb"
dpkg-deb -x "$deb" extracted
png="extracted/usr/lib/python3/dist-packages/skimage/data/chelsea.png"
test -f "$png" || { echo "chelsea.png not found in $deb" >&2; exit 1; }
sha256sum "$png"

# A minimal PNG decoder: 8-bit RGB (colour type 2), non-interlaced; anything else is refused.
python3 - "$png" "$out" <<'PY'
import struct, sys, zlib

src, dst = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
if data[:8] != b"\x89PNG\r\n\x1a\n":
    sys.exit(f"{src}: not a PNG")
pos, idat, header = 8, [], None
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    if zlib.crc32(kind + body) != struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]:
        sys.exit(f"{src}: CRC mismatch in chunk {kind!r}")
    if kind == b"IHDR":
        header = struct.unpack(">IIBBBBB", body)
    elif kind == b"IDAT":
        idat.append(body)
    elif kind == b"IEND":
        break
    pos += 12 + length
width, height, depth, colour, _, _, interlace = header
if (depth, colour, interlace) != (8, 2, 0):
    sys.exit(f"{src}: needs 8-bit RGB non-interlaced, got depth {depth}, colour type {colour}, interlace {interlace}")

raw = zlib.decompress(b"".join(idat))
bpp, stride = 3, width * 3
if len(raw) != height * (stride + 1):
    sys.exit(f"{src}: {len(raw)} bytes of image data, expected {height * (stride + 1)}")

def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)

pixels, previous = bytearray(), bytearray(stride)
for y in range(height):
    line = raw[y * (stride + 1):(y + 1) * (stride + 1)]
    kind, cur = line[0], bytearray(line[1:])
    for i in range(stride):
        a = cur[i - bpp] if i >= bpp else 0
        b = previous[i]
        c = previous[i - bpp] if i >= bpp else 0
        if kind == 1: cur[i] = (cur[i] + a) & 255
        elif kind == 2: cur[i] = (cur[i] + b) & 255
        elif kind == 3: cur[i] = (cur[i] + (a + b) // 2) & 255
        elif kind == 4: cur[i] = (cur[i] + paeth(a, b, c)) & 255
        elif kind != 0: sys.exit(f"{src}: unknown filter {kind} on row {y}")
    pixels += cur
    previous = cur

with open(dst, "wb") as f:
    f.write(b"P6\n%d %d\n255\n" % (width, height))
    f.write(pixels)
print(f"{dst}: {width}x{height} RGB, {len(pixels)} bytes of pixels")
PY
sha256sum "$out"
