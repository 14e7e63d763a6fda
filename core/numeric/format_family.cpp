#include "numeric/format_family.hpp"

#include <stdexcept>

namespace ks::numeric {

FormatFamily::FormatFamily(std::string id, std::string label, Varies varies, Format base, int first, int last)
    : id_(std::move(id)), label_(std::move(label)), varies_(varies), base_(base), first_(first), last_(last) {
    for (int p = first_; p <= last_; ++p) validate(at(p));
}

Format FormatFamily::at(int position) const {
    if (position < first_ || position > last_)
        throw std::out_of_range("format family '" + id_ + "': position " + std::to_string(position) +
                                " is outside " + std::to_string(first_) + "…" + std::to_string(last_));
    Format f = base_;
    switch (varies_) {
    case Varies::MantissaBits: f.mantissaBits = position; break;
    case Varies::FixedWordBits: {
        const int integerBits = base_.wordBits - base_.fractionBits;
        f.wordBits = position;
        f.fractionBits = position - integerBits;
        break;
    }
    case Varies::LogFractionBits: f.logFractionBits = position; break;
    case Varies::IntBits: f.intBits = position; break;
    }
    return f;
}

std::optional<int> FormatFamily::positionOf(const Format& f) const {
    if (f.kind != base_.kind) return std::nullopt;
    int position = 0;
    switch (varies_) {
    case Varies::MantissaBits: position = f.mantissaBits; break;
    case Varies::FixedWordBits: position = f.wordBits; break;
    case Varies::LogFractionBits: position = f.logFractionBits; break;
    case Varies::IntBits: position = f.intBits; break;
    }
    if (position < first_ || position > last_ || !(at(position) == f)) return std::nullopt;
    return position;
}

std::vector<FormatFamily::Preset> FormatFamily::presets() const {
    static const char* known[] = {"fp64", "fp32", "tf32", "fp16", "bf16", "e5m2", "e4m3",
                                  "fixed8.4", "fixed16.12", "fixed32.28", "lns8.2", "lns16.10",
                                  "int4", "int8", "int16"};
    std::vector<Preset> out;
    for (const char* name : known)
        if (auto p = positionOf(parseFormat(name))) out.push_back({*p, name});
    return out;
}

int FormatFamily::defaultPosition() const {
    int best = last_;
    bool found = false;
    for (const auto& p : presets())
        if (!found || p.position > best) best = p.position, found = true;
    return best;
}

// Labels short enough for a combo box at 1280×720; describe() of a position says the rest.
const std::vector<FormatFamily>& standardFamilies() {
    static const std::vector<FormatFamily> families = [] {
        using V = FormatFamily::Varies;
        Format lns = Format::logarithmic(5, 0);
        return std::vector<FormatFamily>{
            {"e8", "8-bit exponent, mantissa 1…23", V::MantissaBits, Format::floating(8, 1), 1, 23},
            {"e5", "5-bit exponent, mantissa 1…10", V::MantissaBits, Format::floating(5, 1), 1, 10},
            {"e4", "OCP 4-bit exponent, mantissa 1…6", V::MantissaBits, Format::e4m3(), 1, 6},
            {"e11", "11-bit exponent, mantissa 1…52", V::MantissaBits, Format::floating(11, 1), 1, 52},
            {"fixed", "fixed point ±8, 4…32 bits", V::FixedWordBits, Format::fixed(4, 0), 4,
             32},
            {"lns", "LNS 2^±16, fraction bits 0…10", V::LogFractionBits, lns, 0, 10},
            {"int", "integer, tensor scale, 2…16 bits", V::IntBits, Format::scaledInt(8), 2, 16},
        };
    }();
    return families;
}

const FormatFamily& standardFamily(std::string_view id) {
    std::string ids;
    for (const auto& f : standardFamilies()) {
        if (f.id() == id) return f;
        ids += (ids.empty() ? "" : ", ") + f.id();
    }
    throw std::invalid_argument("unknown format family '" + std::string(id) + "' (expected one of " + ids + ")");
}

}  // namespace ks::numeric
