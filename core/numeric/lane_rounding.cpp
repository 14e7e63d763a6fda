#include "numeric/lane_rounding.hpp"

#include <bit>
#include <cfloat>
#include <cmath>
#include <stdexcept>

namespace ks::numeric {

namespace {

std::int32_t bitsOf(double x) { return std::bit_cast<std::int32_t>(static_cast<float>(x)); }

bool isFloat32(const Format& f) {
    return f.kind == FormatKind::Float && f.exponentBits == 8 && f.mantissaBits == 23 && f.subnormals &&
           f.specials == Specials::Ieee && f.overflow == Overflow::Infinity;
}

int eminOf(const Format& f) { return std::ilogb(minNormal(f)); }
int emaxOf(const Format& f) { return std::ilogb(maxFinite(f)); }
/// log2 of the smallest positive number (the subnormal step, or minNormal without subnormals).
int quantumOf(const Format& f) { return std::ilogb(minPositive(f)); }

/// Every finite number of `inner` is one of `outer`'s.
bool holds(const Format& outer, const Format& inner) {
    if (isFloat32(outer)) return true;
    if (isFloat32(inner)) return false;
    // Inner's subnormals need no check of their own: multiples of its quantum with at most m + 1
    // significant bits, at least outer's quantum, lie on outer's grid.
    return inner.mantissaBits <= outer.mantissaBits && quantumOf(inner) >= quantumOf(outer) &&
           maxFinite(inner) <= maxFinite(outer);
}

}  // namespace

std::optional<std::string> laneFormatRefusal(const Format& f) {
    if (isFloat32(f)) return std::nullopt;
    const std::string name = formatName(f);
    if (f.kind != FormatKind::Float) return name + " is not a binary float format";
    if (f.mantissaBits > 10) return name + " has more than 11 bits of precision (float32 would round twice)";
    if (f.exponentBits > 8 || maxFinite(f) > FLT_MAX) return name + " reaches beyond float32's range";
    if (f.overflow == Overflow::Saturate && f.specials == Specials::Ieee && f.exponentBits >= 7)
        return name + " saturates, and a float32 overflow of its operations could not be told from an infinite operand";
    return std::nullopt;
}

LaneRounding laneRounding(const Format& f, Rounding rounding) {
    if (auto reason = laneFormatRefusal(f)) throw std::invalid_argument("float32 lanes: " + *reason);
    LaneRounding r;
    r.rounding = rounding;
    if (isFloat32(f)) return r;
    const bool ieeeFp16 = f.exponentBits == 5 && f.mantissaBits == 10 && f.subnormals && f.specials == Specials::Ieee &&
                          f.overflow == Overflow::Infinity;
    const bool ieeeE8 = f.exponentBits == 8 && f.subnormals && f.specials == Specials::Ieee && f.overflow == Overflow::Infinity;
    r.method = ieeeFp16 ? LaneMethod::Fp16
               : ieeeE8 ? LaneMethod::SignedBits
               : f.exponentBits == 8 ? LaneMethod::Bits
                                     : LaneMethod::Magic;
    const int emin = eminOf(f), emax = emaxOf(f);
    r.exponentOffset = (23 - f.mantissaBits) << 23;
    r.smallMagic = bitsOf(std::ldexp(1.0, quantumOf(f) + 23));
    r.minNormal = bitsOf(std::ldexp(1.0, emin));
    // Past the largest finite value M, the midpoint M + ulp/2 overflows when M's last bit is odd (ties to
    // even go up: IEEE's all-ones M), the next float32 after it otherwise (OCP e4m3's M = 1.75·2^8).
    const double ulp = std::ldexp(1.0, emax - f.mantissaBits);
    const float midpoint = static_cast<float>(maxFinite(f) + ulp / 2);
    const bool maxIsOdd = std::fmod(maxFinite(f) / ulp, 2.0) == 1.0;
    r.overflowFrom = std::bit_cast<std::int32_t>(maxIsOdd ? midpoint : std::nextafter(midpoint, HUGE_VALF));
    r.shift = 23 - f.mantissaBits;
    r.lowMask = static_cast<std::int32_t>((1u << r.shift) - 1);
    r.halfMinusOne = static_cast<std::int32_t>((1u << (r.shift - 1)) - 1);
    r.smallRange = f.subnormals ? 0 : 1;
    r.maxFinite = bitsOf(maxFinite(f));
    const bool finiteOnly = f.specials == Specials::FiniteOnlyOcp;
    const double overflowValue = f.overflow == Overflow::Saturate ? maxFinite(f)
                                 : finiteOnly                     ? std::nan("")
                                                                  : HUGE_VAL;
    r.overflow = bitsOf(overflowValue);
    // IEEE formats keep NaN and ∞ as they are; a finite-only one keeps NaN and sends ∞ to its overflow
    // value, which the overflow test does.
    r.specialFrom = finiteOnly ? 0x7f800001 : 0x7f800000;
    if (rounding != Rounding::NearestEven) {
        // Rounder::roundFloat's steps: Up rounds positive values away from zero, Down negative ones.
        // F16C's conversion rounds in MXCSR's mode too (vcvtps2ph's immediate 4), one instruction.
        r.stepBias = emin - f.mantissaBits + 150;
        // The bits a float32 of exponent field E ≥ 1 drops are max(shift, stepBias − E): the same for all
        // when stepBias − 1 ≤ shift, and with subnormals nothing lies below the smallest step but zero.
        // DirectedBits also takes the largest finite value to be FLT_MAX's truncation and overflow to be ∞
        // (IEEE e8 formats), whose bits follow from the carry.
        const bool fixedStep = r.stepBias - 1 <= r.shift && f.subnormals && r.maxFinite == (0x7f7fffff & ~r.lowMask) &&
                               f.specials == Specials::Ieee && f.overflow == Overflow::Infinity;
        r.method = rounding == Rounding::Stochastic ? LaneMethod::Stochastic
                   : ieeeFp16                       ? LaneMethod::Fp16
                   : fixedStep                      ? LaneMethod::DirectedBits
                   : f.exponentBits < 8             ? LaneMethod::DirectedMagic
                                                    : LaneMethod::Directed;
        r.awayPositive = rounding == Rounding::Up ? -1 : 0;
        r.awayNegative = rounding == Rounding::Down ? -1 : 0;
        r.smallStep = f.subnormals ? bitsOf(std::ldexp(1.0, emin - f.mantissaBits)) : r.minNormal;
        r.infinity = bitsOf(finiteOnly ? overflowValue : HUGE_VAL);
        const int smallExponent = 30 - quantumOf(f);  // at most 30 + 149
        r.smallScaleHigh = bitsOf(std::ldexp(1.0, smallExponent / 2));
        r.smallScaleLow = bitsOf(std::ldexp(1.0, smallExponent - smallExponent / 2));
        const int tinyExponent = smallExponent - kTinyProductScale;
        r.tinyStepBias = r.stepBias + kTinyProductScale;
        r.tinySmallStep = bitsOf(std::ldexp(f.subnormals ? std::ldexp(1.0, emin - f.mantissaBits) : minNormal(f), kTinyProductScale));
        r.tinySmallScaleHigh = bitsOf(std::ldexp(1.0, tinyExponent / 2));
        r.tinySmallScaleLow = bitsOf(std::ldexp(1.0, tinyExponent - tinyExponent / 2));
    }
    return r;
}

namespace {

bool directed(const ComputeSpec& spec) {
    return spec.rounding == Rounding::TowardZero || spec.rounding == Rounding::Up || spec.rounding == Rounding::Down;
}

/// A product of values below 2^topX and 2^topY beyond float32's range is ∞ there, which a saturating IEEE
/// product format would keep rather than saturate.
std::optional<std::string> productOverflowRefusal(const Format& x, int topX, const Format& y, int topY, const Format& p) {
    if (topX + topY > 128 && p.overflow == Overflow::Saturate && p.specials == Specials::Ieee)
        return "products of " + formatName(x) + " and " + formatName(y) + " values can overflow float32, and " +
               formatName(p) + " saturates";
    return std::nullopt;
}

std::optional<std::string> productOverflowRefusal(const Format& x, const Format& y, const Format& p) {
    return productOverflowRefusal(x, emaxOf(x) + 1, y, emaxOf(y) + 1, p);
}

}  // namespace

StoredExponents storedExponents(const Format& storage) { return {eminOf(storage) - storage.mantissaBits, emaxOf(storage) + 1}; }

StoredExponents storedExponents(const Format& storage, const float* values, std::int64_t count) {
    // On the magnitudes' bits, whose integer order is the floats' order.
    std::uint32_t smallest = 0xffffffffu, largest = 0;
    for (std::int64_t i = 0; i < count; ++i) {
        const std::uint32_t magnitude = std::bit_cast<std::uint32_t>(values[i]) & 0x7fffffffu;
        largest = magnitude > largest ? magnitude : largest;
        smallest = magnitude != 0 && magnitude < smallest ? magnitude : smallest;
    }
    const StoredExponents format = storedExponents(storage);
    if (largest >= 0x7f800000u) return format;
    if (largest == 0) return {format.lastPlace + 300, format.top - 300};  // all zeros: every product is 0, exact
    // A stored value's last place is 2^(its exponent − m), or the format's own quantum for its subnormals.
    const int last = std::ilogb(std::bit_cast<float>(smallest)) - storage.mantissaBits;
    return {last > format.lastPlace ? last : format.lastPlace, std::ilogb(std::bit_cast<float>(largest)) + 1};
}

std::optional<std::string> laneRefusal(const ComputeSpec& spec, EmulatedOrder order) {
    return laneRefusal(spec, order, storedExponents(spec.storage), storedExponents(spec.storage));
}

bool laneRefusalDependsOnData(const ComputeSpec& spec, EmulatedOrder order) {
    const StoredExponents modest{-30 - spec.storage.mantissaBits, 1};
    return laneRefusal(spec, order) && !laneRefusal(spec, order, modest, modest);
}

std::optional<std::string> laneRefusal(const ComputeSpec& spec, EmulatedOrder order, StoredExponents ea, StoredExponents eb) {
    if (spec.native) return "the native float32 specification is not emulated";
    if (spec.scaledStorage) return kScaledStorageNotApplied;
    if (!spec.accumulation.plain()) return kAccumulatorModelled;
    for (const Format* f : {&spec.storage, &spec.product, &spec.accumulate})
        if (auto reason = laneFormatRefusal(*f)) return reason;
    const Format &s = spec.storage, &p = spec.product, &a = spec.accumulate;
    if (spec.rounding == Rounding::Stochastic) {
        // The lanes round s + e, the exact value as float32 TwoSum gives it, and need the fraction of the
        // way between the grid neighbours to 2^-30 (LaneMethod::Stochastic): so products of two stored
        // values must be exact in float32 and sums must not overflow it, and the sums' format must be
        // narrower than float32 (a float32 grid holds the TwoSum value itself).
        // Products of stored values below float32's precision are formed scaled (LaneSpec::tinyProducts) in
        // the rounded-products order. Products and sums beyond float32's range are ∞, which every lane format
        // that does not saturate turns into its overflow value, as the reference does: a float32 sum of two
        // values of at most 11 bits overflows only when the exact one reaches 2^128 (both are multiples of
        // 2^106 or finer only far below FLT_MAX, whose gap to 2^128 is 2^104), beyond every lane format.
        if (isFloat32(s)) return "stochastic rounding of float32 operands' products runs on the reference so far";
        const bool exactProducts = ea.lastPlace + eb.lastPlace >= -149 && ea.top + eb.top <= 126;
        if (order == EmulatedOrder::FusedMultiplyAdd && !exactProducts)
            return "the fused order needs every product of two " + formatName(s) + " values exact in float32";
        if (!exactProducts && isFloat32(p))
            return "products of " + formatName(s) + " values are not exact in float32, and stochastic rounding of "
                   "float32 products runs on the reference so far";
        return std::nullopt;
    }
    // Directed: every format's numbers are float32 numbers, so rounding the float32 operation in the same
    // direction and then to the format is rounding once (the nested grids' largest number below x is the
    // format's); nothing needs to be exact.
    const Format& overflowing = order == EmulatedOrder::RoundedProducts ? p : a;
    if (directed(spec)) return productOverflowRefusal(s, ea.top, s, eb.top, overflowing);
    // Products of two stored values: exact in float32 when both have at most 12 bits of precision,
    // unless their last places fall below float32's subnormals' (then see below).
    const bool storedNarrow = !isFloat32(s);
    const bool productsMayUnderflow = ea.lastPlace + eb.lastPlace < -149;
    if (order == EmulatedOrder::RoundedProducts) {
        if (!isFloat32(p)) {
            if (!storedNarrow)
                return "products of float32 operands are not exact in float32 (" + formatName(p) + " products would round twice)";
            // An inexact float32 product has its last bit below 2^-149, so its magnitude is below
            // 2^(2m + 2 - 150); if that is below the product format's smallest midpoint 2^(q - 1), both
            // roundings give the same zero or smallest step.
            if (productsMayUnderflow && 2 * s.mantissaBits + 2 - 150 > quantumOf(p) - 1)
                return "products of " + formatName(s) + " values can underflow float32 near " + formatName(p) +
                       "'s smallest numbers";
        }
    } else if (!isFloat32(a)) {
        if (!storedNarrow || productsMayUnderflow || ea.top + eb.top > 127)
            return "the fused order needs every product of two " + formatName(s) + " values exact in float32";
    }
    return productOverflowRefusal(s, ea.top, s, eb.top, overflowing);
}

std::optional<std::string> laneMixedProductRefusal(const ComputeSpec& spec) {
    if (auto reason = laneRefusal(spec, EmulatedOrder::RoundedProducts)) return reason;
    const Format &s = spec.storage, &p = spec.product, &a = spec.accumulate;
    if (spec.rounding == Rounding::Stochastic) {
        // A stored value times a sum of at most 11 bits is exact in float32 (formed scaled below 2^-100, as two
        // stored values); a float32 sum's product would need its remainder rounded stochastically.
        if (isFloat32(a)) return "stochastic rounding of a stored value times a float32 sum is not on float32 lanes";
        return productOverflowRefusal(s, a, p);
    }
    if (directed(spec)) return productOverflowRefusal(s, a, p);
    if (isFloat32(p)) return std::nullopt;  // the float32 product is the correctly rounded one
    if (isFloat32(a)) {
        // Round-to-odd (LaneProduct::RoundToOdd): TwoProd's remainder is exact, or non-zero with the right
        // sign, unless the product's last bits lie below 2^-150; with a float32 factor that happens only for
        // products below 2^(m_s + 2 − 125), which must then lie below the product format's smallest midpoint.
        if (s.mantissaBits + 2 - 125 > quantumOf(p) - 1)
            return "products of " + formatName(s) + " and float32 values can fall below float32's precision near " +
                   formatName(p) + "'s smallest numbers";
        return productOverflowRefusal(s, a, p);
    }
    // Both have at most 11 bits of precision: the product has at most 22, exact in float32 unless it
    // falls below float32's subnormals; then, as laneRefusal argues for two stored values, an inexact
    // product lies below 2^(m_s + m_a + 2 − 150), which must be below the product format's smallest midpoint.
    const bool mayUnderflow = (eminOf(s) - s.mantissaBits) + (eminOf(a) - a.mantissaBits) < -149;
    if (mayUnderflow && s.mantissaBits + a.mantissaBits + 2 - 150 > quantumOf(p) - 1)
        return "products of " + formatName(s) + " and " + formatName(a) + " values can underflow float32 near " +
               formatName(p) + "'s smallest numbers";
    return productOverflowRefusal(s, a, p);
}

std::optional<std::string> laneAccumulatedProductRefusal(const ComputeSpec& spec) {
    if (spec.rounding == Rounding::Stochastic)
        return "stochastic rounding of the FFT's butterflies and spectra is not keyed yet (runs on the reference)";
    if (auto reason = laneMixedProductRefusal(spec)) return reason;
    const Format &p = spec.product, &a = spec.accumulate;
    if (directed(spec)) return productOverflowRefusal(a, a, p);
    if (isFloat32(p)) return std::nullopt;
    if (isFloat32(a)) {
        // Round-to-odd, as for a stored and a float32 factor: two 24-bit factors leave the remainder's last
        // bits below 2^-149 only for products below 2^(2·24 − 149) = 2^-101.
        if (-101 > quantumOf(p) - 1)
            return "products of two float32 values can fall below float32's precision near " + formatName(p) +
                   "'s smallest numbers";
        return std::nullopt;
    }
    const bool mayUnderflow = 2 * (eminOf(a) - a.mantissaBits) < -149;
    if (mayUnderflow && 2 * a.mantissaBits + 2 - 150 > quantumOf(p) - 1)
        return "products of two " + formatName(a) + " values can underflow float32 near " + formatName(p) +
               "'s smallest numbers";
    return productOverflowRefusal(a, a, p);
}

LaneSpec laneSpec(const ComputeSpec& spec, EmulatedOrder order) {
    return laneSpec(spec, order, storedExponents(spec.storage), storedExponents(spec.storage));
}

LaneSpec laneSpec(const ComputeSpec& spec, EmulatedOrder order, StoredExponents ea, StoredExponents eb) {
    if (auto reason = laneRefusal(spec, order, ea, eb)) throw std::invalid_argument("float32 lanes: " + *reason);
    LaneSpec l{spec.rounding, laneRounding(spec.storage, spec.rounding), laneRounding(spec.product, spec.rounding),
               laneRounding(spec.accumulate, spec.rounding), LaneSum::Native};
    // Stochastic: the exact sum (TwoSum), rounded once (the kernels' own path, float32 sums too).
    if (spec.rounding == Rounding::Stochastic) {
        l.sum = LaneSum::RoundToOdd;
        l.tinyProducts = ea.lastPlace + eb.lastPlace < -149;
    } else if (isFloat32(spec.accumulate)) l.sum = LaneSum::Native;
    // Directed: the float32 sum (or FMA) in the same direction, rounded again (nested grids).
    else if (directed(spec)) l.sum = LaneSum::RoundTwice;
    // Figueroa (1995): with both operands in a p-bit format and p ≤ 11, float32's 24 ≥ 2p + 2 bits make
    // rounding the float32 sum again to the format innocuous. Otherwise the float32 sum is made the
    // round-to-odd value of the exact one first (TwoSum's exact remainder), which rounds once correctly.
    else if (order == EmulatedOrder::RoundedProducts && holds(spec.accumulate, spec.product) &&
             holds(spec.accumulate, spec.storage))
        l.sum = LaneSum::RoundTwice;
    else l.sum = LaneSum::RoundToOdd;
    if (!directed(spec) && !isFloat32(spec.product) && isFloat32(spec.accumulate)) l.mixedProduct = LaneProduct::RoundToOdd;
    // (The fused order's products are float32's, Identity, which meets every method this one meets.)
    if (spec.rounding != Rounding::Stochastic &&
        !laneCombinationExists(l.product.method, l.accumulate.method, l.sum, l.mixedProduct == LaneProduct::RoundToOdd))
        throw std::logic_error("float32 lanes: no kernel for the combination of methods that " + computeSpecName(spec) + " needs");
    return l;
}

}  // namespace ks::numeric
