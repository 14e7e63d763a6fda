#include "io/zip_archive.hpp"

#include <algorithm>
#include <cstring>

#include "io/inflate.hpp"

namespace ks::io {

namespace {

constexpr std::uint32_t kLocalHeader = 0x04034b50;
constexpr std::uint32_t kCentralHeader = 0x02014b50;
constexpr std::uint32_t kEndOfDirectory = 0x06054b50;
constexpr std::uint32_t kZip64EndOfDirectory = 0x06064b50;
constexpr std::uint32_t kZip64Locator = 0x07064b50;
constexpr std::size_t kEndOfDirectorySize = 22;
constexpr std::size_t kMaxEntries = 1 << 20;

/// Little-endian reads that throw instead of running past the buffer.
class Reader {
public:
    Reader(std::span<const std::byte> bytes, const std::string& what) : bytes_(bytes), what_(what) {}
    void need(std::uint64_t offset, std::uint64_t count, const char* item) const {
        if (offset > bytes_.size() || count > bytes_.size() - offset)
            throw ZipError(what_ + ": " + item + " at offset " + std::to_string(offset) + " (" +
                           std::to_string(count) + " bytes) lies outside the " + std::to_string(bytes_.size()) +
                           "-byte file");
    }
    template <class T>
    T get(std::uint64_t offset, const char* item) const {
        need(offset, sizeof(T), item);
        T value = 0;
        for (std::size_t i = 0; i < sizeof(T); ++i)
            value |= static_cast<T>(static_cast<T>(std::to_integer<unsigned>(bytes_[offset + i])) << (8 * i));
        return value;
    }
    std::string text(std::uint64_t offset, std::uint64_t count, const char* item) const {
        need(offset, count, item);
        return {reinterpret_cast<const char*>(bytes_.data() + offset), static_cast<std::size_t>(count)};
    }

private:
    std::span<const std::byte> bytes_;
    const std::string& what_;
};

}  // namespace

bool looksLikeZip(std::span<const std::byte> bytes) {
    return bytes.size() >= 4 && bytes[0] == std::byte{'P'} && bytes[1] == std::byte{'K'} &&
           bytes[2] == std::byte{3} && bytes[3] == std::byte{4};
}

ZipArchive::ZipArchive(std::span<const std::byte> bytes, std::string what) : bytes_(bytes), what_(std::move(what)) {
    const Reader r(bytes_, what_);
    if (bytes_.size() < kEndOfDirectorySize) throw ZipError(what_ + ": too short to be a zip archive");
    // The end-of-directory record is last, followed by a comment of at most 65535 bytes.
    std::uint64_t eocd = bytes_.size();
    const std::uint64_t lowest = bytes_.size() > kEndOfDirectorySize + 65535 ? bytes_.size() - kEndOfDirectorySize - 65535 : 0;
    for (std::uint64_t pos = bytes_.size() - kEndOfDirectorySize + 1; pos-- > lowest;) {
        if (r.get<std::uint32_t>(pos, "end of directory") == kEndOfDirectory) {
            eocd = pos;
            break;
        }
    }
    if (eocd == bytes_.size()) throw ZipError(what_ + ": no zip end-of-directory record (truncated or not a zip)");

    std::uint64_t count = r.get<std::uint16_t>(eocd + 10, "entry count");
    std::uint64_t directorySize = r.get<std::uint32_t>(eocd + 12, "directory size");
    std::uint64_t directoryOffset = r.get<std::uint32_t>(eocd + 16, "directory offset");
    if (count == 0xFFFF || directorySize == 0xFFFFFFFF || directoryOffset == 0xFFFFFFFF) {
        if (eocd < 20 || r.get<std::uint32_t>(eocd - 20, "zip64 locator") != kZip64Locator)
            throw ZipError(what_ + ": zip64 sizes announced but the zip64 locator is missing");
        const std::uint64_t eocd64 = r.get<std::uint64_t>(eocd - 20 + 8, "zip64 end of directory offset");
        if (r.get<std::uint32_t>(eocd64, "zip64 end of directory") != kZip64EndOfDirectory)
            throw ZipError(what_ + ": zip64 end-of-directory record not where the locator says");
        count = r.get<std::uint64_t>(eocd64 + 32, "zip64 entry count");
        directorySize = r.get<std::uint64_t>(eocd64 + 40, "zip64 directory size");
        directoryOffset = r.get<std::uint64_t>(eocd64 + 48, "zip64 directory offset");
    }
    r.need(directoryOffset, directorySize, "central directory");
    // Each central header takes at least 46 bytes: a count that cannot fit is a lie.
    if (count > kMaxEntries || count * 46 > directorySize)
        throw ZipError(what_ + ": claims " + std::to_string(count) + " entries in a " + std::to_string(directorySize) +
                       "-byte directory");

    std::uint64_t pos = directoryOffset;
    entries_.reserve(static_cast<std::size_t>(count));
    for (std::uint64_t i = 0; i < count; ++i) {
        if (r.get<std::uint32_t>(pos, "central directory header") != kCentralHeader)
            throw ZipError(what_ + ": central directory entry " + std::to_string(i) + " is corrupt");
        ZipEntry e;
        const std::uint16_t flags = r.get<std::uint16_t>(pos + 8, "flags");
        e.method = r.get<std::uint16_t>(pos + 10, "method");
        e.crc = r.get<std::uint32_t>(pos + 16, "crc");
        e.compressedSize = r.get<std::uint32_t>(pos + 20, "compressed size");
        e.uncompressedSize = r.get<std::uint32_t>(pos + 24, "size");
        const std::uint16_t nameLength = r.get<std::uint16_t>(pos + 28, "name length");
        const std::uint16_t extraLength = r.get<std::uint16_t>(pos + 30, "extra length");
        const std::uint16_t commentLength = r.get<std::uint16_t>(pos + 32, "comment length");
        std::uint64_t localOffset = r.get<std::uint32_t>(pos + 42, "local header offset");
        e.name = r.text(pos + 46, nameLength, "entry name");
        if (flags & 1) throw ZipError(what_ + ": entry '" + e.name + "' is encrypted");
        // Zip64 extra field: the 64-bit values appear in this order, only for fields saturated above.
        std::uint64_t extra = pos + 46 + nameLength;
        const std::uint64_t extraEnd = extra + extraLength;
        r.need(extra, extraLength, "extra field");
        while (extra + 4 <= extraEnd) {
            const std::uint16_t id = r.get<std::uint16_t>(extra, "extra id");
            const std::uint16_t size = r.get<std::uint16_t>(extra + 2, "extra size");
            if (extra + 4 + size > extraEnd) throw ZipError(what_ + ": entry '" + e.name + "' has a corrupt extra field");
            if (id == 0x0001) {
                std::uint64_t field = extra + 4;
                auto take = [&](std::uint64_t& value) {
                    if (value != 0xFFFFFFFF) return;
                    if (field + 8 > extra + 4 + size)
                        throw ZipError(what_ + ": entry '" + e.name + "' has a short zip64 field");
                    value = r.get<std::uint64_t>(field, "zip64 field");
                    field += 8;
                };
                take(e.uncompressedSize);
                take(e.compressedSize);
                take(localOffset);
            }
            extra += 4 + size;
        }
        pos = extraEnd + commentLength;
        if (pos > directoryOffset + directorySize) throw ZipError(what_ + ": central directory overruns its size");

        if (r.get<std::uint32_t>(localOffset, "local header") != kLocalHeader)
            throw ZipError(what_ + ": entry '" + e.name + "' points to no local header");
        const std::uint16_t localName = r.get<std::uint16_t>(localOffset + 26, "local name length");
        const std::uint16_t localExtra = r.get<std::uint16_t>(localOffset + 28, "local extra length");
        e.dataOffset = localOffset + 30 + localName + localExtra;
        r.need(e.dataOffset, e.compressedSize, ("data of entry '" + e.name + "'").c_str());
        if (e.method != 0 && e.method != 8)
            throw ZipError(what_ + ": entry '" + e.name + "' uses compression method " + std::to_string(e.method) +
                           " (only stored and deflate are supported)");
        if (e.method == 0 && e.compressedSize != e.uncompressedSize)
            throw ZipError(what_ + ": stored entry '" + e.name + "' has different compressed and plain sizes");
        entries_.push_back(std::move(e));
    }
}

const ZipEntry* ZipArchive::find(const std::string& name) const {
    for (const auto& e : entries_)
        if (e.name == name) return &e;
    return nullptr;
}

std::span<const std::byte> ZipArchive::view(const ZipEntry& entry) const {
    if (entry.method != 0) throw ZipError(what_ + ": entry '" + entry.name + "' is compressed");
    const auto data = bytes_.subspan(static_cast<std::size_t>(entry.dataOffset), static_cast<std::size_t>(entry.compressedSize));
    if (crc32(data) != entry.crc) throw ZipError(what_ + ": entry '" + entry.name + "' fails its CRC check (corrupt)");
    return data;
}

std::string ZipArchive::read(const ZipEntry& entry) const {
    const auto data = bytes_.subspan(static_cast<std::size_t>(entry.dataOffset), static_cast<std::size_t>(entry.compressedSize));
    std::string out;
    if (entry.method == 0) {
        out.assign(reinterpret_cast<const char*>(data.data()), data.size());
    } else {
        try {
            out = inflateRaw(data, entry.uncompressedSize, what_ + ": entry '" + entry.name + "'");
        } catch (const InflateError& e) {
            throw ZipError(e.what());
        }
    }
    if (crc32(std::as_bytes(std::span(out))) != entry.crc)
        throw ZipError(what_ + ": entry '" + entry.name + "' fails its CRC check (corrupt)");
    return out;
}

}  // namespace ks::io
