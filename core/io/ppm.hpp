#pragma once
// Netpbm binary images: P6 (RGB) and P5 (grey), maxval 1…65535 (two big-endian bytes per sample
// above 255). Used for the embedded photo (resources/images/) without an image library in core.
// Anything else — another magic, a truncated file, a header that lies — is a PpmError naming the problem.
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/tensor.hpp"

namespace ks::io {

struct PpmError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct PpmImage {
    std::int64_t width = 0;
    std::int64_t height = 0;
    int channels = 3;               ///< 3 (P6) or 1 (P5)
    int maxValue = 255;
    std::vector<std::uint16_t> samples;  ///< height × width × channels, row-major

    /// height × width × channels, each sample / maxValue (in [0, 1]).
    TensorD toUnitTensor() const;
};

/// Largest image accepted (pixels); a bigger claim is refused before any allocation.
inline constexpr std::int64_t kMaxPpmPixels = std::int64_t{1} << 26;

PpmImage parsePpm(std::span<const std::byte> bytes, const std::string& what = "PPM data");

/// The embedded photo (resources/images/chelsea.ppm) as a 300 × 451 × 3 tensor in [0, 1].
TensorD embeddedPhoto();

}  // namespace ks::io
