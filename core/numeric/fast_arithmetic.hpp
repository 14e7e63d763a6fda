#pragma once
// The fast emulation engine's arithmetic: EmulatedArithmetic's roundings (arithmetic.hpp: the double
// result and its exact error term, round-to-odd, one rounding to the stage's format), bit for bit, as
// branch-free inline functions that GCC vectorises wherever a kernel's loop is simple (the matrix
// products of matmul/emulated_gemm, the conv algorithms' inner loops). It has no random stream and no
// out-of-line call, so a copy computes exactly what the original does, on any thread.
//
// Covered: binary float formats (exponent ≤ 11 bits, mantissa ≤ 52: every eXmY, fp16, bf16, tf32,
// fp32, fp64, with or without subnormals, saturating or finite-only) in every stage, nearest-even.
// fastArithmeticRefusal() says why anything else is not; callers then run EmulatedArithmetic.
#include <bit>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

#include "numeric/arithmetic.hpp"
#include "numeric/compute_spec.hpp"
#include "numeric/round_nearest_even.hpp"

namespace ks::numeric {

/// Why the fast engine cannot emulate `spec`, or nothing.
inline std::optional<std::string> fastArithmeticRefusal(const ComputeSpec& spec) {
    if (spec.native) return "the native float32 specification is not emulated";
    if (spec.scaledStorage) return kScaledStorageNotApplied;
    if (!spec.accumulation.plain()) return kAccumulatorModelled;
    if (spec.rounding != Rounding::NearestEven)
        return "the fast engine rounds to nearest-even only so far (" + roundingName(spec.rounding) + " runs on the reference)";
    for (const Format* f : {&spec.storage, &spec.product, &spec.accumulate})
        if (!rneKernelApplies<double>(*f))
            return "the fast engine covers binary float formats only so far (" + formatName(*f) + " runs on the reference)";
    return std::nullopt;
}

namespace fast {

inline constexpr std::uint64_t kSign = std::uint64_t{1} << 63;
inline constexpr std::uint64_t kInfinity = 0x7ff0000000000000ull;

/// One stage's rounding: the nearest-even kernel's constants, and whether the stage's error terms go
/// through round-to-odd first (every format narrower than a double; a 53-bit one rounds the double).
struct Stage {
    RneParams<double> rne;
    bool odd = true;
};

inline Stage stageOf(const Format& f) { return {rneParams<double>(f), f.mantissaBits < 52}; }

/// All ones when the condition holds, zero otherwise: selects written as masks keep loops free of
/// branches and of bool lanes, which is what lets GCC vectorise them.
inline std::uint64_t mask(bool condition) { return -static_cast<std::uint64_t>(condition); }

/// `error`, or +0 when `value` is not finite (the error-free transformations' rule: no error term then).
inline double errorIfFinite(double value, double error) {
    return std::bit_cast<double>(std::bit_cast<std::uint64_t>(error) &
                                 mask((std::bit_cast<std::uint64_t>(value) & ~kSign) < kInfinity));
}

/// EmulatedArithmetic's finish(): the exact value approx + error (error's sign exact) rounded once to
/// the stage's format: round-to-odd (Rounder::roundExact's toOdd) then nearest-even.
inline double finish(double approx, double error, const Stage& s) {
    const std::uint64_t x = std::bit_cast<std::uint64_t>(approx), e = std::bit_cast<std::uint64_t>(error);
    const std::uint64_t magnitude = x & ~kSign, errorMagnitude = e & ~kSign;
    // As the reference: no adjustment when the error is zero or either part is not finite.
    const std::uint64_t adjust = mask(s.odd) & mask(errorMagnitude != 0) & mask(magnitude < kInfinity) &
                                 mask(errorMagnitude < kInfinity);
    const std::uint64_t isZero = mask(magnitude == 0);
    const std::uint64_t towardZero = (x ^ e) >> 63;  // the exact value is smaller in magnitude
    const std::uint64_t odd = ((magnitude - towardZero) | 1) | (x & kSign);
    const std::uint64_t fromZero = 1 | (e & kSign);  // zero: the smallest subnormal with the error's sign
    const std::uint64_t adjusted = (fromZero & isZero) | (odd & ~isZero);
    return roundNearestEven(std::bit_cast<double>((adjusted & adjust) | (x & ~adjust)), s.rne);
}

/// exactMul of arithmetic.hpp, then finish.
inline double roundedProduct(double a, double b, const Stage& s) {
    const double p = a * b;
    const double error = std::fma(a, b, -p);
    return finish(p, errorIfFinite(p, error), s);
}

/// exactAdd (Knuth's TwoSum), then finish.
inline double roundedSum(double a, double b, const Stage& s) {
    const double sum = a + b;
    const double bv = sum - a;
    const double error = (a - (sum - bv)) + (b - bv);
    return finish(sum, errorIfFinite(sum, error), s);
}

/// exactFma (Boldo & Muller), then finish.
inline double roundedFma(double a, double b, double c, const Stage& s) {
    const double r1 = std::fma(a, b, c);
    const double u1 = a * b;
    const double u2 = std::fma(a, b, -u1);
    const double alphaSum = c + u2;
    const double alphaV = alphaSum - c;
    const double alphaError = (c - (alphaSum - alphaV)) + (u2 - alphaV);
    const double betaSum = u1 + alphaSum;
    const double betaV = betaSum - u1;
    const double betaError = (u1 - (betaSum - betaV)) + (alphaSum - betaV);
    const double error = ((betaSum - r1) + errorIfFinite(betaSum, betaError)) + errorIfFinite(alphaSum, alphaError);
    return finish(r1, errorIfFinite(r1, error), s);
}

/// exactDiv, then finish: the remainder's sign is exact, its magnitude near enough.
inline double roundedQuotient(double a, double b, const Stage& s) {
    const double q = a / b;
    const double remainder = std::fma(-q, b, a) / b;
    const std::uint64_t keep = mask((std::bit_cast<std::uint64_t>(q) & ~kSign) < kInfinity) & mask(b != 0);
    return finish(q, std::bit_cast<double>(std::bit_cast<std::uint64_t>(remainder) & keep), s);
}

}  // namespace fast

/// EmulatedArithmetic's semantics for the specs fastArithmeticRefusal() accepts (std::invalid_argument
/// otherwise), without a random stream: const operations, copies interchangeable.
class FastEmulatedArithmetic {
public:
    using value_type = double;
    static constexpr bool emulated = true;

    explicit FastEmulatedArithmetic(const ComputeSpec& spec)
        : spec_(checked(spec)),
          storage_(fast::stageOf(spec.storage)),
          product_(fast::stageOf(spec.product)),
          accumulate_(fast::stageOf(spec.accumulate)) {}

    const ComputeSpec& spec() const { return spec_; }
    double store(double x) const { return roundNearestEven(x, storage_.rne); }
    double mul(double a, double b) const { return fast::roundedProduct(a, b, product_); }
    double add(double a, double b) const { return fast::roundedSum(a, b, accumulate_); }
    double sub(double a, double b) const { return fast::roundedSum(a, -b, accumulate_); }
    double fma(double a, double b, double c) const { return fast::roundedFma(a, b, c, accumulate_); }
    double div(double a, double b) const { return fast::roundedQuotient(a, b, accumulate_); }
    void at(std::uint32_t, std::uint64_t, std::uint32_t = 0) const {}

    const fast::Stage& productStage() const { return product_; }
    const fast::Stage& accumulateStage() const { return accumulate_; }
    const fast::Stage& storageStage() const { return storage_; }

private:
    static const ComputeSpec& checked(const ComputeSpec& spec) {
        if (auto reason = fastArithmeticRefusal(spec)) throw std::invalid_argument("fast emulation: " + *reason);
        return spec;
    }
    ComputeSpec spec_;
    fast::Stage storage_, product_, accumulate_;
};

static_assert(Arithmetic<FastEmulatedArithmetic>);
template <>
inline constexpr bool kThreadSplittable<FastEmulatedArithmetic> = true;

/// Runs kernel(arithmetic) with the fast engine's arithmetic when `reference` asks for the fast engine and
/// it covers the spec, with `reference` itself otherwise: one line in each emulated algorithm's entry.
template <class Kernel>
void withEmulation(EmulatedArithmetic& reference, Kernel&& kernel) {
    if (reference.engine() == EmulationEngine::Fast && !fastArithmeticRefusal(reference.spec())) {
        FastEmulatedArithmetic fastArithmetic(reference.spec());
        kernel(fastArithmetic);
    } else {
        kernel(reference);
    }
}

}  // namespace ks::numeric
