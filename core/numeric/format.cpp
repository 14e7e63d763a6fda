// Format construction, validation, properties, names and descriptions, Float codes.
#include "numeric/format.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <vector>

namespace ks::numeric {

Format Format::floating(int exponentBits, int mantissaBits) {
    Format f;
    f.kind = FormatKind::Float;
    f.exponentBits = exponentBits;
    f.mantissaBits = mantissaBits;
    return f;
}

Format Format::e4m3() {
    Format f = floating(4, 3);
    f.specials = Specials::FiniteOnlyOcp;
    f.overflow = Overflow::Saturate;
    return f;
}

Format Format::fixed(int wordBits, int fractionBits) {
    Format f;
    f.kind = FormatKind::Fixed;
    f.wordBits = wordBits;
    f.fractionBits = fractionBits;
    return f;
}

Format Format::scaledInt(int bits) {
    Format f;
    f.kind = FormatKind::ScaledInt;
    f.intBits = bits;
    return f;
}

Format Format::scaledInt(int bits, double scale) {
    Format f = scaledInt(bits);
    f.scale = scale;
    return f;
}

Format Format::logarithmic(int integerBits, int fractionBits) {
    Format f;
    f.kind = FormatKind::Log;
    f.logIntegerBits = integerBits;
    f.logFractionBits = fractionBits;
    return f;
}

namespace {

/// "eXmY" (snprintf: GCC 12 warns falsely, -Wrestrict, on short literal + std::string chains).
std::string floatBaseName(int exponentBits, int mantissaBits) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "e%dm%d", exponentBits, mantissaBits);
    return buf;
}

std::string fmtNumber(double v, int digits = 6) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
    return buf;
}

void requireRange(const char* what, int value, int lo, int hi, const std::string& name) {
    if (value < lo || value > hi)
        throw FormatError(name + ": " + what + " " + std::to_string(value) + " is outside " +
                          std::to_string(lo) + "…" + std::to_string(hi));
}

int floatBias(const Format& f) { return (1 << (f.exponentBits - 1)) - 1; }
int floatEmin(const Format& f) { return 1 - floatBias(f); }
int floatEmax(const Format& f) {
    return f.specials == Specials::FiniteOnlyOcp ? floatBias(f) + 1 : floatBias(f);
}

}  // namespace

void validate(const Format& f) {
    switch (f.kind) {
    case FormatKind::Float: {
        const std::string name = floatBaseName(f.exponentBits, f.mantissaBits);
        requireRange("exponent width", f.exponentBits, 2, 11, name);
        requireRange("mantissa width", f.mantissaBits, 0, 52, name);
        if (f.specials == Specials::FiniteOnlyOcp) {
            // The all-ones code is NaN, so the top binade needs at least one other mantissa value,
            // and its largest number must still fit a double.
            requireRange("finite-only (fn) exponent width", f.exponentBits, 2, 10, name);
            requireRange("finite-only (fn) mantissa width", f.mantissaBits, 1, 52, name);
        }
        return;
    }
    case FormatKind::Fixed: {
        const std::string name = "fixed" + std::to_string(f.wordBits) + "." + std::to_string(f.fractionBits);
        // 53 bits: every fixed-point value is then exact in a double.
        requireRange("word length", f.wordBits, 2, 53, name);
        requireRange("fraction length", f.fractionBits, 0, 64, name);
        return;
    }
    case FormatKind::ScaledInt: {
        const std::string name = "int" + std::to_string(f.intBits);
        requireRange("integer width", f.intBits, 2, 32, name);
        if (!(f.scale >= 0) || !std::isfinite(f.scale))
            throw FormatError(name + ": the scale must be a finite number > 0 (or 0 for per-tensor), got " +
                              fmtNumber(f.scale));
        return;
    }
    case FormatKind::Log: {
        const std::string name = "lns" + std::to_string(1 + f.logIntegerBits + f.logFractionBits) + "." +
                                 std::to_string(f.logFractionBits);
        // 10 integer bits: log2|x| within ±512 stays inside the double range.
        requireRange("log integer bits", f.logIntegerBits, 1, 10, name);
        requireRange("log fraction bits", f.logFractionBits, 0, 20, name);
        return;
    }
    }
    throw FormatError("unknown format kind");
}

int bitWidth(const Format& f) {
    switch (f.kind) {
    case FormatKind::Float: return 1 + f.exponentBits + f.mantissaBits;
    case FormatKind::Fixed: return f.wordBits;
    case FormatKind::ScaledInt: return f.intBits;
    case FormatKind::Log: return 1 + f.logIntegerBits + f.logFractionBits;
    }
    return 0;
}

double maxFinite(const Format& f) {
    switch (f.kind) {
    case FormatKind::Float: {
        const int topMantissaLoss = f.specials == Specials::FiniteOnlyOcp ? 1 : 0;  // NaN takes 1.111
        return std::ldexp(2.0 - std::ldexp(1.0, topMantissaLoss - f.mantissaBits), floatEmax(f));
    }
    case FormatKind::Fixed:
        return std::ldexp(std::ldexp(1.0, f.wordBits - 1) - 1.0, -f.fractionBits);
    case FormatKind::ScaledInt: {
        const double qmax = std::ldexp(1.0, f.intBits - 1) - 1.0;
        return f.scale > 0 ? qmax * f.scale : qmax;
    }
    case FormatKind::Log: {
        const int codeMax = (1 << (f.logIntegerBits + f.logFractionBits - 1)) - 1;
        return std::exp2(std::ldexp(static_cast<double>(codeMax), -f.logFractionBits));
    }
    }
    return 0;
}

double minNormal(const Format& f) {
    switch (f.kind) {
    case FormatKind::Float: return std::ldexp(1.0, floatEmin(f));
    case FormatKind::Fixed: return std::ldexp(1.0, -f.fractionBits);
    case FormatKind::ScaledInt: return f.scale > 0 ? f.scale : 1.0;
    case FormatKind::Log: {
        const int codeMax = (1 << (f.logIntegerBits + f.logFractionBits - 1)) - 1;
        return std::exp2(std::ldexp(static_cast<double>(-codeMax), -f.logFractionBits));
    }
    }
    return 0;
}

double minPositive(const Format& f) {
    if (f.kind == FormatKind::Float && f.subnormals) return std::ldexp(1.0, floatEmin(f) - f.mantissaBits);
    return minNormal(f);
}

double epsilon(const Format& f) {
    switch (f.kind) {
    case FormatKind::Float: return std::ldexp(1.0, -f.mantissaBits);
    case FormatKind::Fixed: return std::ldexp(1.0, -f.fractionBits);
    case FormatKind::ScaledInt: return 1.0 / (std::ldexp(1.0, f.intBits - 1) - 1.0);
    case FormatKind::Log: return std::exp2(std::ldexp(1.0, -f.logFractionBits)) - 1.0;
    }
    return 0;
}

int precisionBits(const Format& f) { return f.kind == FormatKind::Float ? f.mantissaBits + 1 : 0; }

// ---------------------------------------------------------------------------------------------
// Float codes

std::uint64_t encodeFloat(double x, const Format& f) {
    validate(f);
    if (f.kind != FormatKind::Float) throw FormatError("encodeFloat: " + formatName(f) + " is not a float format");
    const int E = f.exponentBits, m = f.mantissaBits;
    const std::uint64_t expAllOnes = (std::uint64_t{1} << E) - 1;
    const std::uint64_t mantAllOnes = (std::uint64_t{1} << m) - 1;
    const std::uint64_t signBit = std::signbit(x) ? std::uint64_t{1} << (E + m) : 0;
    if (std::isnan(x)) {
        const std::uint64_t mant = f.specials == Specials::FiniteOnlyOcp ? mantAllOnes : std::uint64_t{1} << (m - 1);
        if (m == 0) throw FormatError("encodeFloat: " + formatName(f) + " has no NaN (no mantissa bits)");
        return signBit | (expAllOnes << m) | mant;
    }
    const double a = std::fabs(x);
    if (std::isinf(a)) {
        if (f.specials == Specials::FiniteOnlyOcp)
            throw FormatError("encodeFloat: " + formatName(f) + " has no infinity");
        return signBit | (expAllOnes << m);
    }
    if (a == 0) return signBit;
    const int bias = floatBias(f), emin = floatEmin(f);
    const int ex = std::ilogb(a);
    std::uint64_t field = 0;
    double mant = 0;
    if (ex < emin) {
        mant = std::ldexp(a, m - emin);
    } else {
        field = static_cast<std::uint64_t>(ex + bias);
        mant = std::ldexp(a, m - ex) - std::ldexp(1.0, m);
    }
    const bool ok = mant == std::floor(mant) && mant >= 0 && a <= maxFinite(f) &&
                    (ex >= emin || f.subnormals);
    if (!ok) throw FormatError("encodeFloat: " + fmtNumber(x, 17) + " is not representable in " + formatName(f));
    return signBit | (field << m) | static_cast<std::uint64_t>(mant);
}

double decodeFloat(std::uint64_t code, const Format& f) {
    validate(f);
    if (f.kind != FormatKind::Float) throw FormatError("decodeFloat: " + formatName(f) + " is not a float format");
    const int E = f.exponentBits, m = f.mantissaBits;
    if (E + m + 1 < 64 && (code >> (E + m + 1)) != 0)
        throw FormatError("decodeFloat: code has bits above the " + std::to_string(E + m + 1) + "-bit " +
                          formatName(f));
    const std::uint64_t expAllOnes = (std::uint64_t{1} << E) - 1;
    const std::uint64_t mantAllOnes = (std::uint64_t{1} << m) - 1;
    const bool negative = (code >> (E + m)) & 1;
    const std::uint64_t field = (code >> m) & expAllOnes;
    const std::uint64_t mant = code & mantAllOnes;
    double v = 0;
    if (f.specials == Specials::Ieee && field == expAllOnes) {
        v = mant == 0 ? std::numeric_limits<double>::infinity() : std::numeric_limits<double>::quiet_NaN();
    } else if (f.specials == Specials::FiniteOnlyOcp && field == expAllOnes && mant == mantAllOnes) {
        v = std::numeric_limits<double>::quiet_NaN();
    } else if (field == 0) {
        v = std::ldexp(static_cast<double>(mant), floatEmin(f) - m);
        if (!f.subnormals && mant != 0) v = std::numeric_limits<double>::quiet_NaN();  // not a value here
    } else {
        v = std::ldexp(1.0 + std::ldexp(static_cast<double>(mant), -m), static_cast<int>(field) - floatBias(f));
    }
    return negative ? -v : v;
}

// ---------------------------------------------------------------------------------------------
// Names

namespace {

struct Preset {
    const char* name;
    int e, m;
};
constexpr Preset kFloatPresets[] = {{"fp64", 11, 52}, {"fp32", 8, 23}, {"tf32", 8, 10},
                                    {"fp16", 5, 10},  {"bf16", 8, 7},  {"e5m2", 5, 2}};

const char* kGrammar =
    "expected fp64, fp32, tf32, fp16, bf16, e4m3, e5m2, fp8, eXmY, fixedW.F, intN[@scale] or lnsW.F, "
    "floats optionally with -fn, -ieee, -nosub, -sat or -inf";

/// Parse a whole decimal integer; false when `text` is not one.
bool parseInt(std::string_view text, int& out) {
    if (text.empty() || text.size() > 9) return false;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size();
}

/// "W.F" → (W, F)
bool parseDotted(std::string_view text, int& w, int& fr) {
    const auto dot = text.find('.');
    if (dot == std::string_view::npos) return false;
    return parseInt(text.substr(0, dot), w) && parseInt(text.substr(dot + 1), fr);
}

[[noreturn]] void unknownName(std::string_view original, const std::string& why = "") {
    throw FormatError("unknown number format '" + std::string(original) + "'" + (why.empty() ? "" : ": " + why) +
                      " (" + kGrammar + ")");
}

Format validated(Format f, std::string_view original) {
    try {
        validate(f);
    } catch (const FormatError& e) {
        throw FormatError("bad number format '" + std::string(original) + "': " + e.what());
    }
    return f;
}

}  // namespace

Format parseFormat(std::string_view original) {
    std::string text(original);
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
    if (text.empty()) unknownName(original, "empty name");

    // Non-float kinds first: they take no suffixes.
    int a = 0, b = 0;
    if (text.rfind("fixed", 0) == 0) {
        if (!parseDotted(std::string_view(text).substr(5), a, b))
            unknownName(original, "fixed point is fixedW.F, e.g. fixed16.8");
        return validated(Format::fixed(a, b), original);
    }
    if (text.rfind("lns", 0) == 0) {
        if (!parseDotted(std::string_view(text).substr(3), a, b))
            unknownName(original, "logarithmic is lnsW.F, e.g. lns8.3");
        if (a - 1 - b < 1)
            throw FormatError("bad number format '" + std::string(original) + "': width " + std::to_string(a) +
                              " leaves no integer bits of log2|x| after the sign and " + std::to_string(b) +
                              " fraction bits");
        return validated(Format::logarithmic(a - 1 - b, b), original);
    }
    if (text.rfind("int", 0) == 0) {
        std::string_view rest = std::string_view(text).substr(3);
        double scale = 0;
        if (auto at = rest.find('@'); at != std::string_view::npos) {
            const std::string scaleText(rest.substr(at + 1));
            std::size_t used = 0;
            try {
                scale = std::stod(scaleText, &used);
            } catch (const std::exception&) {
                used = 0;
            }
            if (used == 0 || used != scaleText.size() || !(scale > 0) || !std::isfinite(scale))
                unknownName(original, "the scale after '@' must be a positive number");
            rest = rest.substr(0, at);
        }
        if (!parseInt(rest, a)) unknownName(original, "integer formats are intN, e.g. int8");
        return validated(Format::scaledInt(a, scale), original);
    }

    // Floats: base name, then '-' suffixes.
    std::vector<std::string> parts;
    for (std::size_t start = 0;;) {
        const auto dash = text.find('-', start);
        parts.push_back(text.substr(start, dash == std::string::npos ? std::string::npos : dash - start));
        if (dash == std::string::npos) break;
        start = dash + 1;
    }
    const std::string& base = parts[0];
    Format f;
    bool found = false;
    if (base == "e4m3" || base == "fp8") {
        f = Format::e4m3();
        found = true;
    }
    for (const auto& p : kFloatPresets)
        if (!found && base == p.name) {
            f = Format::floating(p.e, p.m);
            found = true;
        }
    if (!found) {
        static const std::pair<const char*, const char*> aliases[] = {
            {"double", "fp64"}, {"float", "fp32"}, {"single", "fp32"}, {"half", "fp16"}, {"bfloat16", "bf16"}};
        for (const auto& [alias, target] : aliases)
            if (base == alias) {
                for (const auto& p : kFloatPresets)
                    if (std::string_view(target) == p.name) f = Format::floating(p.e, p.m);
                found = true;
            }
    }
    if (!found && base.size() >= 4 && base[0] == 'e') {
        const auto mpos = base.find('m');
        if (mpos != std::string::npos && parseInt(std::string_view(base).substr(1, mpos - 1), a) &&
            parseInt(std::string_view(base).substr(mpos + 1), b)) {
            f = Format::floating(a, b);
            found = true;
        }
    }
    if (!found) unknownName(original);

    std::optional<Overflow> overflow;
    for (std::size_t i = 1; i < parts.size(); ++i) {
        const std::string& s = parts[i];
        if (s == "fn") f.specials = Specials::FiniteOnlyOcp;
        else if (s == "ieee") f.specials = Specials::Ieee;
        else if (s == "nosub") f.subnormals = false;
        else if (s == "sat") overflow = Overflow::Saturate;
        else if (s == "inf") overflow = Overflow::Infinity;
        else unknownName(original, "unknown suffix '-" + s + "'");
    }
    f.overflow = overflow.value_or(f.specials == Specials::FiniteOnlyOcp ? Overflow::Saturate : Overflow::Infinity);
    return validated(f, original);
}

std::string formatName(const Format& f) {
    switch (f.kind) {
    case FormatKind::Fixed: return "fixed" + std::to_string(f.wordBits) + "." + std::to_string(f.fractionBits);
    case FormatKind::ScaledInt: {
        std::string name = "int" + std::to_string(f.intBits);
        if (f.scale > 0) {
            name += '@';
            name += fmtNumber(f.scale, 17);
        }
        return name;
    }
    case FormatKind::Log:
        return "lns" + std::to_string(1 + f.logIntegerBits + f.logFractionBits) + "." +
               std::to_string(f.logFractionBits);
    case FormatKind::Float: break;
    }
    const bool finiteOnly = f.specials == Specials::FiniteOnlyOcp;
    std::string name = floatBaseName(f.exponentBits, f.mantissaBits);
    if (finiteOnly) {
        if (!(f.exponentBits == 4 && f.mantissaBits == 3)) name += "-fn";
    } else {
        bool preset = false;
        for (const auto& p : kFloatPresets)
            if (p.e == f.exponentBits && p.m == f.mantissaBits) {
                name = p.name;
                preset = true;
            }
        if (!preset && f.exponentBits == 4 && f.mantissaBits == 3) name += "-ieee";
    }
    if (!f.subnormals) name += "-nosub";
    const Overflow defaultOverflow = finiteOnly ? Overflow::Saturate : Overflow::Infinity;
    if (f.overflow != defaultOverflow) name += f.overflow == Overflow::Saturate ? "-sat" : "-inf";
    return name;
}

std::string describe(const Format& f) {
    validate(f);
    const std::string name = formatName(f);
    const std::string bits = std::to_string(bitWidth(f)) + " bits";
    switch (f.kind) {
    case FormatKind::Float: {
        const bool finiteOnly = f.specials == Specials::FiniteOnlyOcp;
        std::string s = name + ": binary float e" + std::to_string(f.exponentBits) + "m" +
                        std::to_string(f.mantissaBits) + (finiteOnly ? ", finite-only (OCP)" : "") + ", " + bits +
                        ": max " + fmtNumber(maxFinite(f)) + ", min normal " + fmtNumber(minNormal(f));
        s += f.subnormals ? ", min subnormal " + fmtNumber(minPositive(f)) : ", no subnormals";
        s += ", epsilon " + fmtNumber(epsilon(f)) + " (" + std::to_string(precisionBits(f)) + "-bit precision)";
        if (f.overflow == Overflow::Saturate) s += ", overflow saturates";
        else s += finiteOnly ? ", overflow gives NaN" : ", overflow gives infinity";
        return s;
    }
    case FormatKind::Fixed:
        return name + ": fixed point, " + bits + " with " + std::to_string(f.fractionBits) + " fraction bits: range [" +
               fmtNumber(-std::ldexp(1.0, f.wordBits - 1 - f.fractionBits)) + ", " + fmtNumber(maxFinite(f)) +
               "], resolution " + fmtNumber(epsilon(f)) + ", saturating";
    case FormatKind::ScaledInt: {
        const std::string qmax = fmtNumber(std::ldexp(1.0, f.intBits - 1) - 1.0, 12);
        if (f.scale > 0)
            return name + ": symmetric " + std::to_string(f.intBits) + "-bit integer times " + fmtNumber(f.scale) + ": range ±" +
                   fmtNumber(maxFinite(f)) + ", resolution " + fmtNumber(f.scale) + ", saturating";
        return name + ": symmetric " + std::to_string(f.intBits) + "-bit integer with a per-tensor scale max|x|/" + qmax + ": ±" + qmax +
               " steps, epsilon " + fmtNumber(epsilon(f)) + " of the largest magnitude";
    }
    case FormatKind::Log: {
        const double logMax = std::ldexp(static_cast<double>((1 << (f.logIntegerBits + f.logFractionBits - 1)) - 1),
                                         -f.logFractionBits);
        return name + ": logarithmic, sign + " + std::to_string(f.logIntegerBits + f.logFractionBits) +
               "-bit log2|x| with " + std::to_string(f.logFractionBits) + " fraction bits, " + bits +
               ": magnitudes 2^-" + fmtNumber(logMax) + "…2^" + fmtNumber(logMax) + " (" + fmtNumber(minNormal(f)) +
               "…" + fmtNumber(maxFinite(f)) + "), explicit zero, relative step " + fmtNumber(epsilon(f)) +
               " (nearest within " + fmtNumber(std::exp2(std::ldexp(1.0, -f.logFractionBits - 1)) - 1.0, 3) +
               "), saturating";
    }
    }
    return name;
}

}  // namespace ks::numeric
