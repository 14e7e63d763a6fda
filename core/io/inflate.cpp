#include "io/inflate.hpp"

#include <zlib.h>

#include <algorithm>
#include <limits>

namespace ks::io {

namespace {

const Bytef* asBytef(std::span<const std::byte> bytes) {
    return reinterpret_cast<const Bytef*>(bytes.data());
}

/// zlib counts in uInt: feed big buffers in chunks.
constexpr std::size_t kChunk = std::numeric_limits<uInt>::max() / 2;

struct Stream {
    z_stream z{};
    bool open = false;
    ~Stream() {
        if (open) inflateEnd(&z);
    }
};

/// Inflate all of `in` into `out`, growing it as needed up to `limit` + 1 bytes (one more than
/// allowed, to detect a stream that is too long); returns the bytes produced.
std::size_t run(Stream& s, std::span<const std::byte> in, std::string& out, std::uint64_t limit,
                bool allowConcatenated, const std::string& what) {
    std::size_t inPos = 0;
    std::size_t outPos = 0;
    for (;;) {
        const std::size_t inChunk = std::min(kChunk, in.size() - inPos);
        s.z.next_in = const_cast<Bytef*>(asBytef(in.subspan(inPos)));
        s.z.avail_in = static_cast<uInt>(inChunk);
        const std::size_t outChunk = std::min(kChunk, out.size() - outPos);
        s.z.next_out = reinterpret_cast<Bytef*>(out.data() + outPos);
        s.z.avail_out = static_cast<uInt>(outChunk);
        const int rc = inflate(&s.z, Z_NO_FLUSH);
        inPos += inChunk - s.z.avail_in;
        outPos += outChunk - s.z.avail_out;
        if (rc == Z_STREAM_END) {
            // gzip allows several members one after the other.
            if (allowConcatenated && inPos < in.size()) {
                inflateReset(&s.z);
                continue;
            }
            return outPos;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR)
            throw InflateError(what + ": corrupt compressed data (" +
                               (s.z.msg ? std::string(s.z.msg) : "zlib error " + std::to_string(rc)) + ")");
        if (outPos == out.size()) {
            if (out.size() > limit)
                throw InflateError(what + ": decompresses to more than the " + std::to_string(limit) + " bytes allowed");
            out.resize(static_cast<std::size_t>(std::min<std::uint64_t>(limit + 1, 2 * std::uint64_t{out.size()} + 4096)));
            continue;
        }
        if (inPos == in.size()) throw InflateError(what + ": compressed data is truncated");
    }
}

}  // namespace

std::string inflateRaw(std::span<const std::byte> compressed, std::uint64_t expectedSize, const std::string& what) {
    if (expectedSize > kMaxDeflateRatio * compressed.size() + 64)
        throw InflateError(what + ": claims " + std::to_string(expectedSize) + " bytes from " +
                           std::to_string(compressed.size()) + " compressed bytes, more than DEFLATE can encode");
    Stream s;
    if (inflateInit2(&s.z, -MAX_WBITS) != Z_OK) throw InflateError(what + ": zlib initialisation failed");
    s.open = true;
    // One spare byte detects a stream longer than announced.
    std::string out(static_cast<std::size_t>(expectedSize) + 1, '\0');
    const std::size_t produced = run(s, compressed, out, expectedSize, false, what);
    if (produced != expectedSize)
        throw InflateError(what + ": decompressed to " + std::to_string(produced) + " bytes, expected " +
                           std::to_string(expectedSize));
    out.resize(produced);
    return out;
}

std::string gunzip(std::span<const std::byte> compressed, std::uint64_t maxSize, const std::string& what) {
    if (!looksGzipped(compressed)) throw InflateError(what + ": not gzip data");
    const std::uint64_t bound = std::min<std::uint64_t>(maxSize, kMaxDeflateRatio * compressed.size() + 64);
    Stream s;
    if (inflateInit2(&s.z, MAX_WBITS + 16) != Z_OK) throw InflateError(what + ": zlib initialisation failed");
    s.open = true;
    // Start from the size the trailer announces (mod 2^32, so only a hint), never above the bound.
    std::uint64_t hint = 0;
    for (std::size_t i = 0; i < 4 && compressed.size() >= 4; ++i)
        hint |= std::uint64_t{std::to_integer<std::uint8_t>(compressed[compressed.size() - 4 + i])} << (8 * i);
    std::string out(static_cast<std::size_t>(std::min(bound, hint) + 1), '\0');
    const std::size_t produced = run(s, compressed, out, bound, true, what);
    if (produced > bound) throw InflateError(what + ": decompresses to more than " + std::to_string(bound) + " bytes");
    out.resize(produced);
    return out;
}

bool looksGzipped(std::span<const std::byte> bytes) {
    return bytes.size() >= 2 && bytes[0] == std::byte{0x1f} && bytes[1] == std::byte{0x8b};
}

std::uint32_t crc32(std::span<const std::byte> bytes) {
    uLong crc = ::crc32(0L, Z_NULL, 0);
    std::size_t pos = 0;
    while (pos < bytes.size()) {
        const std::size_t n = std::min(kChunk, bytes.size() - pos);
        crc = ::crc32(crc, asBytef(bytes.subspan(pos)), static_cast<uInt>(n));
        pos += n;
    }
    return static_cast<std::uint32_t>(crc);
}

}  // namespace ks::io
