// The .npy format (NEP 1): magic "\x93NUMPY", version, little-endian header length, then a Python
// dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded to 64 bytes.
#include "io/npy.hpp"

#include <cctype>
#include <cstring>
#include <limits>

#include "io/file_util.hpp"
#include "io/printable.hpp"

namespace ks::io {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicSize = 6;
constexpr std::size_t kMaxHeaderBytes = 1 << 16;  // numpy itself refuses more than 10 KiB by default
constexpr int kMaxRank = 32;                       // numpy's NPY_MAXDIMS

[[noreturn]] void fail(const std::string& what, const std::string& message) {
    throw NpyError(what + ": " + message);
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

/// The text after "'key':" up to the value's end; the header is a flat dict of three known keys.
std::string_view dictValue(std::string_view header, std::string_view key, const std::string& what) {
    const std::string quoted1 = "'" + std::string(key) + "'";
    const std::string quoted2 = "\"" + std::string(key) + "\"";
    std::size_t pos = header.find(quoted1);
    std::size_t keyLength = quoted1.size();
    if (pos == std::string_view::npos) {
        pos = header.find(quoted2);
        keyLength = quoted2.size();
    }
    if (pos == std::string_view::npos) fail(what, "header has no '" + std::string(key) + "' entry");
    std::string_view rest = trim(header.substr(pos + keyLength));
    if (rest.empty() || rest.front() != ':') fail(what, "malformed header near '" + std::string(key) + "'");
    rest = trim(rest.substr(1));
    std::size_t end;
    if (!rest.empty() && rest.front() == '(') {
        end = rest.find(')');
        if (end == std::string_view::npos) fail(what, "header's shape tuple is not closed");
        return rest.substr(0, end + 1);
    }
    if (!rest.empty() && (rest.front() == '\'' || rest.front() == '"')) {
        end = rest.find(rest.front(), 1);
        if (end == std::string_view::npos) fail(what, "header has an unterminated string");
        return rest.substr(1, end - 1);
    }
    end = rest.find_first_of(",}");
    return trim(rest.substr(0, end));
}

Shape parseShape(std::string_view tuple, const std::string& what) {
    // "(2, 3)", "(5,)", "()"
    tuple = trim(tuple.substr(1, tuple.size() - 2));
    Shape shape;
    while (!tuple.empty()) {
        const std::size_t comma = tuple.find(',');
        std::string_view item = trim(tuple.substr(0, comma));
        if (!item.empty()) {
            std::int64_t value = 0;
            for (char c : item) {
                if (c == 'L') continue;  // Python 2 longs
                if (!std::isdigit(static_cast<unsigned char>(c)))
                    fail(what, "shape has a non-integer dimension '" + printable(item) + "'");
                if (value > (std::numeric_limits<std::int64_t>::max() - 9) / 10)
                    fail(what, "shape dimension '" + printable(item) + "' is too large");
                value = value * 10 + (c - '0');
            }
            shape.push_back(value);
            if (shape.size() > kMaxRank) fail(what, "more than 32 dimensions");
        }
        if (comma == std::string_view::npos) break;
        tuple.remove_prefix(comma + 1);
    }
    return shape;
}

template <class T>
std::variant<TensorF, TensorD> readElements(const Shape& shape, const std::byte* data) {
    std::vector<T> values(static_cast<std::size_t>(elementCount(shape)));
    static_assert(std::endian::native == std::endian::little, "big-endian hosts need a byte swap here");
    if (!values.empty()) std::memcpy(values.data(), data, values.size() * sizeof(T));  // empty: data() may be null
    return Tensor<T>(shape, std::move(values));
}

template <class T>
std::string serialize(const Tensor<T>& tensor, const char* descr) {
    std::string header = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': ";
    std::string shape;
    for (std::size_t i = 0; i < tensor.shape().size(); ++i)
        shape += (i ? ", " : "") + std::to_string(tensor.shape()[i]);
    if (tensor.shape().size() == 1) shape += ',';  // Python's one-element tuple: "(5,)"
    header += "(" + shape + "), }";
    // Pad with spaces so that magic + version + length + header + '\n' is a multiple of 64.
    const std::size_t unpadded = kMagicSize + 2 + 2 + header.size() + 1;
    header.append((64 - unpadded % 64) % 64, ' ');
    header += '\n';
    std::string out(kMagic, kMagicSize);
    out += '\x01';
    out += '\x00';
    out += static_cast<char>(header.size() & 0xff);
    out += static_cast<char>((header.size() >> 8) & 0xff);
    out += header;
    const std::size_t offset = out.size();
    out.resize(offset + tensor.size() * sizeof(T));
    if (!tensor.empty()) std::memcpy(out.data() + offset, tensor.data(), tensor.size() * sizeof(T));
    return out;
}

}  // namespace

const Shape& NpyArray::shape() const {
    return std::visit([](const auto& t) -> const Shape& { return t.shape(); }, tensor);
}

TensorF NpyArray::toFloat() const {
    return std::visit([](const auto& t) { return t.template cast<float>(); }, tensor);
}

TensorD NpyArray::toDouble() const {
    return std::visit([](const auto& t) { return t.template cast<double>(); }, tensor);
}

NpyArray parseNpy(std::span<const std::byte> bytes, const std::string& what) {
    if (bytes.size() < kMagicSize + 4 || std::memcmp(bytes.data(), kMagic, kMagicSize) != 0)
        fail(what, "not a NumPy .npy file (missing the \\x93NUMPY magic)");
    const auto u8 = [&](std::size_t i) { return static_cast<std::uint32_t>(bytes[i]); };
    const int major = static_cast<int>(u8(6));
    std::size_t headerLength = 0;
    std::size_t headerStart = 0;
    if (major == 1) {
        headerLength = u8(8) | (u8(9) << 8);
        headerStart = 10;
    } else if (major == 2 || major == 3) {
        if (bytes.size() < 12) fail(what, "truncated header");
        headerLength = u8(8) | (u8(9) << 8) | (u8(10) << 16) | (u8(11) << 24);
        headerStart = 12;
    } else {
        fail(what, "unsupported .npy version " + std::to_string(major));
    }
    if (headerLength > kMaxHeaderBytes) fail(what, "header length " + std::to_string(headerLength) + " is implausible");
    if (bytes.size() < headerStart + headerLength)
        fail(what, "truncated: the header needs " + std::to_string(headerLength) + " bytes");
    const std::string_view header(reinterpret_cast<const char*>(bytes.data() + headerStart), headerLength);
    if (trim(header).empty() || trim(header).front() != '{') fail(what, "header is not a dictionary");

    const std::string_view descr = dictValue(header, "descr", what);
    const std::string_view fortran = dictValue(header, "fortran_order", what);
    const std::string_view shapeText = dictValue(header, "shape", what);
    if (fortran == "True") fail(what, "Fortran-order arrays are not supported (save with numpy.ascontiguousarray)");
    if (fortran != "False") fail(what, "fortran_order must be True or False, not '" + printable(fortran) + "'");
    if (shapeText.empty() || shapeText.front() != '(') fail(what, "shape is not a tuple");
    const Shape shape = parseShape(shapeText, what);

    std::size_t elementSize = 0;
    if (descr == "<f4" || descr == "f4" || descr == "float32") elementSize = 4;
    else if (descr == "<f8" || descr == "f8" || descr == "float64") elementSize = 8;
    else if (descr == ">f4" || descr == ">f8")
        fail(what, "big-endian data ('" + printable(descr) + "') is not supported; use little-endian");
    else
        fail(what, "dtype '" + printable(descr) + "' is not supported (only float32 '<f4' and float64 '<f8')");

    // Compare the size the header claims with what is really there before allocating anything.
    const std::size_t available = bytes.size() - headerStart - headerLength;
    std::size_t count = 1;
    for (auto d : shape) {
        if (d != 0 && count > std::numeric_limits<std::size_t>::max() / elementSize / static_cast<std::size_t>(d))
            fail(what, "shape " + shapeToString(shape) + " overflows");
        count *= static_cast<std::size_t>(d);
    }
    const std::size_t needed = count * elementSize;
    if (needed > available)
        fail(what, "truncated: shape " + shapeToString(shape) + " needs " + std::to_string(needed) +
                       " bytes of data, the file has " + std::to_string(available));
    if (needed < available)
        fail(what, "has " + std::to_string(available - needed) + " bytes after the data of shape " +
                       shapeToString(shape));

    const std::byte* data = bytes.data() + headerStart + headerLength;
    return NpyArray{elementSize == 4 ? readElements<float>(shape, data) : readElements<double>(shape, data)};
}

NpyArray readNpy(const std::filesystem::path& path) {
    const std::string bytes = readFile(path);
    return parseNpy(std::as_bytes(std::span(bytes.data(), bytes.size())), path.string());
}

TensorF readNpyFloat(const std::filesystem::path& path) { return readNpy(path).toFloat(); }
TensorD readNpyDouble(const std::filesystem::path& path) { return readNpy(path).toDouble(); }

std::string serializeNpy(const TensorF& tensor) { return serialize(tensor, "<f4"); }
std::string serializeNpy(const TensorD& tensor) { return serialize(tensor, "<f8"); }

void writeNpy(const std::filesystem::path& path, const TensorF& tensor) {
    writeFileAtomically(path, serializeNpy(tensor));
}
void writeNpy(const std::filesystem::path& path, const TensorD& tensor) {
    writeFileAtomically(path, serializeNpy(tensor));
}

}  // namespace ks::io
