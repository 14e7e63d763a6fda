#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace ks::io {

/// The largest file readFile() reads when its caller names no smaller limit (2 GiB): more than any weight file,
/// digit set or array KernelScope works with, less than what would exhaust an ordinary machine's memory.
inline constexpr std::uint64_t kDefaultMaxReadBytes = std::uint64_t{1} << 31;

/// The whole of a regular file, at most `maxBytes` of it. Devices, FIFOs, sockets and directories are refused at
/// once (opened without blocking, then checked with fstat), so that /dev/zero or a FIFO nobody writes neither fills
/// memory nor hangs; a file larger than `maxBytes` is refused before anything is read, and one that grows past it
/// while being read is refused too. std::runtime_error naming the path and what is wrong.
std::string readFile(const std::filesystem::path& path, std::uint64_t maxBytes = kDefaultMaxReadBytes);

/// Writes `bytes` to `path` so that a reader never sees a half-written file and a failed write leaves the old file
/// intact: into a new temporary file beside the target (created exclusively, never through a symbolic link, with
/// the mode the umask gives, or the replaced file's), flushed to disk, then renamed over the target. Refused with std::runtime_error naming
/// `path` (never the temporary file): a target that is a symbolic link, a directory, a FIFO, a device or a socket,
/// a read-only target (judged by its permission bits, since root may write anything), a missing folder.
/// Temporary files of earlier writes to the same target whose process is gone (killed mid-write) are removed.
void writeFileAtomically(const std::filesystem::path& path, std::string_view bytes);

/// The temporary file name writeFileAtomically() uses for `target` in process `pid`, without the random suffix:
/// "<name>.kernelscope-tmp-<pid>-". Exposed for the tests, which check that none is left behind.
std::string temporaryNamePrefix(const std::filesystem::path& target, long pid);

}  // namespace ks::io
