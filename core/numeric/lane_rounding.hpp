#pragma once
// The float32-lane engine's roundings: a float32 value rounded to nearest-even in a binary float format
// of at most 11 bits of precision, whose numbers float32 holds (fp16, bf16, every fp8, eXmY with
// m ≤ 10 and e ≤ 8). With the operation itself done in float32, this gives the correctly rounded
// result whenever the rounding twice is innocuous, which laneRefusal() checks for each stage of a
// compute specification (the argument is written there); everything else runs on the double-lane
// engine (fast_arithmetic.hpp) or the reference.
//
// This header holds the plain data the vector kernels need (they are compiled once per instruction
// set, see core/base/isa.hpp); the kernels themselves are in core/matmul/lane_kernels.inc.
#include <cstdint>
#include <optional>
#include <string>

#include "numeric/compute_spec.hpp"

namespace ks::numeric {

/// How one format's rounding is done on a float32 lane.
enum class LaneMethod : std::int32_t {
    Identity,   ///< float32 itself (IEEE e8m23 with subnormals, overflow to infinity): nothing to do
    Fp16,       ///< IEEE fp16 with subnormals and infinities: F16C's vcvtps2ph in the MXCSR's mode
                ///< (nearest-even, or the directed mode the kernels set) where the CPU has it,
                ///< otherwise the Magic method (the Directed one in a directed mode)
    Magic,      ///< exponent ≤ 7 bits: (|x| + s) − s, s = 2^(exponent of x + 23 − m), the float32
                ///< adder rounding at the format's last place (Sterbenz makes the subtraction exact)
    Bits,       ///< 8 exponent bits (bf16, e8mY): the integer nearest-even step on float32's bits,
                ///< whose exponent field is the format's
    SignedBits, ///< Bits for IEEE e8 formats with subnormals that overflow to ∞ (bf16): the step on
                ///< the signed bits, whose carry out of the largest binade is ∞; only NaN is selected
    Directed,   ///< toward zero, up or down (every format): the dropped bits cleared, or cleared after
                ///< adding the step less one where the direction is away from zero (integer operations
                ///< only, so the float32 operations before it may run in the same directed mode)
    Stochastic, ///< an exact value s + e (float32 TwoSum; e = 0 for an exact float32 value) rounded up
                ///< when the draw R < ⌈fraction · 2^30⌉ (numeric/random_bits.hpp), as Rounder does it
    DirectedBits, ///< Directed for formats whose step drops the same 23 − m bits from every float32 (8
                  ///< exponent bits with subnormals: bf16, tf32): no exponent to read, no small range
    DirectedMagic, ///< Directed for the Magic method's formats (exponent ≤ 7 bits): (x + S) − S with S the
                   ///< Magic constant given x's sign, the addition rounding in the directed mode the kernels
                   ///< run in (toward +∞ is toward zero for a negative sum); magnitudes past the largest
                   ///< finite value replaced after a branch
};

/// The constants of one format's rounding, as float32 bit patterns.
struct LaneRounding {
    LaneMethod method = LaneMethod::Identity;
    Rounding rounding = Rounding::NearestEven;  ///< the mode, which the kernels set in MXCSR for their run
    std::int32_t exponentOffset = 0;  ///< Magic: (23 − m) << 23, added to |x|'s exponent field
    std::int32_t smallMagic = 0;      ///< below minNormal: 2^(q + 23), q the subnormal (or flush) step
    std::int32_t minNormal = 0;
    std::int32_t overflowFrom = 0;    ///< the smallest |x| that rounds beyond the largest finite value
    std::int32_t shift = 0;           ///< Bits: mantissa bits dropped (23 − m)
    std::int32_t lowMask = 0, halfMinusOne = 0;
    std::int32_t smallRange = 0;      ///< 1 without subnormals: below minNormal, the flush step
    std::int32_t maxFinite = 0, overflow = 0;
    std::int32_t specialFrom = 0;     ///< |x| bits from here are returned as they are (NaN; IEEE ∞)
    // Directed (and Fp16 in a directed mode) only:
    std::int32_t awayPositive = 0, awayNegative = 0;  ///< all ones where that sign rounds away from zero
    std::int32_t stepBias = 0;        ///< q + 150, 2^q the subnormal step: the bits a float32 of exponent
                                      ///< field E drops are max(shift, stepBias − max(E, 1))
    std::int32_t smallStep = 0;       ///< below it the neighbours are 0 and it: 2^q, or minNormal without subnormals
    std::int32_t infinity = 0;        ///< what ∞ becomes (∞, or the overflow value of a finite-only format)
    // Stochastic only: 2^(30 − q) for the smallest step 2^q, as two float32 factors (their product may
    // exceed float32's range), which scale a value below the smallest step to the draw's units.
    std::int32_t smallScaleHigh = 0, smallScaleLow = 0;
    /// The same constants for the format's grid scaled by 2^kTinyProductScale (LaneSpec::tinyProducts).
    std::int32_t tinyStepBias = 0, tinySmallStep = 0, tinySmallScaleHigh = 0, tinySmallScaleLow = 0;
};

/// LaneSpec::tinyProducts' scale: 2^176 = (2^88)², each factor a float32; a product below 2^-100 has a factor
/// below 2^-50, which it leaves below 2^126, and every product of two float32 numbers it leaves exact.
inline constexpr int kTinyProductScale = 176;

/// The rounding of `format` in `rounding` (laneFormatRefusal(format) must be empty).
LaneRounding laneRounding(const Format& format, Rounding rounding = Rounding::NearestEven);

/// Why `format` is not a float32-lane format, or nothing.
std::optional<std::string> laneFormatRefusal(const Format& format);

/// The two orders of the emulated matrix products, as the reference loops of matmul/naive_matmul.hpp
/// have them.
enum class EmulatedOrder {
    RoundedProducts,  ///< naive: each product rounded to the product format, then added (rounded)
    FusedMultiplyAdd  ///< dense: acc = a·b + acc rounded once to the accumulation format, from acc = 0
};

/// How the accumulation stage adds in float32: the hardware sum is the result (float32 accumulation),
/// rounded once more (innocuous double rounding), or made exact first (TwoSum, round-to-odd).
enum class LaneSum : std::int32_t { Native, RoundTwice, RoundToOdd };

/// How a product of a stored value and an accumulated one is rounded to the product format: the float32
/// product rounded (it is exact, or the product format is float32), or made the round-to-odd value of
/// the exact product first (TwoProd's exact remainder, one FMA), which rounds once correctly.
enum class LaneProduct : std::int32_t { Direct, RoundToOdd };

/// A compute specification as the float32-lane kernels run it.
struct LaneSpec {
    Rounding rounding = Rounding::NearestEven;  ///< the directed modes run the kernels' float32 operations in it
    LaneRounding storage, product, accumulate;
    LaneSum sum = LaneSum::Native;
    /// Products with an accumulated factor (meaningful when laneMixedProductRefusal is empty; of two
    /// accumulated ones, when laneAccumulatedProductRefusal is).
    LaneProduct mixedProduct = LaneProduct::Direct;
    /// Stochastic only: products of two stored values may fall below float32's precision (8 exponent bits):
    /// those below 2^-100 are formed with the smaller factor scaled by 2^176 (exact) and rounded on the
    /// product format's grid scaled alike (LaneRounding's tiny* constants), then scaled back.
    bool tinyProducts = false;
};

/// Whether a product method, accumulation method, sum and product rounding can meet in one LaneSpec
/// outside stochastic rounding (which has kernels of its own): one rounding mode rounds every stage, so
/// nearest-even's methods never meet the directed ones; a float32 accumulation adds natively and nothing
/// else does; directed sums round twice; products round to odd only into a float32 accumulation. The
/// kernels are compiled for these combinations only (70 of 352), and laneSpec() checks that it made one.
constexpr bool laneCombinationExists(LaneMethod product, LaneMethod accumulate, LaneSum sum, bool oddProducts) {
    auto nearest = [](LaneMethod m) {
        return m == LaneMethod::Identity || m == LaneMethod::Fp16 || m == LaneMethod::Magic || m == LaneMethod::Bits ||
               m == LaneMethod::SignedBits;
    };
    auto directed = [](LaneMethod m) {
        return m == LaneMethod::Identity || m == LaneMethod::Fp16 || m == LaneMethod::Directed ||
               m == LaneMethod::DirectedBits || m == LaneMethod::DirectedMagic;
    };
    if ((accumulate == LaneMethod::Identity) != (sum == LaneSum::Native)) return false;
    if (oddProducts && (accumulate != LaneMethod::Identity || product == LaneMethod::Identity)) return false;
    return (nearest(product) && nearest(accumulate)) ||
           (directed(product) && directed(accumulate) && sum != LaneSum::RoundToOdd && !oddProducts);
}

/// Bounds on the stored operands of a product, as powers of two: every non-zero one's last significant
/// place is at least 2^lastPlace, and every magnitude is below 2^top. Whether two stored values' product is
/// exact in float32 depends on these alone. The storage format bounds them for every value it holds; the
/// values of one product usually bound them far more tightly, which lets formats with float32's exponent
/// range (bf16, tf32, e8mY) run on float32 lanes where the format's extremes would not.
struct StoredExponents {
    int lastPlace = 0;
    int top = 0;
};
/// The bounds of every value of `storage` (its smallest normal's last place, its largest binade).
StoredExponents storedExponents(const Format& storage);
/// The bounds of `count` values already stored in `storage`; NaN or ∞ among them gives the format's.
StoredExponents storedExponents(const Format& storage, const float* values, std::int64_t count);

/// Why the float32-lane engine cannot give the reference's bits for `spec` in `order`, or nothing.
std::optional<std::string> laneRefusal(const ComputeSpec& spec, EmulatedOrder order);
/// The same for a product whose stored operands are bounded by `a` and `b` (left and right).
std::optional<std::string> laneRefusal(const ComputeSpec& spec, EmulatedOrder order, StoredExponents a, StoredExponents b);
/// Whether laneRefusal(spec, order) refuses only for the storage format's extremes: operands of modest
/// range (products between 2^-60 and 2^2) would run on float32 lanes. Worth storing the operands to look.
bool laneRefusalDependsOnData(const ComputeSpec& spec, EmulatedOrder order);
/// Why float32 lanes cannot give the reference's rounded products of a stored value and an accumulated
/// one (the transforms applied to sums: Winograd's second stages and its output transform), beyond
/// laneRefusal(spec, RoundedProducts), or nothing.
std::optional<std::string> laneMixedProductRefusal(const ComputeSpec& spec);
/// Why float32 lanes cannot give the reference's rounded products of two accumulated values (the FFT's
/// frequency-domain products), beyond laneMixedProductRefusal(spec), or nothing. They are rounded as
/// LaneSpec::mixedProduct says.
std::optional<std::string> laneAccumulatedProductRefusal(const ComputeSpec& spec);
/// The kernels' constants for `spec` (laneRefusal must be empty: std::invalid_argument otherwise).
LaneSpec laneSpec(const ComputeSpec& spec, EmulatedOrder order);
/// The same for operands bounded by `a` and `b` (laneRefusal(spec, order, a, b) must be empty).
LaneSpec laneSpec(const ComputeSpec& spec, EmulatedOrder order, StoredExponents a, StoredExponents b);

}  // namespace ks::numeric
