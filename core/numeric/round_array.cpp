// Bulk rounding. Nearest-even to a binary float format is one branch-free loop over the bit
// patterns that GCC/Clang vectorise (AVX2: 4 doubles or 8 floats per instruction):
//   normal range:    add (half step - 1 + the kept last bit) to |x|'s bits, clear the dropped bits;
//                    a carry into the exponent field is the next binade, as it should be;
//   below xmin:      (|x| + M) - M with M = 2^(q + p_src - 1) rounds to multiples of 2^q in the
//                    hardware's nearest-even mode (q = the subnormal step, or the exponent of xmin
//                    when subnormals are off: the flush rounds to 0 or xmin);
//   then overflow (infinity, NaN or saturation), NaN and infinity inputs, and the sign, by selects.
// Everything else (directed, stochastic, fixed, log) runs the scalar Rounder.
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

namespace ks::numeric {

namespace {

template <class Float>
struct BitsOf;
template <>
struct BitsOf<double> {
    using Int = std::int64_t;
    static constexpr int mantissa = 52;
    static constexpr int maxExponentBits = 11;
};
template <>
struct BitsOf<float> {
    using Int = std::int32_t;
    static constexpr int mantissa = 23;
    static constexpr int maxExponentBits = 8;
};

template <class Float>
struct RneParams {
    using Int = typename BitsOf<Float>::Int;
    int shift = 0;       // source mantissa bits dropped in the normal range
    Int lowMask = 0;     // those bits
    Int halfMinusOne = 0;
    Int keptLastBit = 0;  // 1 when shift > 0, else 0 (the ties-to-even term)
    Int minNormal = 0, maxFinite = 0, overflow = 0, infinity = 0, infinityResult = 0;
    Float magic = 0;
};

/// Can the source type's kernel round to f directly (its range and precision hold every result)?
template <class Float>
bool kernelApplies(const Format& f) {
    return f.kind == FormatKind::Float && f.exponentBits <= BitsOf<Float>::maxExponentBits &&
           f.mantissaBits <= BitsOf<Float>::mantissa;
}

template <class Float>
RneParams<Float> rneParams(const Format& f) {
    using Int = typename BitsOf<Float>::Int;
    constexpr int srcMantissa = BitsOf<Float>::mantissa;
    RneParams<Float> p;
    p.shift = srcMantissa - f.mantissaBits;
    p.lowMask = static_cast<Int>((Int{1} << p.shift) - 1);
    p.halfMinusOne = p.shift > 0 ? static_cast<Int>((Int{1} << (p.shift - 1)) - 1) : 0;
    p.keptLastBit = p.shift > 0 ? 1 : 0;
    const int emin = 2 - (1 << (f.exponentBits - 1));
    const Float minNormal = std::ldexp(Float(1), emin);
    const Float maxValue = static_cast<Float>(maxFinite(f));
    const Float inf = std::numeric_limits<Float>::infinity();
    const Float nan = std::numeric_limits<Float>::quiet_NaN();
    const bool finiteOnly = f.specials == Specials::FiniteOnlyOcp;
    const Float overflowValue = f.overflow == Overflow::Saturate ? maxValue : (finiteOnly ? nan : inf);
    p.minNormal = std::bit_cast<Int>(minNormal);
    p.maxFinite = std::bit_cast<Int>(maxValue);
    p.overflow = std::bit_cast<Int>(overflowValue);
    p.infinity = std::bit_cast<Int>(inf);
    p.infinityResult = std::bit_cast<Int>(finiteOnly ? overflowValue : inf);
    const int subnormalStep = f.subnormals ? emin - f.mantissaBits : emin;
    p.magic = std::ldexp(Float(1), subnormalStep + srcMantissa);
    return p;
}

template <class Float>
void roundNearestEvenKernel(const Float* __restrict in, Float* __restrict out, std::size_t n,
                            const RneParams<Float>& p) {
    using Int = typename BitsOf<Float>::Int;
    using UInt = std::make_unsigned_t<Int>;
    constexpr Int signMask = std::numeric_limits<Int>::min();
    const Int lowMask = p.lowMask, halfMinusOne = p.halfMinusOne, keptLastBit = p.keptLastBit;
    const Int minNormal = p.minNormal, maxFinite = p.maxFinite, overflow = p.overflow;
    const Int infinity = p.infinity, infinityResult = p.infinityResult;
    const int shift = p.shift;
    const Float magic = p.magic;
    for (std::size_t i = 0; i < n; ++i) {
        const Int bits = std::bit_cast<Int>(in[i]);
        const Int sign = bits & signMask;
        const Int a = bits & ~signMask;
        // Unsigned: NaN payloads near the top would overflow a signed add (the NaN lane is replaced below).
        const Int normal = static_cast<Int>((static_cast<UInt>(a) + static_cast<UInt>(halfMinusOne) +
                                             static_cast<UInt>((a >> shift) & keptLastBit)) &
                                            ~static_cast<UInt>(lowMask));
        const Float small = (std::bit_cast<Float>(a) + magic) - magic;
        // Selects as masks (all ones / zero) keep the loop free of branches, hence vectorisable.
        const Int isSmall = -static_cast<Int>(a < minNormal);
        Int r = (std::bit_cast<Int>(small) & isSmall) | (normal & ~isSmall);
        const Int isOverflow = -static_cast<Int>(r > maxFinite);
        r = (overflow & isOverflow) | (r & ~isOverflow);
        const Int isNan = -static_cast<Int>(a > infinity);
        const Int isInf = -static_cast<Int>(a == infinity);
        r = (a & isNan) | (infinityResult & isInf) | (r & ~(isNan | isInf));
        out[i] = std::bit_cast<Float>(static_cast<Int>(r | sign));
    }
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
double quantize(std::span<const Float> in, std::span<Float> out, int bits, Rounding rounding, RandomEngine* rng) {
    checkSizes(in.size(), out.size());
    const double scale = scaleOf(in, bits);
    const Rounder r(Format::scaledInt(bits, scale), rounding);
    for (std::size_t i = 0; i < in.size(); ++i) out[i] = static_cast<Float>(r(static_cast<double>(in[i]), rng));
    return scale;
}

}  // namespace

std::string roundArrayKernel(const Format& format, Rounding rounding, bool sourceIsFloat) {
    if (isIdentityFor(format, sourceIsFloat)) return "copy";
    if (format.kind == FormatKind::ScaledInt && !(format.scale > 0)) return "per-tensor-scaled-int";
    if (rounding == Rounding::NearestEven && format.kind == FormatKind::Float) {
        if (sourceIsFloat && kernelApplies<float>(format)) return "vector-rne-f32";
        if (kernelApplies<double>(format)) return sourceIsFloat ? "vector-rne-f64-via-double" : "vector-rne-f64";
    }
    return "scalar";
}

void roundArray(std::span<const double> in, std::span<double> out, const Format& format, Rounding rounding,
                RandomEngine* rng) {
    checkSizes(in.size(), out.size());
    validate(format);
    if (isIdentityFor(format, false)) {
        if (in.data() != out.data()) std::copy(in.begin(), in.end(), out.begin());
        return;
    }
    if (format.kind == FormatKind::ScaledInt && !(format.scale > 0)) {
        quantizeScaledInt(in, out, format.intBits, rounding, rng);
        return;
    }
    if (rounding == Rounding::NearestEven && kernelApplies<double>(format)) {
        roundNearestEvenArray(in, out, rneParams<double>(format));
        return;
    }
    const Rounder r(format, rounding);
    for (std::size_t i = 0; i < in.size(); ++i) out[i] = r(in[i], rng);
}

void roundArray(std::span<const float> in, std::span<float> out, const Format& format, Rounding rounding,
                RandomEngine* rng) {
    checkSizes(in.size(), out.size());
    validate(format);
    if (isIdentityFor(format, true)) {
        if (in.data() != out.data()) std::copy(in.begin(), in.end(), out.begin());
        return;
    }
    if (format.kind == FormatKind::ScaledInt && !(format.scale > 0)) {
        quantizeScaledInt(in, out, format.intBits, rounding, rng);
        return;
    }
    if (rounding == Rounding::NearestEven && kernelApplies<float>(format)) {
        roundNearestEvenArray(in, out, rneParams<float>(format));
        return;
    }
    // Through double: every rounded result that lies in float's range is a float (its significand is
    // no longer than the input's), so the cast back is exact; results beyond float's range become ±inf.
    const Rounder r(format, rounding);
    const bool vector = rounding == Rounding::NearestEven && kernelApplies<double>(format);
    const auto params = vector ? rneParams<double>(format) : RneParams<double>{};
    double wide[1024], rounded[1024];
    for (std::size_t i = 0; i < in.size(); i += 1024) {
        const std::size_t n = std::min<std::size_t>(1024, in.size() - i);
        for (std::size_t j = 0; j < n; ++j) wide[j] = in[i + j];
        if (vector) roundNearestEvenKernel(wide, rounded, n, params);
        else
            for (std::size_t j = 0; j < n; ++j) rounded[j] = r(wide[j], rng);
        for (std::size_t j = 0; j < n; ++j) out[i + j] = static_cast<float>(rounded[j]);
    }
}

double quantizeScaledInt(std::span<const double> in, std::span<double> out, int bits, Rounding rounding,
                         RandomEngine* rng) {
    return quantize(in, out, bits, rounding, rng);
}
double quantizeScaledInt(std::span<const float> in, std::span<float> out, int bits, Rounding rounding,
                         RandomEngine* rng) {
    return quantize(in, out, bits, rounding, rng);
}
double scaledIntScale(std::span<const double> in, int bits) { return scaleOf(in, bits); }
double scaledIntScale(std::span<const float> in, int bits) { return scaleOf(in, bits); }

}  // namespace ks::numeric
