#pragma once
// Nearest-even rounding to a binary float format as branch-free bit manipulation on a float or a
// double, one element at a time, written so that GCC and Clang vectorise the loops that call it
// (roundArray's bulk kernel, the fast emulated GEMM):
//   normal range:    add (half step - 1 + the kept last bit) to |x|'s bits, clear the dropped bits;
//                    a carry into the exponent field is the next binade, as it should be;
//   below xmin:      (|x| + M) - M with M = 2^(q + p_src - 1) rounds to multiples of 2^q in the
//                    hardware's nearest-even mode (q = the subnormal step, or the exponent of xmin
//                    when subnormals are off: the flush rounds to 0 or xmin);
//   then overflow (infinity, NaN or saturation), NaN and infinity inputs, and the sign, by selects.
// The scalar Rounder (round_scalar.cpp) is the reference it is tested against.
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "numeric/format.hpp"

namespace ks::numeric {

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
bool rneKernelApplies(const Format& f) {
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

/// x rounded to the format of p (p from rneParams: the format must satisfy rneKernelApplies).
template <class Float>
inline Float roundNearestEven(Float x, const RneParams<Float>& p) {
    using Int = typename BitsOf<Float>::Int;
    using UInt = std::make_unsigned_t<Int>;
    constexpr Int signMask = std::numeric_limits<Int>::min();
    const Int bits = std::bit_cast<Int>(x);
    const Int sign = bits & signMask;
    const Int a = bits & ~signMask;
    // Unsigned: NaN payloads near the top would overflow a signed add (the NaN lane is replaced below).
    const Int normal = static_cast<Int>((static_cast<UInt>(a) + static_cast<UInt>(p.halfMinusOne) +
                                         static_cast<UInt>((a >> p.shift) & p.keptLastBit)) &
                                        ~static_cast<UInt>(p.lowMask));
    const Float small = (std::bit_cast<Float>(a) + p.magic) - p.magic;
    // Selects as masks (all ones / zero) keep the loop free of branches, hence vectorisable.
    const Int isSmall = -static_cast<Int>(a < p.minNormal);
    Int r = (std::bit_cast<Int>(small) & isSmall) | (normal & ~isSmall);
    const Int isOverflow = -static_cast<Int>(r > p.maxFinite);
    r = (p.overflow & isOverflow) | (r & ~isOverflow);
    const Int isNan = -static_cast<Int>(a > p.infinity);
    const Int isInf = -static_cast<Int>(a == p.infinity);
    r = (a & isNan) | (p.infinityResult & isInf) | (r & ~(isNan | isInf));
    return std::bit_cast<Float>(static_cast<Int>(r | sign));
}

}  // namespace ks::numeric
