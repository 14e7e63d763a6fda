#pragma once
// gzip through zlib, streamed: a reader takes exactly the bytes it asks for, so that a file whose header
// declares its size is bounded by that size (checked by the caller before allocating), not by how much
// the compressed stream can produce. (Zip entries are inflated by libzip: io/zip_archive.hpp.)
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>

namespace ks::io {

struct InflateError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// DEFLATE's best case is 1032:1, so a stream claiming more than this per compressed byte is lying.
inline constexpr std::uint64_t kMaxDeflateRatio = 1032;

/// The most bytes `compressedBytes` of DEFLATE data can inflate to (plus slack for headers).
constexpr std::uint64_t maxInflatedSize(std::uint64_t compressedBytes) {
    return compressedBytes > (UINT64_MAX - 64) / kMaxDeflateRatio ? UINT64_MAX
                                                                  : kMaxDeflateRatio * compressedBytes + 64;
}

bool looksGzipped(std::span<const std::byte> bytes);

/// The decompressed bytes of a .gz file (one or more members, each member's CRC-32 and length checked),
/// read in order. `compressed` must outlive the reader.
class GzipReader {
public:
    GzipReader(std::span<const std::byte> compressed, std::string what);
    ~GzipReader();
    GzipReader(const GzipReader&) = delete;
    GzipReader& operator=(const GzipReader&) = delete;

    /// Up to out.size() next bytes, fewer only where the data ends (after the last member's trailer, checked);
    /// InflateError if it is corrupt or truncated.
    std::size_t readSome(std::span<std::byte> out);
    /// Fills `out` with the next out.size() bytes; InflateError if the data ends first or is corrupt.
    void readExactly(std::span<std::byte> out);
    /// InflateError unless the data ends here, after the last member's trailer (checked).
    void expectEnd();

private:
    struct State;
    std::unique_ptr<State> state_;
};

/// A whole .gz file, at most `maxSize` bytes of output (InflateError beyond).
std::string gunzip(std::span<const std::byte> compressed, std::uint64_t maxSize, const std::string& what);

/// CRC-32 as zip and gzip use it.
std::uint32_t crc32(std::span<const std::byte> bytes);

}  // namespace ks::io
