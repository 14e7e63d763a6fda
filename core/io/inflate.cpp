#include "io/inflate.hpp"

#include <zlib.h>

#include <algorithm>
#include <limits>

namespace ks::io {

namespace {

/// zlib counts in uInt: feed big buffers in chunks.
constexpr std::size_t kChunk = std::numeric_limits<uInt>::max() / 2;

}  // namespace

struct GzipReader::State {
    std::span<const std::byte> in;
    std::string what;
    z_stream z{};
    std::size_t inPos = 0;
    bool memberEnded = false;  // the last inflate() reached a member's end (its trailer checked)

    ~State() { inflateEnd(&z); }

    /// One inflate() call into `out`; returns the bytes produced.
    std::size_t step(std::span<std::byte> out) {
        if (memberEnded) {
            // gzip allows several members one after the other.
            inflateReset(&z);
            memberEnded = false;
        }
        const std::size_t inChunk = std::min(kChunk, in.size() - inPos);
        z.next_in = const_cast<Bytef*>(reinterpret_cast<const Bytef*>(in.data() + inPos));
        z.avail_in = static_cast<uInt>(inChunk);
        const std::size_t outChunk = std::min(kChunk, out.size());
        z.next_out = reinterpret_cast<Bytef*>(out.data());
        z.avail_out = static_cast<uInt>(outChunk);
        const int rc = inflate(&z, Z_NO_FLUSH);
        inPos += inChunk - z.avail_in;
        const std::size_t produced = outChunk - z.avail_out;
        if (rc == Z_STREAM_END) {
            memberEnded = true;
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            throw InflateError(what + ": corrupt compressed data (" +
                               (z.msg ? std::string(z.msg) : "zlib error " + std::to_string(rc)) + ")");
        } else if (produced == 0 && inPos == in.size()) {
            throw InflateError(what + ": compressed data is truncated");
        }
        return produced;
    }
};

bool looksGzipped(std::span<const std::byte> bytes) {
    return bytes.size() >= 2 && bytes[0] == std::byte{0x1f} && bytes[1] == std::byte{0x8b};
}

GzipReader::GzipReader(std::span<const std::byte> compressed, std::string what) : state_(std::make_unique<State>()) {
    state_->in = compressed;
    state_->what = std::move(what);
    if (!looksGzipped(compressed)) throw InflateError(state_->what + ": not gzip data");
    // 16 + MAX_WBITS: gzip wrapper, whose trailer zlib checks (CRC-32 and length mod 2^32).
    // (If it fails, inflateEnd on the zeroed stream is a harmless no-op.)
    if (inflateInit2(&state_->z, MAX_WBITS + 16) != Z_OK)
        throw InflateError(state_->what + ": zlib initialisation failed");
}

GzipReader::~GzipReader() = default;

std::size_t GzipReader::readSome(std::span<std::byte> out) {
    std::size_t filled = 0;
    while (filled < out.size() && !(state_->memberEnded && state_->inPos == state_->in.size()))
        filled += state_->step(out.subspan(filled));
    return filled;
}

void GzipReader::readExactly(std::span<std::byte> out) {
    const std::size_t filled = readSome(out);
    if (filled < out.size())
        throw InflateError(state_->what + ": compressed data ends after " + std::to_string(filled) + " of the " +
                           std::to_string(out.size()) + " bytes wanted (truncated?)");
}

void GzipReader::expectEnd() {
    std::byte spare{};
    if (readSome(std::span(&spare, 1)) > 0)
        throw InflateError(state_->what + ": decompresses to more bytes than its header says");
}

std::string gunzip(std::span<const std::byte> compressed, std::uint64_t maxSize, const std::string& what) {
    GzipReader reader(compressed, what);
    const std::uint64_t bound = std::min(maxSize, maxInflatedSize(compressed.size()));
    std::string out;
    for (;;) {
        // Grow by what has been produced (at least 64 KiB), up to the bound + 1 byte that detects a longer stream.
        const std::size_t before = out.size();
        const std::uint64_t want = std::min<std::uint64_t>(bound + 1, before + std::max<std::size_t>(before, 1 << 16));
        out.resize(static_cast<std::size_t>(want));
        const std::size_t filled = reader.readSome(std::as_writable_bytes(std::span(out)).subspan(before));
        out.resize(before + filled);
        if (out.size() > bound)
            throw InflateError(what + ": decompresses to more than " + std::to_string(bound) + " bytes");
        if (before + filled < want) return out;
    }
}

std::uint32_t crc32(std::span<const std::byte> bytes) {
    uLong crc = ::crc32(0L, Z_NULL, 0);
    std::size_t pos = 0;
    while (pos < bytes.size()) {
        const std::size_t n = std::min(kChunk, bytes.size() - pos);
        crc = ::crc32(crc, reinterpret_cast<const Bytef*>(bytes.data() + pos), static_cast<uInt>(n));
        pos += n;
    }
    return static_cast<std::uint32_t>(crc);
}

}  // namespace ks::io
