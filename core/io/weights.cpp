#include "io/weights.hpp"

#include <cmath>
#include <cstring>
#include <limits>

#include "io/file_util.hpp"
#include "io/npy.hpp"
#include "io/printable.hpp"
#include "io/zip_archive.hpp"

namespace ks::io {

std::string toString(WeightFormat format) {
    switch (format) {
        case WeightFormat::TorchCheckpoint: return "PyTorch checkpoint";
        case WeightFormat::Safetensors: return "safetensors";
        case WeightFormat::Npz: return "NumPy .npz";
        case WeightFormat::Npy: return "NumPy .npy";
    }
    return "?";
}

const NamedTensor* WeightSet::find(const std::string& name) const {
    for (const auto& t : tensors)
        if (t.name == name) return &t;
    return nullptr;
}

std::string WeightSet::describe() const {
    if (tensors.empty()) return "no tensors";
    std::string s;
    for (const auto& t : tensors) {
        if (!s.empty()) s += ", ";
        s += t.name + " " + shapeToString(t.tensor.shape()) + " " + t.storedDtype;
    }
    return s;
}

float halfToFloat(std::uint16_t bits) {
    const std::uint32_t sign = (bits >> 15) & 1u;
    const std::uint32_t exponent = (bits >> 10) & 0x1fu;
    const std::uint32_t mantissa = bits & 0x3ffu;
    float magnitude;
    if (exponent == 0) {
        magnitude = std::ldexp(static_cast<float>(mantissa), -24);  // subnormal (or zero)
    } else if (exponent == 31) {
        magnitude = mantissa ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
    } else {
        magnitude = std::ldexp(static_cast<float>(mantissa | 0x400u), static_cast<int>(exponent) - 25);
    }
    return sign ? -magnitude : magnitude;
}

float bfloat16ToFloat(std::uint16_t bits) {
    const std::uint32_t wide = static_cast<std::uint32_t>(bits) << 16;
    float f;
    std::memcpy(&f, &wide, sizeof f);
    return f;
}

namespace {

bool startsWith(std::span<const std::byte> bytes, std::string_view prefix) {
    return bytes.size() >= prefix.size() && std::memcmp(bytes.data(), prefix.data(), prefix.size()) == 0;
}

std::string stemOf(const std::string& entryName) {
    std::string s = entryName;
    if (s.size() > 4 && s.compare(s.size() - 4, 4, ".npy") == 0) s.resize(s.size() - 4);
    return s;
}

NamedTensor fromNpy(const NpyArray& array, const std::string& name) {
    return {name, array.toFloat(), array.dtype() == NpyDtype::Float32 ? "float32" : "float64"};
}

}  // namespace

WeightSet parseSingleNpy(std::span<const std::byte> bytes, const std::string& name, const std::string& what) {
    WeightSet set;
    set.format = WeightFormat::Npy;
    try {
        set.tensors.push_back(fromNpy(parseNpy(bytes, what), name));
    } catch (const NpyError& e) {
        throw WeightFileError(e.what());
    }
    return set;
}

WeightSet parseNpz(std::span<const std::byte> bytes, const std::string& what) {
    WeightSet set;
    set.format = WeightFormat::Npz;
    try {
        const ZipArchive zip(bytes, what);
        std::vector<const ZipEntry*> entries;
        for (const auto& entry : zip.entries()) {
            if (entry.name.size() < 5 || entry.name.compare(entry.name.size() - 4, 4, ".npy") != 0)
                throw WeightFileError(what + ": .npz entry '" + printable(entry.name) + "' is not an .npy array");
            for (const ZipEntry* seen : entries)
                if (seen->name == entry.name)
                    throw WeightFileError(what + ": .npz entry '" + printable(entry.name) + "' appears twice");
            entries.push_back(&entry);
        }
        // Every entry is read: what they inflate to together is known, and refused, before the first is read.
        zip.checkInflateBudget(entries);
        for (const ZipEntry* entry : entries) {
            const std::string content = zip.read(*entry);
            const std::string where = what + ": " + printable(entry->name);
            set.tensors.push_back(fromNpy(parseNpy(std::as_bytes(std::span(content)), where), stemOf(entry->name)));
        }
    } catch (const ZipError& e) {
        throw WeightFileError(e.what());
    } catch (const NpyError& e) {
        throw WeightFileError(e.what());
    }
    return set;
}

WeightSet parseWeights(std::span<const std::byte> bytes, const std::string& what) {
    if (startsWith(bytes, "\x93NUMPY")) {
        std::string name = what;
        if (auto slash = name.find_last_of('/'); slash != std::string::npos) name = name.substr(slash + 1);
        return parseSingleNpy(bytes, stemOf(name), what);
    }
    if (looksLikeZip(bytes)) {
        // A checkpoint of torch.save holds <archive>/data.pkl; an .npz holds only .npy entries.
        bool torch = false;
        try {
            const ZipArchive zip(bytes, what);
            for (const auto& e : zip.entries())
                if (e.name == "data.pkl" ||
                    (e.name.size() > 9 && e.name.compare(e.name.size() - 9, 9, "/data.pkl") == 0))
                    torch = true;
        } catch (const ZipError& e) {
            throw WeightFileError(e.what());
        }
        return torch ? parseTorchCheckpoint(bytes, what) : parseNpz(bytes, what);
    }
    const bool barePickle = bytes.size() >= 2 && bytes[0] == std::byte{0x80} && std::to_integer<int>(bytes[1]) <= 5;
    if (bytes.size() >= 9 && bytes[8] == std::byte{'{'}) {
        // safetensors: an 8-byte little-endian header length, then a JSON object. Recognised by the '{' alone,
        // so that a truncated file or a lying length is reported as such; but a header length whose low byte
        // is 0x80 looks like a pickle's protocol opcode, so a pickle-like start needs a length that fits.
        std::uint64_t headerLength = 0;
        for (int i = 0; i < 8; ++i) headerLength |= std::uint64_t{std::to_integer<std::uint8_t>(bytes[i])} << (8 * i);
        if (!barePickle || headerLength <= bytes.size() - 8) return parseSafetensors(bytes, what);
    }
    if (barePickle)
        throw WeightFileError(what + ": a bare pickle (PyTorch's legacy, pre-1.6 format) is not supported; "
                                     "re-save it with a current torch.save (zip format)");
    throw WeightFileError(what + ": not a recognised weight file (expected a PyTorch checkpoint, .safetensors, "
                                 ".npz or .npy)");
}

WeightSet readWeights(const std::filesystem::path& path) {
    const std::string bytes = readFile(path);
    return parseWeights(std::as_bytes(std::span(bytes)), path.string());
}

void writeSafetensors(const std::filesystem::path& path, const std::vector<NamedTensor>& tensors,
                      const std::vector<std::pair<std::string, std::string>>& metadata) {
    writeFileAtomically(path, serializeSafetensors(tensors, metadata));
}

}  // namespace ks::io
