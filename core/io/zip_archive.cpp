#include "io/zip_archive.hpp"

#include <zip.h>

#include "io/printable.hpp"

namespace ks::io {

struct ZipArchive::Handle {
    zip_t* zip = nullptr;
};

namespace {

std::string libzipMessage(zip_error_t* error) { return zip_error_strerror(error); }

/// zip_error_t cleaned up on every path.
struct ErrorHolder {
    zip_error_t error;
    ErrorHolder() { zip_error_init(&error); }
    ~ErrorHolder() { zip_error_fini(&error); }
};

}  // namespace

bool looksLikeZip(std::span<const std::byte> bytes) {
    return bytes.size() >= 4 && bytes[0] == std::byte{'P'} && bytes[1] == std::byte{'K'} &&
           bytes[2] == std::byte{3} && bytes[3] == std::byte{4};
}

ZipArchive::ZipArchive(std::span<const std::byte> bytes, std::string what, std::uint64_t inflateBudget)
    : bytes_(bytes), what_(std::move(what)), inflateBudget_(inflateBudget) {
    ErrorHolder error;
    // The buffer source reads `bytes` in place (no copy, not freed by libzip).
    zip_source_t* source = zip_source_buffer_create(bytes_.data(), bytes_.size(), 0, &error.error);
    if (!source) throw ZipError(what_ + ": cannot read the zip archive (libzip: " + libzipMessage(&error.error) + ")");
    // ZIP_CHECKCONS: each local header must agree with its central directory entry, the directory with
    // the end record.
    zip_t* zip = zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error.error);
    if (!zip) {
        zip_source_free(source);
        throw ZipError(what_ + ": not a readable zip archive (libzip: " + libzipMessage(&error.error) + ")");
    }
    handle_ = new Handle{zip};
    try {
        const zip_int64_t count = zip_get_num_entries(zip, 0);
        if (count < 0 || static_cast<std::uint64_t>(count) > kMaxZipEntries)
            throw ZipError(what_ + ": holds " + std::to_string(count) + " entries, more than the " +
                           std::to_string(kMaxZipEntries) + " a weight file may have");
        entries_.reserve(static_cast<std::size_t>(count));
        for (zip_uint64_t i = 0; i < static_cast<zip_uint64_t>(count); ++i) {
            zip_stat_t st;
            zip_stat_init(&st);
            if (zip_stat_index(zip, i, ZIP_FL_ENC_RAW, &st) != 0)
                throw ZipError(what_ + ": entry " + std::to_string(i) + " is unreadable (libzip: " +
                               libzipMessage(zip_get_error(zip)) + ")");
            const zip_uint64_t needed = ZIP_STAT_NAME | ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_CRC |
                                        ZIP_STAT_COMP_METHOD | ZIP_STAT_ENCRYPTION_METHOD;
            if ((st.valid & needed) != needed)
                throw ZipError(what_ + ": entry " + std::to_string(i) + " lacks its name, sizes or CRC");
            ZipEntry e;
            e.name = st.name;
            e.index = i;
            e.crc = st.crc;
            e.compressedSize = st.comp_size;
            e.uncompressedSize = st.size;
            const std::string entry = what_ + ": entry '" + printable(e.name) + "'";
            if (st.encryption_method != ZIP_EM_NONE)
                throw ZipError(entry + " is encrypted (encryption method " + std::to_string(st.encryption_method) +
                               "); weight files are not");
            if (st.comp_method != ZIP_CM_STORE && st.comp_method != ZIP_CM_DEFLATE)
                throw ZipError(entry + " uses compression method " + std::to_string(st.comp_method) +
                               " (only stored and deflate are supported)");
            // Before anything is allocated for it: an entry's bytes lie within the archive.
            if (e.compressedSize > bytes_.size())
                throw ZipError(entry + " claims " + std::to_string(e.compressedSize) +
                               " compressed bytes, more than the " + std::to_string(bytes_.size()) +
                               " bytes of the whole archive");
            e.method = static_cast<std::uint16_t>(st.comp_method);
            if (e.method == ZIP_CM_STORE && e.compressedSize != e.uncompressedSize)
                throw ZipError(entry + " is stored but its compressed and plain sizes differ (" +
                               std::to_string(e.compressedSize) + " and " + std::to_string(e.uncompressedSize) + ")");
            if (e.method == ZIP_CM_DEFLATE && e.uncompressedSize > maxInflatedSize(e.compressedSize))
                throw ZipError(entry + " claims " + std::to_string(e.uncompressedSize) + " bytes from " +
                               std::to_string(e.compressedSize) + " compressed bytes, more than DEFLATE can encode");
            entries_.push_back(std::move(e));
        }
    } catch (...) {
        zip_discard(zip);
        delete handle_;
        throw;
    }
}

ZipArchive::~ZipArchive() {
    zip_discard(handle_->zip);  // read-only: nothing to write back
    delete handle_;
}

const ZipEntry* ZipArchive::find(const std::string& name) const {
    for (const auto& e : entries_)
        if (e.name == name) return &e;
    return nullptr;
}

void ZipArchive::checkInflateBudget(const std::vector<const ZipEntry*>& entries) const {
    std::uint64_t total = inflated_;
    for (const ZipEntry* e : entries)
        if (e->method == ZIP_CM_DEFLATE && __builtin_add_overflow(total, e->uncompressedSize, &total))
            total = UINT64_MAX;
    if (total > inflateBudget_)
        throw ZipError(what_ + ": its compressed entries would inflate to " + std::to_string(total) +
                       " bytes, more than the " + std::to_string(inflateBudget_) + " bytes allowed");
}

std::string ZipArchive::read(const ZipEntry& entry) const {
    const std::string name = what_ + ": entry '" + printable(entry.name) + "'";
    if (entry.method == ZIP_CM_DEFLATE) {
        checkInflateBudget({&entry});
        inflated_ += entry.uncompressedSize;
    }
    zip_file_t* file = zip_fopen_index(handle_->zip, entry.index, 0);
    if (!file) throw ZipError(name + " cannot be opened (libzip: " + libzipMessage(zip_get_error(handle_->zip)) + ")");
    struct Closer {
        zip_file_t* f;
        ~Closer() { zip_fclose(f); }
    } closer{file};
    // Sizes were checked against the file (stored) or DEFLATE's ratio and the budget (deflate) above.
    std::string out(static_cast<std::size_t>(entry.uncompressedSize), '\0');
    std::size_t filled = 0;
    while (filled < out.size()) {
        const zip_int64_t n = zip_fread(file, out.data() + filled, out.size() - filled);
        if (n < 0) throw ZipError(name + " is corrupt (libzip: " + libzipMessage(zip_file_get_error(file)) + ")");
        if (n == 0)
            throw ZipError(name + " holds " + std::to_string(filled) + " bytes, its header says " +
                           std::to_string(out.size()));
        filled += static_cast<std::size_t>(n);
    }
    // One more read reaches the end, where libzip compares the CRC-32 and the size with the headers'.
    char extra;
    const zip_int64_t n = zip_fread(file, &extra, 1);
    if (n < 0) throw ZipError(name + " is corrupt (libzip: " + libzipMessage(zip_file_get_error(file)) + ")");
    if (n > 0) throw ZipError(name + " holds more than the " + std::to_string(out.size()) + " bytes its header says");
    return out;
}

}  // namespace ks::io
