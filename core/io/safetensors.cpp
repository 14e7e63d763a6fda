// .safetensors: an 8-byte little-endian header length, a JSON header
//   {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ..., "__metadata__": {..}}
// and the tensors' bytes, offsets relative to the end of the header.
// The JSON is parsed by nlohmann-json; on top of it, our own limits for a hostile header: its size, its depth
// (a valid header is three levels deep), no duplicate keys, and tensors whose bytes do not overlap.
#include <algorithm>
#include <cstring>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/printable.hpp"
#include "io/weights.hpp"

namespace ks::io {

namespace {

using Json = nlohmann::json;

/// The reference implementation (the `safetensors` crate) refuses headers above 100 MB; ours are far
/// smaller (about 100 bytes a tensor), and a parsed JSON value takes several times its text, so 16 MiB.
constexpr std::uint64_t kMaxHeaderBytes = std::uint64_t{16} << 20;
/// Root object (0) → a tensor's object (1) → its "shape" or "data_offsets" array (2) → numbers (3).
constexpr int kMaxDepth = 3;

std::uint64_t readLe64(const std::byte* p) {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= std::uint64_t{std::to_integer<std::uint8_t>(p[i])} << (8 * i);
    return v;
}

/// Parses the header, refusing depth beyond a safetensors header's and duplicate keys (nlohmann would
/// keep the last of two, a tensor the file describes twice).
Json parseHeader(std::string_view text, const std::string& what) {
    std::vector<std::set<std::string>> keysOfOpenObjects;
    auto limits = [&](int depth, Json::parse_event_t event, Json& parsed) {
        if (depth > kMaxDepth)
            throw WeightFileError(what + ": safetensors header is nested deeper than a header can be (" +
                                  std::to_string(kMaxDepth) + " levels)");
        if (event == Json::parse_event_t::object_start) keysOfOpenObjects.emplace_back();
        if (event == Json::parse_event_t::object_end) keysOfOpenObjects.pop_back();
        if (event == Json::parse_event_t::key && !keysOfOpenObjects.back().insert(parsed.get<std::string>()).second)
            throw WeightFileError(what + ": safetensors header has the key '" + printable(parsed.get<std::string>()) +
                                  "' twice in one object");
        return true;
    };
    try {
        return Json::parse(text.begin(), text.end(), limits);
    } catch (const Json::parse_error& e) {
        // nlohmann's message quotes the bytes it last read: escaped, they come from the file.
        std::string message = e.what();
        const auto colon = message.find(": ");
        if (message.rfind("[json.exception", 0) == 0 && colon != std::string::npos) message.erase(0, colon + 2);
        throw WeightFileError(what + ": safetensors header is not valid JSON at byte " + std::to_string(e.byte) +
                              ": " + printable(message));
    }
}

struct DtypeInfo {
    const char* code;
    const char* name;
    std::size_t bytes;
};
constexpr DtypeInfo kDtypes[] = {
    {"F32", "float32", 4}, {"F16", "float16", 2}, {"F64", "float64", 8}, {"BF16", "bfloat16", 2}};

void appendJsonString(std::string& out, const std::string& s) {
    out += '"';
    for (const char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            static const char* hex = "0123456789abcdef";
            out += "\\u00";
            out += hex[(c >> 4) & 0xF];
            out += hex[c & 0xF];
        } else {
            out += c;
        }
    }
    out += '"';
}

}  // namespace

WeightSet parseSafetensors(std::span<const std::byte> bytes, const std::string& what) {
    if (bytes.size() < 8) throw WeightFileError(what + ": too short for a safetensors file (no 8-byte header length)");
    const std::uint64_t headerLength = readLe64(bytes.data());
    if (headerLength > kMaxHeaderBytes)
        throw WeightFileError(what + ": safetensors header length " + std::to_string(headerLength) +
                              " is more than the " + std::to_string(kMaxHeaderBytes) + " bytes a header may have");
    if (headerLength > bytes.size() - 8)
        throw WeightFileError(what + ": truncated: the safetensors header claims " + std::to_string(headerLength) +
                              " bytes but the file has " + std::to_string(bytes.size() - 8) + " after the length");
    const std::string_view headerText(reinterpret_cast<const char*>(bytes.data() + 8), headerLength);
    const Json header = parseHeader(headerText, what);
    if (!header.is_object()) throw WeightFileError(what + ": safetensors header is not a JSON object");
    const auto data = bytes.subspan(8 + headerLength);

    struct Placed {
        std::uint64_t begin, end;
        std::size_t index;  // in set.tensors
    };
    std::vector<Placed> placement;
    WeightSet set;
    set.format = WeightFormat::Safetensors;
    for (const auto& [name, info] : header.items()) {
        if (name == "__metadata__") continue;
        const std::string where = what + ": tensor '" + printable(name) + "'";
        if (!info.is_object() || !info.contains("dtype") || !info["dtype"].is_string() || !info.contains("shape") ||
            !info["shape"].is_array() || !info.contains("data_offsets") || !info["data_offsets"].is_array() ||
            info["data_offsets"].size() != 2)
            throw WeightFileError(where + " needs \"dtype\", \"shape\" and two \"data_offsets\"");
        const std::string& dtype = info["dtype"].get_ref<const std::string&>();
        const DtypeInfo* type = nullptr;
        for (const auto& d : kDtypes)
            if (dtype == d.code) type = &d;
        if (!type)
            throw WeightFileError(where + " has dtype " + printable(dtype) + " (supported: F32, F16, F64, BF16)");
        Shape dims;
        std::int64_t count = 1;
        for (const auto& d : info["shape"]) {
            if (!d.is_number_unsigned() || d.get<std::uint64_t>() > static_cast<std::uint64_t>(kMaxTensorElements))
                throw WeightFileError(where + " has an invalid dimension");
            dims.push_back(d.get<std::int64_t>());
            count *= dims.back();  // each factor ≤ 2^28 and the product so far too: no overflow
            if (count > kMaxTensorElements) throw WeightFileError(where + " is too large");
        }
        for (const auto& o : info["data_offsets"])
            if (!o.is_number_unsigned())
                throw WeightFileError(where + " has data_offsets that are not non-negative integers");
        const std::uint64_t begin = info["data_offsets"][0].get<std::uint64_t>();
        const std::uint64_t end = info["data_offsets"][1].get<std::uint64_t>();
        if (begin > end || end > data.size())
            throw WeightFileError(where + " has data offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                                  ") outside the " + std::to_string(data.size()) + " bytes of data" +
                                  (end > data.size() ? " (is the file truncated?)" : ""));
        const std::uint64_t needed = static_cast<std::uint64_t>(count) * type->bytes;
        if (end - begin != needed)
            throw WeightFileError(where + " has " + std::to_string(end - begin) + " bytes but shape " +
                                  shapeToString(dims) + " of " + type->name + " needs " + std::to_string(needed));
        TensorF tensor(dims);
        const std::byte* p = data.data() + begin;
        for (std::int64_t i = 0; i < count; ++i, p += type->bytes) {
            std::uint64_t raw = 0;
            for (std::size_t b = 0; b < type->bytes; ++b) raw |= std::uint64_t{std::to_integer<std::uint8_t>(p[b])} << (8 * b);
            float value;
            if (type->bytes == 4) {
                const auto r32 = static_cast<std::uint32_t>(raw);
                std::memcpy(&value, &r32, 4);
            } else if (type->bytes == 8) {
                double d;
                std::memcpy(&d, &raw, 8);
                value = static_cast<float>(d);
            } else if (std::strcmp(type->code, "F16") == 0) {
                value = halfToFloat(static_cast<std::uint16_t>(raw));
            } else {
                value = bfloat16ToFloat(static_cast<std::uint16_t>(raw));
            }
            tensor[static_cast<std::size_t>(i)] = value;
        }
        placement.push_back({begin, end, set.tensors.size()});
        set.tensors.push_back({name, std::move(tensor), type->name});
    }
    // The format lets tensors appear in any order in the header; keep their order in the data, which is the
    // order they were written. Two tensors sharing bytes are refused: the format gives each its own.
    std::stable_sort(placement.begin(), placement.end(), [](const Placed& a, const Placed& b) {
        return a.begin < b.begin || (a.begin == b.begin && a.end < b.end);
    });
    const Placed* reaching = nullptr;  // of the tensors so far, the one whose bytes end last
    for (const Placed& p : placement) {
        if (p.begin == p.end) continue;  // an empty tensor occupies no bytes
        if (reaching && p.begin < reaching->end)
            throw WeightFileError(what + ": tensors '" + printable(set.tensors[reaching->index].name) + "' [" +
                                  std::to_string(reaching->begin) + ", " + std::to_string(reaching->end) + ") and '" +
                                  printable(set.tensors[p.index].name) + "' [" + std::to_string(p.begin) + ", " +
                                  std::to_string(p.end) + ") overlap in the data");
        if (!reaching || p.end > reaching->end) reaching = &p;
    }
    std::vector<NamedTensor> sorted;
    sorted.reserve(set.tensors.size());
    for (const Placed& p : placement) sorted.push_back(std::move(set.tensors[p.index]));
    set.tensors = std::move(sorted);
    return set;
}

std::string serializeSafetensors(const std::vector<NamedTensor>& tensors,
                                 const std::vector<std::pair<std::string, std::string>>& metadata) {
    std::string header = "{";
    if (!metadata.empty()) {
        header += "\"__metadata__\":{";
        for (std::size_t i = 0; i < metadata.size(); ++i) {
            if (i) header += ',';
            appendJsonString(header, metadata[i].first);
            header += ':';
            appendJsonString(header, metadata[i].second);
        }
        header += "}";
    }
    std::uint64_t offset = 0;
    for (const auto& t : tensors) {
        if (header.size() > 1) header += ',';
        appendJsonString(header, t.name);
        header += ":{\"dtype\":\"F32\",\"shape\":[";
        for (std::size_t i = 0; i < t.tensor.shape().size(); ++i) {
            if (i) header += ',';
            header += std::to_string(t.tensor.shape()[i]);
        }
        const std::uint64_t bytes = t.tensor.size() * sizeof(float);
        header += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + bytes) + "]}";
        offset += bytes;
    }
    header += '}';
    // Pad with spaces so the data starts 8-byte aligned (the format allows trailing whitespace).
    while ((8 + header.size()) % 8) header += ' ';
    std::string out(8, '\0');
    const std::uint64_t length = header.size();
    for (int i = 0; i < 8; ++i) out[static_cast<std::size_t>(i)] = static_cast<char>((length >> (8 * i)) & 0xFF);
    out += header;
    out.reserve(out.size() + offset);
    for (const auto& t : tensors) {
        static_assert(sizeof(float) == 4);
        for (const float v : t.tensor.span()) {
            std::uint32_t raw;
            std::memcpy(&raw, &v, 4);
            for (int b = 0; b < 4; ++b) out += static_cast<char>((raw >> (8 * b)) & 0xFF);
        }
    }
    return out;
}

}  // namespace ks::io
