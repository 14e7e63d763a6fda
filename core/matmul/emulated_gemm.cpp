// Compiled with -ffp-contract=off (core/matmul/CMakeLists.txt): the error-free transformations
// below need every product and sum rounded on its own, exactly as written, as in the reference.
#include "matmul/emulated_gemm.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>

#include "base/aligned_vector.hpp"
#include "base/parallel.hpp"
#include "matmul/naive_matmul.hpp"
#include "numeric/arithmetic.hpp"
#include "numeric/round_nearest_even.hpp"
#include "numeric/rounding_mode.hpp"

namespace ks::matmul {

using numeric::Format;
using numeric::FormatKind;

namespace {

constexpr std::uint64_t kSign = std::uint64_t{1} << 63;
constexpr std::uint64_t kInfinity = 0x7ff0000000000000ull;

/// One stage's rounding: the nearest-even kernel's constants, and whether the stage's error terms go
/// through round-to-odd first (every format narrower than a double; a 53-bit one rounds the double).
struct Stage {
    numeric::RneParams<double> rne;
    bool odd = true;
};

Stage stageOf(const Format& f) { return {numeric::rneParams<double>(f), f.mantissaBits < 52}; }

/// All ones when the condition holds, zero otherwise: selects written as masks keep the loops free of
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
    return numeric::roundNearestEven(std::bit_cast<double>((adjusted & adjust) | (x & ~adjust)), s.rne);
}

/// exactMul of arithmetic.hpp, then finish.
inline double roundedProduct(double a, double b, const Stage& s) {
    const double p = a * b;
    const double error = std::fma(a, b, -p);
    return finish(p, errorIfFinite(p, error), s);
}

/// exactAdd (Knuth's TwoSum) of arithmetic.hpp, then finish.
inline double roundedSum(double a, double b, const Stage& s) {
    const double sum = a + b;
    const double bv = sum - a;
    const double error = (a - (sum - bv)) + (b - bv);
    return finish(sum, errorIfFinite(sum, error), s);
}

/// exactFma (Boldo & Muller) of arithmetic.hpp, then finish.
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
    // exactAdd zeroes an error whose sum overflowed; exactFma's result is r1 with no error then.
    const double error = ((betaSum - r1) + errorIfFinite(betaSum, betaError)) + errorIfFinite(alphaSum, alphaError);
    return finish(r1, errorIfFinite(r1, error), s);
}

/// Columns per block: the accumulators of one row block stay in L1 (2 KiB of doubles).
constexpr std::int64_t kColumns = 256;

struct Stages {
    Stage product, accumulate;
};

/// Rows [rowBegin, rowEnd) of C. Without `initial`, each sum starts with its first product (naive);
/// with it, from initial[j] (a layer's bias, or zeros), every product then added.
template <class Out>
void rowsRoundedProducts(const Stages& st, std::int64_t rowBegin, std::int64_t rowEnd, std::int64_t k, std::int64_t n,
                         const double* a, const double* b, const double* initial, Out* c) {
    alignas(64) double acc[kColumns];
    const Stage product = st.product, accumulate = st.accumulate;  // locals: loop invariants to the vectoriser
    for (std::int64_t i = rowBegin; i < rowEnd; ++i)
        for (std::int64_t j0 = 0; j0 < n; j0 += kColumns) {
            const std::int64_t w = std::min(kColumns, n - j0);
            std::int64_t first = 0;
            if (initial) {
                std::copy(initial + j0, initial + j0 + w, acc);
            } else {
                const double a0 = a[i * k];
                const double* b0 = b + j0;
                for (std::int64_t j = 0; j < w; ++j) acc[j] = roundedProduct(a0, b0[j], product);
                first = 1;
            }
            for (std::int64_t p = first; p < k; ++p) {
                const double ap = a[i * k + p];
                const double* bp = b + p * n + j0;
                for (std::int64_t j = 0; j < w; ++j)
                    acc[j] = roundedSum(acc[j], roundedProduct(ap, bp[j], product), accumulate);
            }
            for (std::int64_t j = 0; j < w; ++j) c[i * n + j0 + j] = static_cast<Out>(acc[j]);
        }
}

void rowsFusedMultiplyAdd(const Stages& st, std::int64_t rowBegin, std::int64_t rowEnd, std::int64_t k, std::int64_t n,
                          const double* a, const double* b, float* c) {
    alignas(64) double acc[kColumns];
    const Stage accumulate = st.accumulate;
    for (std::int64_t i = rowBegin; i < rowEnd; ++i)
        for (std::int64_t j0 = 0; j0 < n; j0 += kColumns) {
            const std::int64_t w = std::min(kColumns, n - j0);
            std::fill(acc, acc + w, 0.0);
            for (std::int64_t p = 0; p < k; ++p) {
                const double ap = a[i * k + p];
                const double* bp = b + p * n + j0;
                for (std::int64_t j = 0; j < w; ++j) acc[j] = roundedFma(ap, bp[j], acc[j], accumulate);
            }
            for (std::int64_t j = 0; j < w; ++j) c[i * n + j0 + j] = static_cast<float>(acc[j]);
        }
}

/// The operand rounded to the storage format once (EmulatedArithmetic::store rounds the same value the
/// same way at every use; nearest-even draws nothing).
AlignedVector<double> stored(const float* x, std::int64_t count, const Stage& storage) {
    AlignedVector<double> out(static_cast<std::size_t>(count));
    for (std::int64_t i = 0; i < count; ++i) out[std::size_t(i)] = numeric::roundNearestEven(double(x[i]), storage.rne);
    return out;
}

}  // namespace

std::optional<std::string> fastEmulationRefusal(const numeric::ComputeSpec& spec) {
    if (spec.native) return "the native float32 specification is not emulated";
    if (spec.rounding != numeric::Rounding::NearestEven)
        return "the fast engine rounds to nearest-even only so far (" + numeric::roundingName(spec.rounding) +
               " runs on the reference)";
    for (const Format* f : {&spec.storage, &spec.product, &spec.accumulate})
        if (!numeric::rneKernelApplies<double>(*f))
            return "the fast engine covers binary float formats only so far (" + numeric::formatName(*f) +
                   " runs on the reference)";
    return std::nullopt;
}

void fastEmulatedGemm(EmulatedOrder order, const numeric::ComputeSpec& spec, std::int64_t m, std::int64_t k,
                      std::int64_t n, const float* a, const float* b, float* c) {
    if (auto reason = fastEmulationRefusal(spec)) throw std::invalid_argument("fast emulated GEMM: " + *reason);
    if (m <= 0 || n <= 0) return;
    const Stage storage = stageOf(spec.storage);
    const Stages stages{stageOf(spec.product), stageOf(spec.accumulate)};
    if (k <= 0) {  // as the reference: no term, and the fused order's zero; the other order has no empty sum
        if (order == EmulatedOrder::RoundedProducts)
            throw std::invalid_argument("fast emulated GEMM: the rounded-products order needs k ≥ 1");
        std::fill(c, c + m * n, 0.0f);
        return;
    }
    const AlignedVector<double> as = stored(a, m * k, storage), bs = stored(b, k * n, storage);
    // ~40 double operations a term: worth threads from a few thousand terms.
    const double work = 40.0 * double(m) * double(k) * double(n);
    parallelFor(m, work, [&](std::int64_t begin, std::int64_t end) {
        if (order == EmulatedOrder::RoundedProducts)
            rowsRoundedProducts(stages, begin, end, k, n, as.data(), bs.data(), static_cast<const double*>(nullptr), c);
        else rowsFusedMultiplyAdd(stages, begin, end, k, n, as.data(), bs.data(), c);
    });
}

void fastEmulatedAffine(const numeric::ComputeSpec& spec, std::int64_t m, std::int64_t k, std::int64_t n,
                        const double* a, const double* b, const double* initial, double* c) {
    if (auto reason = fastEmulationRefusal(spec)) throw std::invalid_argument("fast emulated GEMM: " + *reason);
    const Stages stages{stageOf(spec.product), stageOf(spec.accumulate)};
    parallelFor(m, 40.0 * double(m) * double(k) * double(n), [&](std::int64_t begin, std::int64_t end) {
        rowsRoundedProducts(stages, begin, end, k, n, a, b, initial, c);
    });
}

MatmulReport emulatedProduct(EmulatedOrder order, const MatmulProblem& p, std::span<const float> a,
                             std::span<const float> b, std::span<float> c, const MatmulOptions& options) {
    MatmulReport report;
    if (options.emulation == Emulation::Fast) {
        const auto refusal = fastEmulationRefusal(options.compute);
        if (!refusal) {
            fastEmulatedGemm(order, options.compute, p.m, p.k, p.n, a.data(), b.data(), c.data());
            return report;
        }
        report.note = "reference emulation: " + *refusal;
    }
    numeric::EmulatedArithmetic arith(options.compute);
    if (order == EmulatedOrder::RoundedProducts) naiveMatmul(arith, p.m, p.k, p.n, a.data(), b.data(), c.data());
    else fmaMatmul(arith, p.m, p.k, p.n, a.data(), b.data(), c.data());
    return report;
}

}  // namespace ks::matmul
