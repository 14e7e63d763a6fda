#pragma once
// A small reader of the ONNX files the tests use as outside data (Debian's libonnx-testdata: the ONNX
// backend node tests and the PyTorch-exported operator tests): TensorProto .pb files and the graph of a
// model.onnx (its nodes with their attributes, its initializers, its inputs). Only the protobuf fields
// needed for float32 operator tests are read; everything else is skipped by its wire type. Field numbers
// are those of onnx.proto (onnx/onnx.proto in the ONNX repository). Malformed or unsupported input throws
// std::runtime_error naming the file and what is wrong.
#include <bit>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ks::test::onnx {

struct Tensor {
    std::string name;                 ///< empty in most test_data_set .pb files
    std::vector<std::int64_t> dims;   ///< row-major shape
    std::vector<float> values;        ///< product of dims values

    std::int64_t count() const {
        std::int64_t n = 1;
        for (std::int64_t d : dims) n *= d;
        return n;
    }
};

struct Attribute {
    std::string name;
    std::int64_t i = 0;
    float f = 0;
    std::string s;
    std::vector<std::int64_t> ints;
};

struct Node {
    std::string opType;
    std::vector<std::string> inputs;   ///< an empty name is an omitted optional input
    std::vector<std::string> outputs;
    std::vector<Attribute> attributes;

    const Attribute* attribute(std::string_view attributeName) const {
        for (const Attribute& a : attributes)
            if (a.name == attributeName) return &a;
        return nullptr;
    }
};

struct Graph {
    std::vector<Node> nodes;
    std::vector<Tensor> initializers;
    std::vector<std::string> inputs;   ///< graph inputs in order (older IRs list the initializers here too)

    const Tensor* initializer(std::string_view tensorName) const {
        for (const Tensor& t : initializers)
            if (t.name == tensorName) return &t;
        return nullptr;
    }
    /// The graph inputs that are not initializers, in order: test_data_set_0/input_<i>.pb is the i-th.
    std::vector<std::string> fedInputs() const {
        std::vector<std::string> fed;
        for (const std::string& name : inputs)
            if (!initializer(name)) fed.push_back(name);
        return fed;
    }
};

namespace detail {

/// Protobuf wire format over a byte range; `context` names the file and message for errors.
class WireReader {
public:
    WireReader(std::string_view bytes, std::string context) : bytes_(bytes), context_(std::move(context)) {}

    bool atEnd() const { return pos_ >= bytes_.size(); }

    /// The next field's number and wire type (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32).
    std::pair<std::uint64_t, int> key() {
        const std::uint64_t k = varint();
        const int wireType = static_cast<int>(k & 7);
        if (k >> 3 == 0) fail("field number 0");
        return {k >> 3, wireType};
    }

    std::uint64_t varint() {
        std::uint64_t value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (atEnd()) fail("truncated varint");
            const auto byte = static_cast<unsigned char>(bytes_[pos_++]);
            value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
            if (!(byte & 0x80)) return value;
        }
        fail("varint longer than 10 bytes");
    }

    std::uint32_t fixed32() {
        std::uint32_t v;
        std::memcpy(&v, take(4).data(), 4);
        return littleEndian(v);
    }

    std::string_view lengthDelimited() {
        const std::uint64_t n = varint();
        if (n > bytes_.size() - pos_) fail("length " + std::to_string(n) + " runs past the end");
        return take(static_cast<std::size_t>(n));
    }

    void skip(int wireType) {
        switch (wireType) {
        case 0: varint(); break;
        case 1: take(8); break;
        case 2: lengthDelimited(); break;
        case 5: take(4); break;
        default: fail("unsupported wire type " + std::to_string(wireType));
        }
    }

    /// A repeated int64 field: packed (wire type 2) or one value per key (wire type 0).
    void appendInt64s(int wireType, std::vector<std::int64_t>& out) {
        if (wireType == 0) {
            out.push_back(static_cast<std::int64_t>(varint()));
        } else if (wireType == 2) {
            WireReader packed(lengthDelimited(), context_);
            while (!packed.atEnd()) out.push_back(static_cast<std::int64_t>(packed.varint()));
        } else {
            fail("repeated int64 with wire type " + std::to_string(wireType));
        }
    }

    /// A repeated float field: packed (wire type 2) or one value per key (wire type 5).
    void appendFloats(int wireType, std::vector<float>& out) {
        if (wireType == 5) {
            out.push_back(std::bit_cast<float>(fixed32()));
        } else if (wireType == 2) {
            const std::string_view packed = lengthDelimited();
            if (packed.size() % 4) fail("packed floats of " + std::to_string(packed.size()) + " bytes");
            appendRawFloats(packed, out);
        } else {
            fail("repeated float with wire type " + std::to_string(wireType));
        }
    }

    void expect(int wireType, int expected, const char* field) {
        if (wireType != expected)
            fail(std::string(field) + " has wire type " + std::to_string(wireType) + ", expected " +
                 std::to_string(expected));
    }

    [[noreturn]] void fail(const std::string& what) const {
        throw std::runtime_error(context_ + ": " + what + " (at byte " + std::to_string(pos_) + ")");
    }

    const std::string& context() const { return context_; }

    static std::uint32_t littleEndian(std::uint32_t v) {
        if constexpr (std::endian::native == std::endian::big) return __builtin_bswap32(v);
        return v;
    }

    /// raw_data and packed float_data: little-endian IEEE float32.
    static void appendRawFloats(std::string_view bytes, std::vector<float>& out) {
        for (std::size_t i = 0; i + 4 <= bytes.size(); i += 4) {
            std::uint32_t v;
            std::memcpy(&v, bytes.data() + i, 4);
            out.push_back(std::bit_cast<float>(littleEndian(v)));
        }
    }

private:
    std::string_view take(std::size_t n) {
        if (n > bytes_.size() - pos_) fail("truncated: " + std::to_string(n) + " bytes wanted");
        const std::string_view part = bytes_.substr(pos_, n);
        pos_ += n;
        return part;
    }

    std::string_view bytes_;
    std::size_t pos_ = 0;
    std::string context_;
};

inline std::string readWholeFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path + ": cannot open");
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// TensorProto: dims = 1, data_type = 2, float_data = 4, name = 8, raw_data = 9.
inline Tensor parseTensor(std::string_view bytes, const std::string& context) {
    constexpr std::uint64_t kFloat = 1;  // TensorProto.DataType.FLOAT
    WireReader reader(bytes, context);
    Tensor t;
    std::uint64_t dataType = 0;
    std::string_view raw;
    bool hasRaw = false;
    while (!reader.atEnd()) {
        const auto [field, wireType] = reader.key();
        if (field == 1) {
            reader.appendInt64s(wireType, t.dims);
        } else if (field == 2) {
            reader.expect(wireType, 0, "data_type");
            dataType = reader.varint();
        } else if (field == 4) {
            reader.appendFloats(wireType, t.values);
        } else if (field == 8) {
            reader.expect(wireType, 2, "name");
            t.name = std::string(reader.lengthDelimited());
        } else if (field == 9) {
            reader.expect(wireType, 2, "raw_data");
            raw = reader.lengthDelimited();
            hasRaw = true;
        } else {
            reader.skip(wireType);
        }
    }
    if (dataType != kFloat)
        reader.fail("tensor '" + t.name + "' has data_type " + std::to_string(dataType) + ", only FLOAT (1) is read");
    for (std::int64_t d : t.dims)
        if (d < 0 || d > (std::int64_t{1} << 31)) reader.fail("dimension " + std::to_string(d));
    if (hasRaw) {
        if (!t.values.empty()) reader.fail("both raw_data and float_data");
        if (raw.size() % 4) reader.fail("raw_data of " + std::to_string(raw.size()) + " bytes is not float32");
        WireReader::appendRawFloats(raw, t.values);
    }
    if (static_cast<std::int64_t>(t.values.size()) != t.count())
        reader.fail("tensor '" + t.name + "' holds " + std::to_string(t.values.size()) + " values for " +
                    std::to_string(t.count()) + " elements");
    return t;
}

// AttributeProto: name = 1, f = 2, i = 3, s = 4, ints = 8 (the others are skipped).
inline Attribute parseAttribute(std::string_view bytes, const std::string& context) {
    WireReader reader(bytes, context);
    Attribute a;
    while (!reader.atEnd()) {
        const auto [field, wireType] = reader.key();
        if (field == 1) {
            reader.expect(wireType, 2, "attribute name");
            a.name = std::string(reader.lengthDelimited());
        } else if (field == 2) {
            reader.expect(wireType, 5, "attribute f");
            a.f = std::bit_cast<float>(reader.fixed32());
        } else if (field == 3) {
            reader.expect(wireType, 0, "attribute i");
            a.i = static_cast<std::int64_t>(reader.varint());
        } else if (field == 4) {
            reader.expect(wireType, 2, "attribute s");
            a.s = std::string(reader.lengthDelimited());
        } else if (field == 8) {
            reader.appendInt64s(wireType, a.ints);
        } else {
            reader.skip(wireType);
        }
    }
    return a;
}

// NodeProto: input = 1, output = 2, op_type = 4, attribute = 5.
inline Node parseNode(std::string_view bytes, const std::string& context) {
    WireReader reader(bytes, context);
    Node node;
    while (!reader.atEnd()) {
        const auto [field, wireType] = reader.key();
        if (field == 1 || field == 2 || field == 4) {
            reader.expect(wireType, 2, "node input/output/op_type");
            std::string text(reader.lengthDelimited());
            if (field == 1) node.inputs.push_back(std::move(text));
            else if (field == 2) node.outputs.push_back(std::move(text));
            else node.opType = std::move(text);
        } else if (field == 5) {
            reader.expect(wireType, 2, "attribute");
            node.attributes.push_back(parseAttribute(reader.lengthDelimited(), context + " attribute"));
        } else {
            reader.skip(wireType);
        }
    }
    return node;
}

// GraphProto: node = 1, initializer = 5, input = 11 (ValueInfoProto: name = 1).
inline Graph parseGraph(std::string_view bytes, const std::string& context) {
    WireReader reader(bytes, context);
    Graph graph;
    while (!reader.atEnd()) {
        const auto [field, wireType] = reader.key();
        if (field == 1) {
            reader.expect(wireType, 2, "node");
            graph.nodes.push_back(parseNode(reader.lengthDelimited(), context + " node"));
        } else if (field == 5) {
            reader.expect(wireType, 2, "initializer");
            graph.initializers.push_back(parseTensor(reader.lengthDelimited(), context + " initializer"));
        } else if (field == 11) {
            reader.expect(wireType, 2, "input");
            WireReader info(reader.lengthDelimited(), context + " input");
            std::string name;
            while (!info.atEnd()) {
                const auto [infoField, infoWire] = info.key();
                if (infoField == 1) {
                    info.expect(infoWire, 2, "input name");
                    name = std::string(info.lengthDelimited());
                } else {
                    info.skip(infoWire);
                }
            }
            graph.inputs.push_back(std::move(name));
        } else {
            reader.skip(wireType);
        }
    }
    return graph;
}

}  // namespace detail

/// A TensorProto file (test_data_set_*/input_*.pb, output_*.pb) holding float32 data.
inline Tensor readTensorFile(const std::string& path) {
    return detail::parseTensor(detail::readWholeFile(path), path);
}

/// The graph of a model.onnx (ModelProto: graph = 7).
inline Graph readModelFile(const std::string& path) {
    const std::string bytes = detail::readWholeFile(path);
    detail::WireReader reader(bytes, path);
    bool found = false;
    Graph graph;
    while (!reader.atEnd()) {
        const auto [field, wireType] = reader.key();
        if (field == 7) {
            reader.expect(wireType, 2, "graph");
            graph = detail::parseGraph(reader.lengthDelimited(), path + " graph");
            found = true;
        } else {
            reader.skip(wireType);
        }
    }
    if (!found) reader.fail("no graph");
    return graph;
}

}  // namespace ks::test::onnx
