#pragma once
// ONNX model files, read into plain data: the inference graph's nodes with their attributes, its
// initializers (float32 and int64 tensors), its inputs and outputs. Parsing is libonnx's generated
// protobuf code (Debian's libonnx-dev); this layer keeps protobuf out of every other header and treats
// the file as hostile: tensor sizes are checked against the bytes that back them before anything is
// allocated, external data is refused (it would make the model read other files), and everything
// unexpected is an OnnxError naming the file, and the node or tensor, and what is wrong. Names quoted
// from the file are escaped (io/printable.hpp).
//
// What a graph *means* (which operators, how they become KernelScope's layers) is nn/onnx_graph's
// business; this reader knows only the file.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ks::io {

struct OnnxError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// A constant tensor of the graph: float32 (weights) or int64 (shapes, pads, axes).
struct OnnxTensor {
    enum class Type { Float, Int64 };
    std::string name;
    Type type = Type::Float;
    std::vector<std::int64_t> dims;  ///< row-major; empty for a scalar
    std::vector<float> floats;       ///< Type::Float: count() values
    std::vector<std::int64_t> ints;  ///< Type::Int64: count() values

    std::int64_t count() const;
};

struct OnnxAttribute {
    enum class Kind { Int, Float, String, Ints, Floats, Tensor, Other };
    std::string name;
    Kind kind = Kind::Other;
    std::int64_t i = 0;
    float f = 0;
    std::string s;
    std::vector<std::int64_t> ints;
    std::vector<float> floats;
    std::vector<OnnxTensor> tensor;  ///< Kind::Tensor: one element (a vector keeps the type complete here)
};

struct OnnxNode {
    std::string name;    ///< the file's, or "<op>_<index>" when the file gives none
    std::string opType;  ///< "Conv", "Gemm", ...
    std::vector<std::string> inputs;  ///< an empty name is an omitted optional input
    std::vector<std::string> outputs;
    std::vector<OnnxAttribute> attributes;

    const OnnxAttribute* attribute(std::string_view attributeName) const;
    /// "Conv node 'conv1'" for messages (the name escaped).
    std::string label() const;
};

/// A graph input or output: its name and, where the file gives them, its dimensions (-1 for a symbolic or
/// unknown one, such as the batch).
struct OnnxValue {
    std::string name;
    std::vector<std::int64_t> dims;
    bool hasShape = false;
};

struct OnnxGraph {
    std::int64_t irVersion = 0;
    std::int64_t opsetVersion = 0;  ///< of the default domain ("" / "ai.onnx")
    std::string producer;           ///< "pytorch 1.13.1"
    std::vector<OnnxNode> nodes;    ///< in the file's order (ONNX requires a topological one; checked later)
    std::vector<OnnxTensor> initializers;
    std::vector<OnnxValue> inputs;   ///< the fed inputs only (initializers listed as inputs by old IRs are dropped)
    std::vector<OnnxValue> outputs;

    const OnnxTensor* initializer(std::string_view tensorName) const;
};

/// Limits on what a file may claim, far above any network KernelScope runs.
inline constexpr std::int64_t kMaxOnnxTensorElements = std::int64_t{1} << 28;  ///< 1 GiB of float32
inline constexpr std::int64_t kMaxOnnxNodes = 100000;
inline constexpr std::uint64_t kMaxOnnxFileBytes = std::uint64_t{1} << 30;

/// `what` names the source in messages (a file name).
OnnxGraph parseOnnx(std::span<const std::byte> bytes, const std::string& what);
OnnxGraph readOnnx(const std::filesystem::path& path);

/// True when the bytes look like an ONNX model (a protobuf ModelProto whose first field is ir_version, then another
/// field), so callers can tell an ONNX file from a weight file by content.
bool looksLikeOnnx(std::span<const std::byte> bytes);

}  // namespace ks::io
