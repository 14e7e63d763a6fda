#include "io/file_util.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <stdexcept>
#include <system_error>

#include <unistd.h>

namespace ks::io {

namespace {

std::runtime_error fileError(const std::string& verb, const std::filesystem::path& path) {
    return std::runtime_error("cannot " + verb + " '" + path.string() + "': " + std::strerror(errno));
}

}  // namespace

std::string readFile(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw fileError("open", path);
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        throw std::runtime_error("cannot read '" + path.string() + "': it is a directory");
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) throw fileError("read", path);
    return bytes;
}

void writeFileAtomically(const std::filesystem::path& path, std::string_view bytes) {
    std::random_device rd;
    const std::filesystem::path tmp =
        path.string() + ".tmp-" + std::to_string(static_cast<unsigned>(rd()) & 0xffffffu);
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) throw fileError("create", tmp);
    const bool written = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size() &&
                         std::fflush(f) == 0 && ::fsync(fileno(f)) == 0;
    const int savedErrno = errno;
    const bool closed = std::fclose(f) == 0;
    if (!written || !closed) {
        std::remove(tmp.c_str());
        errno = written ? errno : savedErrno;
        throw fileError("write", path);
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        const int renameErrno = errno;
        std::remove(tmp.c_str());
        errno = renameErrno;
        throw fileError("replace", path);
    }
}

}  // namespace ks::io
