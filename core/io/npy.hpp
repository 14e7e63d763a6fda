#pragma once
// NumPy .npy files: float32 and float64, little-endian, C order, any rank.
// Anything else (Fortran order, another dtype, a truncated file, a header that lies) is an NpyError
// naming the problem — never a crash, and never an allocation larger than the file itself.
#include <cstddef>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <variant>

#include "base/tensor.hpp"

namespace ks::io {

struct NpyError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

enum class NpyDtype { Float32, Float64 };

struct NpyArray {
    std::variant<TensorF, TensorD> tensor;
    NpyDtype dtype() const { return tensor.index() == 0 ? NpyDtype::Float32 : NpyDtype::Float64; }
    const Shape& shape() const;
    TensorF toFloat() const;   ///< converting if stored as float64
    TensorD toDouble() const;  ///< converting if stored as float32
};

/// Parse an in-memory .npy image (a file, or an entry of an .npz archive). `what` names it in errors.
NpyArray parseNpy(std::span<const std::byte> bytes, const std::string& what = "npy data");
NpyArray readNpy(const std::filesystem::path& path);
TensorF readNpyFloat(const std::filesystem::path& path);
TensorD readNpyDouble(const std::filesystem::path& path);

std::string serializeNpy(const TensorF& tensor);
std::string serializeNpy(const TensorD& tensor);
/// Written atomically: to a temporary file beside the target, then renamed over it.
void writeNpy(const std::filesystem::path& path, const TensorF& tensor);
void writeNpy(const std::filesystem::path& path, const TensorD& tensor);

}  // namespace ks::io
