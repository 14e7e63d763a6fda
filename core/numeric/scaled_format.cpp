#include "numeric/scaled_format.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "numeric/round.hpp"

namespace ks::numeric {

ScaledFormat ScaledFormat::mxFormat(MxElement e, int blockSize) {
    ScaledFormat f;
    f.scheme = ScaleScheme::Mx;
    f.mx = e;
    f.reach = ScaleReach::Block;
    f.blockSize = blockSize;
    return f;
}

ScaledFormat ScaledFormat::nvfp4(int blockSize) {
    ScaledFormat f;
    f.scheme = ScaleScheme::Nvfp4;
    f.mx = MxElement::E2M1;
    f.reach = ScaleReach::Block;
    f.blockSize = blockSize;
    return f;
}

ScaledFormat ScaledFormat::withFloat32Scale(const Format& element, ScaleReach reach, int blockSize) {
    ScaledFormat f;
    f.scheme = ScaleScheme::Float32;
    f.element = element;
    f.reach = reach;
    f.blockSize = reach == ScaleReach::Block ? blockSize : 32;
    return f;
}

void validate(const ScaledFormat& f) {
    if (f.reach == ScaleReach::Block && (f.blockSize < 1 || f.blockSize > kMaxScaleBlock))
        throw FormatError("scaled format: block size " + std::to_string(f.blockSize) + " is outside 1…" +
                          std::to_string(kMaxScaleBlock));
    if (f.scheme == ScaleScheme::Float32) {
        validate(f.element);
        const bool integer = f.element.kind == FormatKind::ScaledInt && !(f.element.scale > 0);
        if (f.element.kind != FormatKind::Float && !integer)
            throw FormatError("scaled format: the element must be a float format or intN, not " + formatName(f.element));
    }
}

namespace {

std::string reachSuffix(const ScaledFormat& f) {
    switch (f.reach) {
        case ScaleReach::Tensor: return "@tensor";
        case ScaleReach::Channel: return "@channel";
        case ScaleReach::Block: return "@block" + std::to_string(f.blockSize);
    }
    return {};
}

int defaultBlock(ScaleScheme s) { return s == ScaleScheme::Nvfp4 ? 16 : 32; }

/// The element's largest magnitude.
double elementMax(const ScaledFormat& f) {
    if (f.scheme != ScaleScheme::Float32) return mxElementMagnitudes(f.mx).back();
    if (f.element.kind == FormatKind::ScaledInt) return std::ldexp(1.0, f.element.intBits - 1) - 1;
    return maxFinite(f.element);
}

/// One element rounded to nearest-even and saturated.
class ElementRounder {
public:
    explicit ElementRounder(const ScaledFormat& f) : format_(f) {
        if (f.scheme == ScaleScheme::Float32 && f.element.kind == FormatKind::Float)
            floatRounder_.emplace(f.element.withOverflow(Overflow::Saturate), Rounding::NearestEven);
        max_ = elementMax(f);
    }
    double operator()(double v) const {
        if (format_.scheme != ScaleScheme::Float32) return roundToMxElement(v, format_.mx);
        if (floatRounder_) return (*floatRounder_)(v);
        return std::clamp(std::nearbyint(v), -max_, max_);  // the default environment rounds ties to even
    }
    double max() const { return max_; }

private:
    ScaledFormat format_;
    std::optional<Rounder> floatRounder_;
    double max_ = 0;
};

/// A positive scale stored in float32 (nearest), kept within its range: a scale outside it (double inputs only) is its
/// nearest end, the smallest subnormal rather than zero, the largest finite value rather than infinity (the elements then
/// saturate). Converting an out-of-range double to float is undefined in C++: checked first.
double toFloat32Scale(double s) {
    constexpr double kMax = double(std::numeric_limits<float>::max());
    if (s >= kMax) return kMax;
    const double rounded = double(float(s));
    return rounded > 0 ? rounded : double(std::numeric_limits<float>::denorm_min());
}

double largestMagnitude(const double* v, std::int64_t n) {
    double amax = 0;
    for (std::int64_t i = 0; i < n; ++i) {
        if (!std::isfinite(v[i])) return std::numeric_limits<double>::quiet_NaN();
        amax = std::max(amax, std::fabs(v[i]));
    }
    return amax;
}

constexpr double kE4m3Max = 448.0;

/// Quantise one group (contiguous after gathering): its scale from its own largest magnitude.
/// `tensorScale` is NVFP4's float32 scale of the whole tensor.
void quantizeGroup(double* v, std::int64_t n, const ScaledFormat& f, const ElementRounder& round, double tensorScale) {
    const double amax = largestMagnitude(v, n);
    if (std::isnan(amax)) {
        std::fill(v, v + n, std::numeric_limits<double>::quiet_NaN());
        return;
    }
    double scale = 0;
    switch (f.scheme) {
        case ScaleScheme::Mx: {
            // E8M0: a power of two; elements times it are exact in double.
            const int shared = *mxSharedExponent(amax, f.mx);
            for (std::int64_t i = 0; i < n; ++i) v[i] = std::ldexp(round(std::ldexp(v[i], -shared)), shared);
            return;
        }
        case ScaleScheme::Nvfp4: {
            // The block scale amax / 6 in units of the tensor scale, rounded to E4M3 (nearest, saturating).
            static const Format e4m3 = Format::e4m3();
            scale = roundTo(amax / round.max() / tensorScale, e4m3, Rounding::NearestEven) * tensorScale;
            break;
        }
        case ScaleScheme::Float32:
            scale = amax > 0 ? toFloat32Scale(amax / round.max()) : 0.0;
            break;
    }
    if (scale == 0) {  // an all-zero group, or an NVFP4 block far below its tensor's largest value
        for (std::int64_t i = 0; i < n; ++i) v[i] = std::copysign(0.0, v[i]);
        return;
    }
    for (std::int64_t i = 0; i < n; ++i) v[i] = round(v[i] / scale) * scale;
}

/// NVFP4's float32 tensor scale: amax / (448·6), 1 for an all-zero tensor (NaN: the groups say so).
double nvfp4TensorScale(std::span<const double> values) {
    const double amax = largestMagnitude(values.data(), std::int64_t(values.size()));
    if (std::isnan(amax) || amax == 0) return 1.0;
    return toFloat32Scale(amax / (kE4m3Max * 6.0));
}

}  // namespace

std::string scaledFormatName(const ScaledFormat& f) {
    std::string base;
    switch (f.scheme) {
        case ScaleScheme::Mx: base = mxName(f.mx); break;
        case ScaleScheme::Nvfp4: base = "nvfp4"; break;
        case ScaleScheme::Float32: return formatName(f.element) + reachSuffix(f);
    }
    if (f.reach == ScaleReach::Block && f.blockSize == defaultBlock(f.scheme)) return base;
    return base + reachSuffix(f);
}

std::optional<ScaledFormat> parseScaledFormat(std::string_view name) {
    std::string text(name);
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
    const auto at = text.rfind('@');
    const std::string base = text.substr(0, at);
    const auto mx = parseMxName(base);
    const bool nv = base == "nvfp4";
    if (at == std::string::npos) {
        if (mx) return ScaledFormat::mxFormat(*mx);
        if (nv) return ScaledFormat::nvfp4();
        return std::nullopt;
    }
    const std::string reach = text.substr(at + 1);
    ScaledFormat f;
    if (reach == "tensor") f.reach = ScaleReach::Tensor;
    else if (reach == "channel") f.reach = ScaleReach::Channel;
    else if (reach.rfind("block", 0) == 0) {
        f.reach = ScaleReach::Block;
        const char* first = reach.data() + 5;
        const char* last = reach.data() + reach.size();
        auto [end, ec] = std::from_chars(first, last, f.blockSize);
        if (ec != std::errc() || end != last || first == last || f.blockSize < 1 || f.blockSize > kMaxScaleBlock)
            throw FormatError("scaled format '" + std::string(name) + "': the block size must be a whole number in 1…" +
                              std::to_string(kMaxScaleBlock) + ", e.g. " + base + "@block32");
    } else {
        // intN@S (a fixed scale) is an element-wise format: not ours.
        if (!mx && !nv && !reach.empty() && (std::isdigit(static_cast<unsigned char>(reach[0])) || reach[0] == '.'))
            return std::nullopt;
        throw FormatError("scaled format '" + std::string(name) + "': after '@' comes tensor, channel or blockN "
                          "(e.g. int4@block64, e4m3@channel)");
    }
    if (mx || nv) {
        f.scheme = mx ? ScaleScheme::Mx : ScaleScheme::Nvfp4;
        f.mx = mx ? *mx : MxElement::E2M1;
        if (f.reach != ScaleReach::Block) f.blockSize = defaultBlock(f.scheme);
        return f;
    }
    Format element;
    try {
        element = parseFormat(base);
    } catch (const FormatError& e) {
        throw FormatError("scaled format '" + std::string(name) + "': " + e.what());
    }
    f = ScaledFormat::withFloat32Scale(element, f.reach, f.blockSize);
    validate(f);
    return f;
}

double bitsPerElement(const ScaledFormat& f) {
    double element = 0;
    if (f.scheme == ScaleScheme::Float32) element = bitWidth(f.element);
    else element = f.mx == MxElement::E2M1 ? 4 : (f.mx == MxElement::E3M2 || f.mx == MxElement::E2M3) ? 6 : 8;
    if (f.reach != ScaleReach::Block) return element;
    const double scaleBits = f.scheme == ScaleScheme::Float32 ? 32 : 8;
    return element + scaleBits / f.blockSize;
}

std::string describe(const ScaledFormat& f) {
    std::string element, scale;
    switch (f.scheme) {
        case ScaleScheme::Mx:
            element = f.mx == MxElement::E4M3   ? "E4M3"
                      : f.mx == MxElement::E5M2 ? "E5M2"
                      : f.mx == MxElement::E3M2 ? "E3M2"
                      : f.mx == MxElement::E2M3 ? "E2M3"
                      : f.mx == MxElement::E2M1 ? "E2M1"
                                                : "INT8 (k/64)";
            scale = "an E8M0 power-of-two scale";
            break;
        case ScaleScheme::Nvfp4:
            element = "E2M1";
            scale = "an E4M3 scale (and one float32 scale per tensor)";
            break;
        case ScaleScheme::Float32:
            element = formatName(f.element);
            scale = "a float32 scale";
            break;
    }
    std::string reach = f.reach == ScaleReach::Tensor  ? "per tensor"
                        : f.reach == ScaleReach::Channel ? "per channel (one per line of the reduction axis)"
                                                         : "per block of " + std::to_string(f.blockSize) +
                                                               " along the reduction axis";
    char bits[32];
    std::snprintf(bits, sizeof bits, "%.4g", bitsPerElement(f));
    return element + " elements, " + scale + " " + reach + "; " + bits + " bits per element";
}

void quantizeScaled(std::span<double> values, ReductionLines lines, const ScaledFormat& f) {
    validate(f);
    if (lines.outer < 0 || lines.length < 1 || lines.inner < 1 || std::int64_t(values.size()) != lines.count())
        throw std::invalid_argument("quantizeScaled: " + std::to_string(values.size()) + " values are not " +
                                    std::to_string(lines.outer) + " × " + std::to_string(lines.length) + " × " +
                                    std::to_string(lines.inner) + " lines");
    if (values.empty()) return;
    const ElementRounder round(f);
    const double tensorScale = f.scheme == ScaleScheme::Nvfp4 ? nvfp4TensorScale(values) : 1.0;
    if (f.reach == ScaleReach::Tensor) {
        quantizeGroup(values.data(), std::int64_t(values.size()), f, round, tensorScale);
        return;
    }
    const std::int64_t group = f.reach == ScaleReach::Channel ? lines.length : f.blockSize;
    std::vector<double> line(static_cast<std::size_t>(lines.inner == 1 ? 0 : lines.length));
    for (std::int64_t o = 0; o < lines.outer; ++o)
        for (std::int64_t i = 0; i < lines.inner; ++i) {
            double* first = values.data() + o * lines.length * lines.inner + i;
            double* v = first;
            if (lines.inner != 1) {  // gather the strided line
                for (std::int64_t r = 0; r < lines.length; ++r) line[std::size_t(r)] = first[r * lines.inner];
                v = line.data();
            }
            for (std::int64_t start = 0; start < lines.length; start += group)
                quantizeGroup(v + start, std::min(group, lines.length - start), f, round, tensorScale);
            if (lines.inner != 1)
                for (std::int64_t r = 0; r < lines.length; ++r) first[r * lines.inner] = line[std::size_t(r)];
        }
}

void quantizeScaled(std::span<float> values, ReductionLines lines, const ScaledFormat& f) {
    std::vector<double> wide(values.begin(), values.end());
    quantizeScaled(std::span<double>(wide), lines, f);
    std::transform(wide.begin(), wide.end(), values.begin(), [](double v) { return float(v); });
}

}  // namespace ks::numeric
