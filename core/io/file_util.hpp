#pragma once
#include <filesystem>
#include <string>
#include <string_view>

namespace ks::io {

/// The whole file; std::runtime_error naming the path and the OS's reason on failure.
std::string readFile(const std::filesystem::path& path);
/// Write to "<path>.tmp-XXXX" beside the target, flush, then rename over the target, so a reader
/// never sees a half-written file and a failed write leaves the old file intact.
void writeFileAtomically(const std::filesystem::path& path, std::string_view bytes);

}  // namespace ks::io
