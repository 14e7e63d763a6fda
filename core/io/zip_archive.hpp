#pragma once
// Reading zip archives held in memory (the containers of .npz files and PyTorch checkpoints), through
// libzip: zip64, the consistency of local and central headers, and every entry's size and CRC-32
// checked when it is read. On top of libzip, our own limits for hostile archives: stored and DEFLATE
// entries only (what numpy and torch.save write), no encryption, at most kMaxZipEntries entries, no
// entry claiming more than DEFLATE can encode from its bytes, and a budget for all decompressed bytes,
// charged before anything is allocated.
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "io/inflate.hpp"  // maxInflatedSize

namespace ks::io {

struct ZipError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// All DEFLATE entries of one archive together may inflate to this many bytes (the models here take a few
/// MB; a 1 MB .npz holding a deflated 1 GiB array is refused before anything is allocated).
inline constexpr std::uint64_t kMaxInflatedBytes = std::uint64_t{256} << 20;
inline constexpr std::uint64_t kMaxZipEntries = std::uint64_t{1} << 20;

struct ZipEntry {
    std::string name;          ///< as stored (raw bytes): escape with printable() before showing it
    std::uint64_t index = 0;   ///< in the archive's central directory
    std::uint16_t method = 0;  ///< 0 stored, 8 deflate
    std::uint32_t crc = 0;
    std::uint64_t compressedSize = 0;
    std::uint64_t uncompressedSize = 0;
};

bool looksLikeZip(std::span<const std::byte> bytes);

class ZipArchive {
public:
    /// Reads the central directory; `bytes` must outlive the archive. `what` names it in errors.
    /// `inflateBudget`: how many bytes all read()s of DEFLATE entries may produce together.
    ZipArchive(std::span<const std::byte> bytes, std::string what, std::uint64_t inflateBudget = kMaxInflatedBytes);
    ~ZipArchive();
    ZipArchive(const ZipArchive&) = delete;
    ZipArchive& operator=(const ZipArchive&) = delete;

    const std::vector<ZipEntry>& entries() const { return entries_; }
    const ZipEntry* find(const std::string& name) const;
    /// The entry's content, decompressed, its size and CRC checked. A DEFLATE entry's size is charged to
    /// the archive's budget first: ZipError, before allocating, once the budget would be exceeded.
    std::string read(const ZipEntry& entry) const;
    /// What read()s of the given entries would inflate in all; ZipError naming the archive when that is more
    /// than the budget left. For readers that read every entry: they learn it before reading the first.
    void checkInflateBudget(const std::vector<const ZipEntry*>& entries) const;
    const std::string& what() const { return what_; }

private:
    struct Handle;
    std::span<const std::byte> bytes_;
    std::string what_;
    Handle* handle_ = nullptr;
    std::vector<ZipEntry> entries_;
    std::uint64_t inflateBudget_;
    mutable std::uint64_t inflated_ = 0;
};

}  // namespace ks::io
