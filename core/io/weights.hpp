#pragma once
// Weight files: named tensors from PyTorch checkpoints (.pt/.pth), .safetensors, NumPy .npz/.npy.
//
// Every reader works on bytes in memory and treats them as hostile: sizes and offsets are checked
// against the buffer before use, nothing is allocated beyond what the file can back (a compressed
// entry: what DEFLATE can encode in its bytes, and 256 MiB for all of an archive's, kMaxInflatedBytes),
// and anything unexpected is a WeightFileError that names the file and the problem; names quoted
// from the file are escaped (io/printable.hpp). The PyTorch reader is a
// restricted unpickler that knows only what a state_dict of tensors needs and never executes code.
#include <cstddef>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/tensor.hpp"

namespace ks::io {

struct WeightFileError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

enum class WeightFormat { TorchCheckpoint, Safetensors, Npz, Npy };
std::string toString(WeightFormat format);

struct NamedTensor {
    std::string name;
    TensorF tensor;            ///< converted to float32 whatever the file stored
    std::string storedDtype;   ///< as the file said: "float32", "float16", "float64", "bfloat16"
};

struct WeightSet {
    WeightFormat format = WeightFormat::Safetensors;
    std::vector<NamedTensor> tensors;  ///< in the file's order

    const NamedTensor* find(const std::string& name) const;
    /// "fc1.weight (512, 784) float32, fc1.bias (512,) float32, ..." for error messages; the names are the
    /// file's, raw (the model builder escapes its whole message with printable()).
    std::string describe() const;
};

/// Largest tensor a weight file may describe (elements); a bigger claim is refused as hostile.
inline constexpr std::int64_t kMaxTensorElements = std::int64_t{1} << 28;

/// Detects the format from the content (not the extension).
WeightSet parseWeights(std::span<const std::byte> bytes, const std::string& what);
WeightSet readWeights(const std::filesystem::path& path);

WeightSet parseSafetensors(std::span<const std::byte> bytes, const std::string& what);
WeightSet parseNpz(std::span<const std::byte> bytes, const std::string& what);
/// A single .npy array: one tensor named after the file's stem.
WeightSet parseSingleNpy(std::span<const std::byte> bytes, const std::string& name, const std::string& what);
WeightSet parseTorchCheckpoint(std::span<const std::byte> bytes, const std::string& what);

/// float32 safetensors, tensors in the given order, with optional "__metadata__" string pairs.
std::string serializeSafetensors(const std::vector<NamedTensor>& tensors,
                                 const std::vector<std::pair<std::string, std::string>>& metadata = {});
void writeSafetensors(const std::filesystem::path& path, const std::vector<NamedTensor>& tensors,
                      const std::vector<std::pair<std::string, std::string>>& metadata = {});

/// IEEE half and bfloat16 to float, exactly.
float halfToFloat(std::uint16_t bits);
float bfloat16ToFloat(std::uint16_t bits);

}  // namespace ks::io
