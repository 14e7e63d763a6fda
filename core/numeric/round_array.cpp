// Bulk rounding: nearest-even to a binary float format through the vectorisable bit kernel of
// round_nearest_even.hpp; everything else (directed, stochastic, fixed, log) runs the scalar Rounder.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "numeric/round.hpp"
#include "numeric/round_nearest_even.hpp"

namespace ks::numeric {

namespace {

/// Element i's random site (step 0), or none without a key (any rounding but stochastic).
class ElementSites {
public:
    explicit ElementSites(const RandomKey* key) : keyed_(key != nullptr) {
        if (key) site_.key = *key;
    }
    const RandomSite* operator()(std::size_t i) {
        if (!keyed_) return nullptr;
        site_.element = static_cast<std::uint32_t>(i);
        return &site_;
    }

private:
    bool keyed_;
    RandomSite site_;
};

template <class Float>
void roundNearestEvenKernel(const Float* __restrict in, Float* __restrict out, std::size_t n,
                            const RneParams<Float>& p) {
    const RneParams<Float> constants = p;  // a local copy: loop invariants the vectoriser keeps in registers
    for (std::size_t i = 0; i < n; ++i) out[i] = roundNearestEven(in[i], constants);
}

/// The kernel over whole arrays. In place (in == out) goes through an 8 KiB buffer: the kernel's
/// __restrict promises that input and output do not alias.
template <class Float>
void roundNearestEvenArray(std::span<const Float> in, std::span<Float> out, const RneParams<Float>& p) {
    if (in.data() != out.data()) {
        roundNearestEvenKernel(in.data(), out.data(), in.size(), p);
        return;
    }
    constexpr std::size_t chunk = 8192 / sizeof(Float);
    Float buffer[chunk];
    for (std::size_t i = 0; i < in.size(); i += chunk) {
        const std::size_t n = std::min(chunk, in.size() - i);
        roundNearestEvenKernel(in.data() + i, buffer, n, p);
        std::copy(buffer, buffer + n, out.data() + i);
    }
}

bool isIdentityFor(const Format& f, bool sourceIsFloat) {
    if (f.kind != FormatKind::Float || f.specials != Specials::Ieee || f.overflow != Overflow::Infinity) return false;
    if (sourceIsFloat) return f.exponentBits >= 8 && f.mantissaBits >= 23 && (f.subnormals || f.exponentBits > 8);
    return f.exponentBits == 11 && f.mantissaBits == 52 && f.subnormals;
}

void checkSizes(std::size_t in, std::size_t out) {
    if (in != out)
        throw std::invalid_argument("roundArray: input has " + std::to_string(in) + " elements, output " +
                                    std::to_string(out));
}

template <class Float>
double scaleOf(std::span<const Float> in, int bits) {
    validate(Format::scaledInt(bits));
    double maxAbs = 0;
    for (Float v : in)
        if (std::isfinite(v)) maxAbs = std::max(maxAbs, std::fabs(static_cast<double>(v)));
    return maxAbs > 0 ? maxAbs / (std::ldexp(1.0, bits - 1) - 1) : 1.0;
}

template <class Float>
double quantize(std::span<const Float> in, std::span<Float> out, int bits, Rounding rounding, const RandomKey* key) {
    checkSizes(in.size(), out.size());
    const double scale = scaleOf(in, bits);
    const Rounder r(Format::scaledInt(bits, scale), rounding);
    ElementSites siteOf(key);
    for (std::size_t i = 0; i < in.size(); ++i) out[i] = static_cast<Float>(r(static_cast<double>(in[i]), siteOf(i)));
    return scale;
}

}  // namespace

std::string roundArrayKernel(const Format& format, Rounding rounding, bool sourceIsFloat) {
    if (isIdentityFor(format, sourceIsFloat)) return "copy";
    if (format.kind == FormatKind::ScaledInt && !(format.scale > 0)) return "per-tensor-scaled-int";
    if (rounding == Rounding::NearestEven && format.kind == FormatKind::Float) {
        if (sourceIsFloat && rneKernelApplies<float>(format)) return "vector-rne-f32";
        if (rneKernelApplies<double>(format)) return sourceIsFloat ? "vector-rne-f64-via-double" : "vector-rne-f64";
    }
    return "scalar";
}

void roundArray(std::span<const double> in, std::span<double> out, const Format& format, Rounding rounding,
                const RandomKey* key) {
    checkSizes(in.size(), out.size());
    validate(format);
    if (isIdentityFor(format, false)) {
        if (in.data() != out.data()) std::copy(in.begin(), in.end(), out.begin());
        return;
    }
    if (format.kind == FormatKind::ScaledInt && !(format.scale > 0)) {
        quantizeScaledInt(in, out, format.intBits, rounding, key);
        return;
    }
    if (rounding == Rounding::NearestEven && rneKernelApplies<double>(format)) {
        roundNearestEvenArray(in, out, rneParams<double>(format));
        return;
    }
    const Rounder r(format, rounding);
    ElementSites siteOf(key);
    for (std::size_t i = 0; i < in.size(); ++i) out[i] = r(in[i], siteOf(i));
}

void roundArray(std::span<const float> in, std::span<float> out, const Format& format, Rounding rounding,
                const RandomKey* key) {
    checkSizes(in.size(), out.size());
    validate(format);
    if (isIdentityFor(format, true)) {
        if (in.data() != out.data()) std::copy(in.begin(), in.end(), out.begin());
        return;
    }
    if (format.kind == FormatKind::ScaledInt && !(format.scale > 0)) {
        quantizeScaledInt(in, out, format.intBits, rounding, key);
        return;
    }
    if (rounding == Rounding::NearestEven && rneKernelApplies<float>(format)) {
        roundNearestEvenArray(in, out, rneParams<float>(format));
        return;
    }
    // Through double: every rounded result that lies in float's range is a float (its significand is
    // no longer than the input's), so the cast back is exact; results beyond float's range become ±inf.
    const Rounder r(format, rounding);
    const bool vector = rounding == Rounding::NearestEven && rneKernelApplies<double>(format);
    const auto params = vector ? rneParams<double>(format) : RneParams<double>{};
    ElementSites siteOf(key);
    double wide[1024], rounded[1024];
    for (std::size_t i = 0; i < in.size(); i += 1024) {
        const std::size_t n = std::min<std::size_t>(1024, in.size() - i);
        for (std::size_t j = 0; j < n; ++j) wide[j] = in[i + j];
        if (vector) roundNearestEvenKernel(wide, rounded, n, params);
        else
            for (std::size_t j = 0; j < n; ++j) rounded[j] = r(wide[j], siteOf(i + j));
        for (std::size_t j = 0; j < n; ++j) out[i + j] = static_cast<float>(rounded[j]);
    }
}

double quantizeScaledInt(std::span<const double> in, std::span<double> out, int bits, Rounding rounding,
                         const RandomKey* key) {
    return quantize(in, out, bits, rounding, key);
}
double quantizeScaledInt(std::span<const float> in, std::span<float> out, int bits, Rounding rounding,
                         const RandomKey* key) {
    return quantize(in, out, bits, rounding, key);
}
double scaledIntScale(std::span<const double> in, int bits) { return scaleOf(in, bits); }
double scaledIntScale(std::span<const float> in, int bits) { return scaleOf(in, bits); }

}  // namespace ks::numeric
