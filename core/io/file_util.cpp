#include "io/file_util.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <stdexcept>
#include <system_error>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/printable.hpp"

namespace ks::io {

namespace {

constexpr const char* kTemporaryTag = ".kernelscope-tmp-";

std::string quoted(const std::filesystem::path& path) { return "'" + printable(path.string()) + "'"; }

std::runtime_error fileError(const std::string& verb, const std::filesystem::path& path, int error) {
    return std::runtime_error("cannot " + verb + " " + quoted(path) + ": " + std::strerror(error));
}

/// "a FIFO", "a directory", ... for a file that is not a regular one.
const char* kindOf(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISLNK(mode)) return "a symbolic link";
    return "not a regular file";
}

std::string sizeText(std::uint64_t bytes) {
    std::string text = std::to_string(bytes) + " bytes";
    if (bytes >= (std::uint64_t{1} << 20)) {
        char mib[32];
        std::snprintf(mib, sizeof mib, " (%.1f MiB)", static_cast<double>(bytes) / double(1 << 20));
        text += mib;
    }
    return text;
}

class FileDescriptor {
public:
    explicit FileDescriptor(int fd) : fd_(fd) {}
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    ~FileDescriptor() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }
    /// Closes now and reports close's own error (a delayed write error on some file systems).
    int close() {
        const int result = ::close(fd_);
        fd_ = -1;
        return result == 0 ? 0 : errno;
    }

private:
    int fd_;
};

/// Whether this process may write the file, judged by its permission bits: access() would say yes to root for
/// every file, and we run as root in CI, where a read-only target must still be refused.
bool writableByUs(const struct stat& st) {
    const uid_t uid = ::geteuid();
    if (uid == 0) return (st.st_mode & (S_IWUSR | S_IWGRP | S_IWOTH)) != 0;
    if (st.st_uid == uid) return (st.st_mode & S_IWUSR) != 0;
    if (st.st_gid == ::getegid()) return (st.st_mode & S_IWGRP) != 0;
    gid_t groups[256];
    const int count = ::getgroups(256, groups);
    for (int i = 0; i < count; ++i)
        if (groups[i] == st.st_gid) return (st.st_mode & S_IWGRP) != 0;
    return (st.st_mode & S_IWOTH) != 0;
}

/// Removes "<name>.kernelscope-tmp-<pid>-*" files beside `target` whose process no longer exists: what a write
/// killed between creating its temporary file and renaming it leaves behind. Best effort: a folder we cannot list
/// or a file we cannot remove is left as it is, since the write itself does not depend on it.
void removeStaleTemporaries(const std::filesystem::path& directory, const std::string& name) {
    DIR* dir = ::opendir(directory.empty() ? "." : directory.c_str());
    if (!dir) return;
    const std::string prefix = name + kTemporaryTag;
    while (const dirent* entry = ::readdir(dir)) {
        const std::string_view entryName(entry->d_name);
        if (entryName.substr(0, prefix.size()) != prefix) continue;
        const std::string_view rest = entryName.substr(prefix.size());
        const std::size_t dash = rest.find('-');
        if (dash == 0 || dash == std::string_view::npos) continue;
        long pid = 0;
        bool digits = dash <= 9;
        for (char c : rest.substr(0, dash)) {
            digits = digits && c >= '0' && c <= '9';
            pid = pid * 10 + (c - '0');
        }
        if (!digits || pid <= 0) continue;
        if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // alive, or not ours to judge
        struct stat st {};
        const std::filesystem::path stale = directory / std::string(entryName);
        if (::lstat(stale.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == ::geteuid())
            ::unlink(stale.c_str());
    }
    ::closedir(dir);
}

std::string randomSuffix() {
    static thread_local std::mt19937_64 engine{std::random_device{}()};
    static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::string suffix(8, ' ');
    for (char& c : suffix) c = kAlphabet[engine() % (sizeof kAlphabet - 1)];
    return suffix;
}

/// The folder part of `path`, for messages ("." when the path names a file in the current folder).
std::filesystem::path folderOf(const std::filesystem::path& path) {
    return path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
}

}  // namespace

std::string temporaryNamePrefix(const std::filesystem::path& target, long pid) {
    return target.filename().string() + kTemporaryTag + std::to_string(pid) + "-";
}

std::string readFile(const std::filesystem::path& path, std::uint64_t maxBytes) {
    // O_NONBLOCK: opening a FIFO without a writer would otherwise wait forever; it is harmless for regular files.
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) throw fileError("open", path, errno);
    FileDescriptor file(fd);
    struct stat st {};
    if (::fstat(file.get(), &st) != 0) throw fileError("read", path, errno);
    if (!S_ISREG(st.st_mode))
        throw std::runtime_error("cannot read " + quoted(path) + ": it is " + kindOf(st.st_mode) +
                                 ", not a regular file");
    const auto declared = static_cast<std::uint64_t>(st.st_size);
    if (declared > maxBytes)
        throw std::runtime_error("cannot read " + quoted(path) + ": it is " + sizeText(declared) +
                                 ", more than the " + sizeText(maxBytes) + " this kind of file may have");
    std::string bytes;
    bytes.resize(static_cast<std::size_t>(declared));
    std::size_t filled = 0;
    for (;;) {
        // Files may change while we read them (or, like /proc's, have no size): grow past the stated size in steps,
        // up to one byte beyond the limit, which tells a file that is too large.
        if (filled == bytes.size()) {
            if (bytes.size() > maxBytes) break;
            const std::uint64_t grown = std::min<std::uint64_t>(maxBytes + 1, bytes.size() + (std::size_t{1} << 16));
            bytes.resize(static_cast<std::size_t>(grown));
        }
        const ssize_t got = ::read(file.get(), bytes.data() + filled, bytes.size() - filled);
        if (got < 0) {
            if (errno == EINTR) continue;
            throw fileError("read", path, errno);
        }
        if (got == 0) break;
        filled += static_cast<std::size_t>(got);
    }
    if (filled > maxBytes)
        throw std::runtime_error("cannot read " + quoted(path) + ": it grew past the " + sizeText(maxBytes) +
                                 " this kind of file may have while being read");
    bytes.resize(filled);
    return bytes;
}

void writeFileAtomically(const std::filesystem::path& path, std::string_view bytes) {
    if (path.empty()) throw std::runtime_error("cannot write a file with an empty name");
    if (!path.has_filename())
        throw std::runtime_error("cannot write " + quoted(path) + ": the path names a folder, not a file");
    struct stat target {};
    const bool replacing = ::lstat(path.c_str(), &target) == 0;
    if (replacing) {
        if (!S_ISREG(target.st_mode))
            throw std::runtime_error("cannot write " + quoted(path) + ": it is " + kindOf(target.st_mode) +
                                     ", and only a regular file is replaced");
        if (!writableByUs(target))
            throw std::runtime_error("cannot write " + quoted(path) + ": it is read-only");
    } else if (errno != ENOENT) {
        throw fileError("write", path, errno);
    }
    const std::filesystem::path folder = folderOf(path);
    struct stat folderStat {};
    if (::stat(folder.c_str(), &folderStat) != 0) {
        if (errno == ENOENT)
            throw std::runtime_error("cannot write " + quoted(path) + ": the folder " + quoted(folder) +
                                     " does not exist");
        throw fileError("write", path, errno);
    }
    if (!S_ISDIR(folderStat.st_mode))
        throw std::runtime_error("cannot write " + quoted(path) + ": " + quoted(folder) + " is not a folder");

    const std::string name = path.filename().string();
    removeStaleTemporaries(path.parent_path(), name);

    std::filesystem::path temporary;
    int fd = -1;
    for (int attempt = 0; attempt < 16 && fd < 0; ++attempt) {
        temporary = path.parent_path() / (temporaryNamePrefix(path, ::getpid()) + randomSuffix());
        // 0666: the umask decides the final mode, as for any new file the user's tools create.
        fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0666);
        if (fd < 0 && errno != EEXIST) {
            const int error = errno;
            throw std::runtime_error("cannot write " + quoted(path) + ": cannot create a new file in " +
                                     quoted(folder) + ": " + std::strerror(error));
        }
    }
    if (fd < 0) throw std::runtime_error("cannot write " + quoted(path) + ": no unused temporary name beside it");
    FileDescriptor file(fd);

    int error = 0;
    // A replaced file keeps its permissions: a private (0600) file must not become readable by others.
    if (replacing && ::fchmod(file.get(), target.st_mode & 07777) != 0) error = errno;
    for (std::size_t written = 0; written < bytes.size() && error == 0;) {
        const ssize_t put = ::write(file.get(), bytes.data() + written, bytes.size() - written);
        if (put < 0 && errno != EINTR) error = errno;
        if (put > 0) written += static_cast<std::size_t>(put);
    }
    if (error == 0 && ::fsync(file.get()) != 0) error = errno;
    const int closeError = file.close();
    if (error == 0) error = closeError;
    if (error == 0 && ::rename(temporary.c_str(), path.c_str()) != 0) error = errno;
    if (error != 0) {
        ::unlink(temporary.c_str());
        throw fileError("write", path, error);
    }
    // The rename itself is durable once the folder is synced; a failure here loses nothing already written.
    const int folderFd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (folderFd >= 0) {
        ::fsync(folderFd);
        ::close(folderFd);
    }
}

}  // namespace ks::io
