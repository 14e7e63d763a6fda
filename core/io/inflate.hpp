#pragma once
// Decompression through zlib, with the output size bounded before anything is allocated:
// a file that claims a huge size is an error, not a huge allocation.
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>

namespace ks::io {

struct InflateError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// DEFLATE's best case is 1032:1, so an entry claiming more than this per input byte is lying.
inline constexpr std::uint64_t kMaxDeflateRatio = 1032;

/// A raw DEFLATE stream (a zip entry, method 8) that must inflate to exactly `expectedSize` bytes.
std::string inflateRaw(std::span<const std::byte> compressed, std::uint64_t expectedSize,
                       const std::string& what);

/// A whole .gz file (one or more members), at most `maxSize` bytes of output.
std::string gunzip(std::span<const std::byte> compressed, std::uint64_t maxSize, const std::string& what);

bool looksGzipped(std::span<const std::byte> bytes);

/// CRC-32 as zip and gzip use it.
std::uint32_t crc32(std::span<const std::byte> bytes);

}  // namespace ks::io
