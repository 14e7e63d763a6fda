// .safetensors: an 8-byte little-endian header length, a JSON header
//   {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ..., "__metadata__": {..}}
// and the tensors' bytes, offsets relative to the end of the header.
#include <algorithm>
#include <cstring>
#include <map>
#include <memory>

#include "io/weights.hpp"

namespace ks::io {

namespace {

/// Just enough JSON for a safetensors header: objects, arrays, strings, non-negative integers.
/// Nesting is bounded (a header is at most three levels deep), so no input can exhaust the stack.
struct Json {
    enum class Kind { Object, Array, String, Integer, Other } kind = Kind::Other;
    std::vector<std::pair<std::string, std::unique_ptr<Json>>> members;  // objects, in order
    std::vector<std::unique_ptr<Json>> items;                            // arrays
    std::string text;
    std::uint64_t integer = 0;

    const Json* member(const std::string& key) const {
        for (const auto& [k, v] : members)
            if (k == key) return v.get();
        return nullptr;
    }
};

class JsonParser {
public:
    JsonParser(std::string_view text, const std::string& what) : s_(text), what_(what) {}

    std::unique_ptr<Json> parseDocument() {
        auto value = parseValue(0);
        skipSpace();
        if (pos_ != s_.size()) fail("unexpected text after the header object");
        return value;
    }

private:
    static constexpr int kMaxDepth = 8;

    [[noreturn]] void fail(const std::string& message) const {
        throw WeightFileError(what_ + ": safetensors header is not valid JSON at byte " + std::to_string(pos_) + ": " +
                              message);
    }
    void skipSpace() {
        while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' || s_[pos_] == '\t')) ++pos_;
    }
    char peek() {
        skipSpace();
        if (pos_ >= s_.size()) fail("unexpected end");
        return s_[pos_];
    }
    void expect(char c) {
        if (peek() != c) fail(std::string("expected '") + c + "'");
        ++pos_;
    }

    std::unique_ptr<Json> parseValue(int depth) {
        if (depth > kMaxDepth) fail("nested too deeply");
        auto v = std::make_unique<Json>();
        const char c = peek();
        if (c == '{') {
            v->kind = Json::Kind::Object;
            ++pos_;
            if (peek() == '}') {
                ++pos_;
                return v;
            }
            for (;;) {
                std::string key = parseString();
                expect(':');
                for (const auto& [k, unused] : v->members)
                    if (k == key) fail("duplicate key '" + key + "'");
                v->members.emplace_back(std::move(key), parseValue(depth + 1));
                if (peek() == ',') {
                    ++pos_;
                    continue;
                }
                expect('}');
                return v;
            }
        }
        if (c == '[') {
            v->kind = Json::Kind::Array;
            ++pos_;
            if (peek() == ']') {
                ++pos_;
                return v;
            }
            for (;;) {
                v->items.push_back(parseValue(depth + 1));
                if (peek() == ',') {
                    ++pos_;
                    continue;
                }
                expect(']');
                return v;
            }
        }
        if (c == '"') {
            v->kind = Json::Kind::String;
            v->text = parseString();
            return v;
        }
        if (c >= '0' && c <= '9') {
            v->kind = Json::Kind::Integer;
            while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
                const std::uint64_t digit = static_cast<std::uint64_t>(s_[pos_] - '0');
                if (v->integer > (UINT64_MAX - digit) / 10) fail("integer too large");
                v->integer = v->integer * 10 + digit;
                ++pos_;
            }
            if (pos_ < s_.size() && (s_[pos_] == '.' || s_[pos_] == 'e' || s_[pos_] == 'E'))
                fail("expected an integer");
            return v;
        }
        for (std::string_view word : {"true", "false", "null"})
            if (s_.substr(pos_, word.size()) == word) {
                pos_ += word.size();
                return v;
            }
        fail(std::string("unexpected character '") + c + "'");
    }

    std::string parseString() {
        expect('"');
        std::string out;
        while (pos_ < s_.size() && s_[pos_] != '"') {
            char c = s_[pos_++];
            if (c == '\\') {
                if (pos_ >= s_.size()) fail("unterminated escape");
                const char e = s_[pos_++];
                switch (e) {
                    case '"': case '\\': case '/': out += e; break;
                    case 'n': out += '\n'; break;
                    case 't': out += '\t'; break;
                    case 'r': out += '\r'; break;
                    case 'b': out += '\b'; break;
                    case 'f': out += '\f'; break;
                    case 'u': {
                        if (pos_ + 4 > s_.size()) fail("short \\u escape");
                        unsigned code = 0;
                        for (int i = 0; i < 4; ++i) {
                            const char h = s_[pos_++];
                            code <<= 4;
                            if (h >= '0' && h <= '9') code |= static_cast<unsigned>(h - '0');
                            else if (h >= 'a' && h <= 'f') code |= static_cast<unsigned>(h - 'a' + 10);
                            else if (h >= 'A' && h <= 'F') code |= static_cast<unsigned>(h - 'A' + 10);
                            else fail("bad \\u escape");
                        }
                        // Names are ASCII in practice; encode the BMP code point as UTF-8.
                        if (code < 0x80) out += static_cast<char>(code);
                        else if (code < 0x800) {
                            out += static_cast<char>(0xC0 | (code >> 6));
                            out += static_cast<char>(0x80 | (code & 0x3F));
                        } else {
                            out += static_cast<char>(0xE0 | (code >> 12));
                            out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
                            out += static_cast<char>(0x80 | (code & 0x3F));
                        }
                        break;
                    }
                    default: fail("bad escape");
                }
            } else {
                out += c;
            }
        }
        if (pos_ >= s_.size()) fail("unterminated string");
        ++pos_;
        return out;
    }

    std::string_view s_;
    const std::string& what_;
    std::size_t pos_ = 0;
};

struct DtypeInfo {
    const char* code;
    const char* name;
    std::size_t bytes;
};
constexpr DtypeInfo kDtypes[] = {
    {"F32", "float32", 4}, {"F16", "float16", 2}, {"F64", "float64", 8}, {"BF16", "bfloat16", 2}};

std::uint64_t readLe64(const std::byte* p) {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= std::uint64_t{std::to_integer<std::uint8_t>(p[i])} << (8 * i);
    return v;
}

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
    if (bytes.size() < 8) throw WeightFileError(what + ": too short for a safetensors file");
    const std::uint64_t headerLength = readLe64(bytes.data());
    if (headerLength > bytes.size() - 8)
        throw WeightFileError(what + ": safetensors header claims " + std::to_string(headerLength) +
                              " bytes but the file has " + std::to_string(bytes.size() - 8) + " after the length");
    const std::string_view headerText(reinterpret_cast<const char*>(bytes.data() + 8), headerLength);
    const auto header = JsonParser(headerText, what).parseDocument();
    if (header->kind != Json::Kind::Object) throw WeightFileError(what + ": safetensors header is not a JSON object");
    const auto data = bytes.subspan(8 + headerLength);

    WeightSet set;
    set.format = WeightFormat::Safetensors;
    for (const auto& [name, info] : header->members) {
        if (name == "__metadata__") continue;
        const std::string where = what + ": tensor '" + name + "'";
        const Json* dtype = info->member("dtype");
        const Json* shape = info->member("shape");
        const Json* offsets = info->member("data_offsets");
        if (info->kind != Json::Kind::Object || !dtype || dtype->kind != Json::Kind::String || !shape ||
            shape->kind != Json::Kind::Array || !offsets || offsets->kind != Json::Kind::Array ||
            offsets->items.size() != 2)
            throw WeightFileError(where + " needs \"dtype\", \"shape\" and two \"data_offsets\"");
        const DtypeInfo* type = nullptr;
        for (const auto& d : kDtypes)
            if (dtype->text == d.code) type = &d;
        if (!type)
            throw WeightFileError(where + " has dtype " + dtype->text + " (supported: F32, F16, F64, BF16)");
        Shape dims;
        std::int64_t count = 1;
        for (const auto& d : shape->items) {
            if (d->kind != Json::Kind::Integer || d->integer > static_cast<std::uint64_t>(kMaxTensorElements))
                throw WeightFileError(where + " has an invalid dimension");
            dims.push_back(static_cast<std::int64_t>(d->integer));
            count *= dims.back();
            if (count > kMaxTensorElements) throw WeightFileError(where + " is too large");
        }
        for (const auto& o : offsets->items)
            if (o->kind != Json::Kind::Integer) throw WeightFileError(where + " has non-integer data_offsets");
        const std::uint64_t begin = offsets->items[0]->integer;
        const std::uint64_t end = offsets->items[1]->integer;
        if (begin > end || end > data.size())
            throw WeightFileError(where + " has data offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                                  ") outside the " + std::to_string(data.size()) + " bytes of data");
        if (end - begin != static_cast<std::uint64_t>(count) * type->bytes)
            throw WeightFileError(where + " has " + std::to_string(end - begin) + " bytes but shape " +
                                  shapeToString(dims) + " of " + type->name + " needs " +
                                  std::to_string(static_cast<std::uint64_t>(count) * type->bytes));
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
        set.tensors.push_back({name, std::move(tensor), type->name});
    }
    // The format lets tensors appear in any order in the header; keep their order in the data,
    // which is the order they were written.
    std::vector<std::pair<std::uint64_t, std::size_t>> order;
    for (std::size_t i = 0; i < set.tensors.size(); ++i) {
        const Json* info = header->member(set.tensors[i].name);
        order.emplace_back(info->member("data_offsets")->items[0]->integer, i);
    }
    std::stable_sort(order.begin(), order.end());
    std::vector<NamedTensor> sorted;
    for (const auto& [offset, i] : order) sorted.push_back(std::move(set.tensors[i]));
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
