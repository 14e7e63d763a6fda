#pragma once
// Reading zip archives held in memory (the containers of .npz files and PyTorch checkpoints).
// Stored and DEFLATE entries, zip64 sizes and offsets. Every size and offset is checked against the
// buffer before use, and every entry's CRC-32 is verified when it is read.
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace ks::io {

struct ZipError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct ZipEntry {
    std::string name;
    std::uint16_t method = 0;  ///< 0 stored, 8 deflate
    std::uint32_t crc = 0;
    std::uint64_t compressedSize = 0;
    std::uint64_t uncompressedSize = 0;
    std::uint64_t dataOffset = 0;  ///< of the entry's bytes in the archive, after its local header
};

bool looksLikeZip(std::span<const std::byte> bytes);

class ZipArchive {
public:
    /// Parses the central directory; `bytes` must outlive the archive. `what` names it in errors.
    ZipArchive(std::span<const std::byte> bytes, std::string what);

    const std::vector<ZipEntry>& entries() const { return entries_; }
    const ZipEntry* find(const std::string& name) const;
    /// The entry's content, decompressed and CRC-checked.
    std::string read(const ZipEntry& entry) const;
    /// A stored entry's bytes without copying (CRC-checked); ZipError if it is compressed.
    std::span<const std::byte> view(const ZipEntry& entry) const;
    const std::string& what() const { return what_; }

private:
    std::span<const std::byte> bytes_;
    std::string what_;
    std::vector<ZipEntry> entries_;
};

}  // namespace ks::io
