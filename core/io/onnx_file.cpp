// ONNX files through libonnx's generated protobuf classes (onnx/onnx_pb.h), converted at once into
// io::OnnxGraph so that nothing else sees protobuf. Field meanings: onnx/onnx.proto.
#include "io/onnx_file.hpp"

#include <onnx/onnx_pb.h>

#include <cstring>
#include <limits>

#include "io/file_util.hpp"
#include "io/printable.hpp"

namespace ks::io {

std::int64_t OnnxTensor::count() const {
    std::int64_t n = 1;
    for (std::int64_t d : dims) n *= d;
    return n;
}

const OnnxAttribute* OnnxNode::attribute(std::string_view attributeName) const {
    for (const OnnxAttribute& a : attributes)
        if (a.name == attributeName) return &a;
    return nullptr;
}

std::string OnnxNode::label() const { return printable(opType) + " node '" + printable(name) + "'"; }

const OnnxTensor* OnnxGraph::initializer(std::string_view tensorName) const {
    for (const OnnxTensor& t : initializers)
        if (t.name == tensorName) return &t;
    return nullptr;
}

namespace {

[[noreturn]] void fail(const std::string& what, const std::string& why) { throw OnnxError(what + ": " + why); }

std::string dataTypeName(int type) {
    const auto* descriptor = onnx::TensorProto_DataType_descriptor();
    const auto* value = descriptor->FindValueByNumber(type);
    return value ? value->name() : "type " + std::to_string(type);
}

/// The element count the dims claim, refused when negative or beyond kMaxOnnxTensorElements (before any
/// product can overflow).
std::int64_t checkedCount(const onnx::TensorProto& t, const std::string& where) {
    std::int64_t n = 1;
    for (std::int64_t d : t.dims()) {
        if (d < 0) fail(where, "a negative dimension (" + std::to_string(d) + ")");
        if (d != 0 && n > kMaxOnnxTensorElements / d)
            fail(where, "more than " + std::to_string(kMaxOnnxTensorElements) + " elements claimed");
        n *= d;
    }
    if (n > kMaxOnnxTensorElements) fail(where, "more than " + std::to_string(kMaxOnnxTensorElements) + " elements claimed");
    return n;
}

template <class Out, class In>
std::vector<Out> fromRaw(const std::string& raw, std::int64_t count, const std::string& where) {
    if (raw.size() != std::uint64_t(count) * sizeof(In))
        fail(where, "raw data of " + std::to_string(raw.size()) + " bytes for " + std::to_string(count) + " elements of " +
                        std::to_string(sizeof(In)) + " bytes");
    std::vector<Out> out(static_cast<std::size_t>(count));
    for (std::int64_t i = 0; i < count; ++i) {
        In v;
        std::memcpy(&v, raw.data() + i * std::int64_t(sizeof(In)), sizeof(In));  // little-endian, as ONNX stores it
        out[std::size_t(i)] = static_cast<Out>(v);
    }
    return out;
}

template <class Out, class Field>
std::vector<Out> fromField(const Field& field, std::int64_t count, const std::string& where) {
    if (field.size() != count)
        fail(where, std::to_string(field.size()) + " values stored for " + std::to_string(count) + " elements");
    return std::vector<Out>(field.begin(), field.end());
}

OnnxTensor convertTensor(const onnx::TensorProto& t, const std::string& what, const std::string& role) {
    const std::string where = what + ": " + role + " '" + printable(t.name()) + "'";
    if (t.data_location() == onnx::TensorProto::EXTERNAL || t.external_data_size() > 0)
        fail(where, "its data is in an external file, which KernelScope does not read (it would open other files "
                    "the model names); save the model with its weights inside (onnx.save(model, path, "
                    "save_as_external_data=False))");
    if (t.has_segment()) fail(where, "a segmented tensor, which KernelScope does not read");
    OnnxTensor out;
    out.name = t.name();
    out.dims.assign(t.dims().begin(), t.dims().end());
    const std::int64_t count = checkedCount(t, where);
    const bool raw = t.has_raw_data();
    switch (t.data_type()) {
        case onnx::TensorProto::FLOAT:
            out.floats = raw ? fromRaw<float, float>(t.raw_data(), count, where) : fromField<float>(t.float_data(), count, where);
            break;
        case onnx::TensorProto::DOUBLE:
            out.floats = raw ? fromRaw<float, double>(t.raw_data(), count, where) : fromField<float>(t.double_data(), count, where);
            break;
        case onnx::TensorProto::INT64:
            out.type = OnnxTensor::Type::Int64;
            out.ints = raw ? fromRaw<std::int64_t, std::int64_t>(t.raw_data(), count, where)
                           : fromField<std::int64_t>(t.int64_data(), count, where);
            break;
        case onnx::TensorProto::INT32:
            out.type = OnnxTensor::Type::Int64;
            out.ints = raw ? fromRaw<std::int64_t, std::int32_t>(t.raw_data(), count, where)
                           : fromField<std::int64_t>(t.int32_data(), count, where);
            break;
        default:
            fail(where, "element type " + dataTypeName(t.data_type()) +
                            "; KernelScope reads FLOAT and DOUBLE weights and INT64 / INT32 shapes");
    }
    return out;
}

OnnxValue convertValue(const onnx::ValueInfoProto& v) {
    OnnxValue out;
    out.name = v.name();
    if (!v.has_type() || !v.type().has_tensor_type() || !v.type().tensor_type().has_shape()) return out;
    out.hasShape = true;
    for (const auto& d : v.type().tensor_type().shape().dim())
        out.dims.push_back(d.has_dim_value() && d.dim_value() >= 0 ? d.dim_value() : -1);
    return out;
}

OnnxAttribute convertAttribute(const onnx::AttributeProto& a, const std::string& where) {
    OnnxAttribute out;
    out.name = a.name();
    switch (a.type()) {
        case onnx::AttributeProto::INT: out.kind = OnnxAttribute::Kind::Int; out.i = a.i(); break;
        case onnx::AttributeProto::FLOAT: out.kind = OnnxAttribute::Kind::Float; out.f = a.f(); break;
        case onnx::AttributeProto::STRING: out.kind = OnnxAttribute::Kind::String; out.s = a.s(); break;
        case onnx::AttributeProto::INTS:
            out.kind = OnnxAttribute::Kind::Ints;
            out.ints.assign(a.ints().begin(), a.ints().end());
            break;
        case onnx::AttributeProto::FLOATS:
            out.kind = OnnxAttribute::Kind::Floats;
            out.floats.assign(a.floats().begin(), a.floats().end());
            break;
        case onnx::AttributeProto::TENSOR:
            out.kind = OnnxAttribute::Kind::Tensor;
            out.tensor.push_back(convertTensor(a.t(), where, "attribute '" + printable(a.name()) + "'"));
            break;
        default: out.kind = OnnxAttribute::Kind::Other; break;
    }
    return out;
}

}  // namespace

bool looksLikeOnnx(std::span<const std::byte> bytes) {
    // ModelProto's field 1 (ir_version), a one-byte varint, first (PyTorch, onnx.save and every exporter write it
    // so): tag 0x08, the version, then another field's tag (a varint or length-delimited field). A safetensors file
    // starts with its header's length, whose second and third bytes are not so (a header under 64 KiB).
    if (bytes.size() < 3 || bytes[0] != std::byte{0x08}) return false;
    const auto version = std::to_integer<unsigned>(bytes[1]), tag = std::to_integer<unsigned>(bytes[2]);
    return version >= 1 && version < 0x80 && tag >= 0x10 && ((tag & 7) == 0 || (tag & 7) == 2);
}

OnnxGraph parseOnnx(std::span<const std::byte> bytes, const std::string& what) {
    if (bytes.size() > kMaxOnnxFileBytes)
        fail(what, "larger than " + std::to_string(kMaxOnnxFileBytes >> 20) + " MiB, the most KernelScope reads");
    onnx::ModelProto model;
    if (bytes.empty() || !model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
        fail(what, "not an ONNX model (the protobuf does not parse: truncated, or another kind of file)");
    if (!model.has_graph()) fail(what, "an ONNX model without a graph");
    OnnxGraph g;
    g.irVersion = model.ir_version();
    g.producer = model.producer_name() + (model.producer_version().empty() ? "" : " " + model.producer_version());
    for (const auto& opset : model.opset_import())
        if (opset.domain().empty() || opset.domain() == "ai.onnx") g.opsetVersion = opset.version();
    const onnx::GraphProto& graph = model.graph();
    if (graph.node_size() > kMaxOnnxNodes)
        fail(what, std::to_string(graph.node_size()) + " nodes, more than the " + std::to_string(kMaxOnnxNodes) +
                       " KernelScope reads");
    if (graph.sparse_initializer_size() > 0) fail(what, "sparse initializers, which KernelScope does not read");
    for (const auto& t : graph.initializer()) g.initializers.push_back(convertTensor(t, what, "initializer"));
    for (const auto& v : graph.input())
        if (!g.initializer(v.name())) g.inputs.push_back(convertValue(v));
    for (const auto& v : graph.output()) g.outputs.push_back(convertValue(v));
    int index = 0;
    for (const auto& n : graph.node()) {
        OnnxNode node;
        node.opType = n.op_type();
        node.name = n.name().empty() ? n.op_type() + "_" + std::to_string(index) : n.name();
        ++index;
        if (!n.domain().empty() && n.domain() != "ai.onnx")
            fail(what, node.label() + ": operator domain '" + printable(n.domain()) +
                           "'; KernelScope reads the standard ONNX operators (domain ai.onnx)");
        node.inputs.assign(n.input().begin(), n.input().end());
        node.outputs.assign(n.output().begin(), n.output().end());
        for (const auto& a : n.attribute()) node.attributes.push_back(convertAttribute(a, what + ": " + node.label()));
        g.nodes.push_back(std::move(node));
    }
    return g;
}

OnnxGraph readOnnx(const std::filesystem::path& path) {
    const std::string bytes = readFile(path, kMaxOnnxFileBytes);
    return parseOnnx(std::as_bytes(std::span(bytes)), path.filename().string());
}

}  // namespace ks::io
