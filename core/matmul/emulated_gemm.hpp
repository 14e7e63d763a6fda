#pragma once
// The fast emulation engine for matrix products: the same roundings as EmulatedArithmetic (the
// reference, numeric/arithmetic.hpp), bit for bit, but vectorised across the columns of C and spread
// over the threads. It repeats the reference's algorithm on whole rows of doubles: the double result
// and its exact error term (TwoSum; TwoProd with an FMA; Boldo & Muller's ErrFma), round-to-odd, then
// the branch-free nearest-even bit kernel of numeric/round_nearest_even.hpp to each stage's format.
// Each C(i, j) still sums its terms one at a time in the order k = 0, 1, …, K−1, so lanes and threads
// change nothing but the speed.
//
// Two widths of lanes. Where every stage's format has at most 11 bits of precision inside float32's
// range (fp16, bf16, fp8, eXmY with m ≤ 10), each operation is done in float32 and rounded again, in
// vectors of each instruction set's width, compiled per set (lane_kernels.inc): innocuous double rounding
// (Figueroa) or round-to-odd makes that the reference's bits, numeric/lane_rounding.hpp says when.
// Otherwise the double lanes below. Covered today: binary float formats of up to 11 exponent and 52 mantissa bits (every eXmY, fp16,
// bf16, tf32, fp32, fp64, with or without subnormals, saturating or finite-only) in every stage,
// nearest-even rounding. Everything else (directed and stochastic rounding, fixed point, scaled
// integers, LNS) is refused with the reason, and the callers run the reference instead and say so.
#include <cstdint>
#include <optional>
#include <string>

#include <span>

#include "base/isa.hpp"
#include "matmul/matmul_algorithm.hpp"
#include "numeric/lane_rounding.hpp"
#include "numeric/compute_spec.hpp"
#include "numeric/random_bits.hpp"

namespace ks::matmul {

using numeric::EmulatedOrder;

/// Which lanes the fast engine computes in. Both give the reference's bits; float32 lanes are two to
/// three times as wide and need far fewer operations, where numeric::laneRefusal() allows them.
enum class EmulationLanes {
    Auto,     ///< float32 lanes where they apply, double lanes otherwise
    Float32,  ///< float32 lanes only (std::invalid_argument with laneRefusal's reason otherwise)
    Float64,  ///< double lanes with exact error terms (fast_arithmetic.hpp)
};

/// Why the fast engine cannot run `spec` in `order` on either lanes (float32: numeric::laneRefusal;
/// double: numeric::fastArithmeticRefusal) whatever the operands, or nothing when it can run some.
std::optional<std::string> fastEngineRefusal(const numeric::ComputeSpec& spec, EmulatedOrder order);

/// C = A·B (row-major float32, A m×k, B k×n) with every operation rounded as `spec` says, operands
/// rounded to the storage format first. Bit-identical to naiveMatmul / fmaMatmul over
/// EmulatedArithmetic(spec). Float32 lanes where the spec allows them, or where it allows them for these
/// operands (numeric::laneRefusalDependsOnData: the stored operands' range is looked at), double lanes
/// otherwise. std::invalid_argument when the lanes asked for cannot run these operands.
void fastEmulatedGemm(EmulatedOrder order, const numeric::ComputeSpec& spec, std::int64_t m, std::int64_t k,
                      std::int64_t n, const float* a, const float* b, float* c,
                      EmulationLanes lanes = EmulationLanes::Auto);
/// The same on whichever lanes run these operands, or why none can (nothing written then); `engine` gets
/// what it ran on ("float32 avx512", "double").
std::optional<std::string> tryFastEmulatedGemm(EmulatedOrder order, const numeric::ComputeSpec& spec, std::int64_t m,
                                               std::int64_t k, std::int64_t n, const float* a, const float* b, float* c,
                                               std::string* engine = nullptr);

/// fastEmulatedAffine on float32 lanes: the same sums (numeric::laneRefusal(spec, RoundedProducts) must
/// be empty), operands already stored, in float32 (every value of a lane format is one).
/// Stochastic rounding draws C(i, j)'s operations at element i·n + j of tensor `outputTensor` (seeded by spec.seed).
void laneEmulatedAffine(const numeric::ComputeSpec& spec, std::int64_t m, std::int64_t k, std::int64_t n,
                        const float* a, const float* b, const float* initial, float* c,
                        std::uint32_t outputTensor = numeric::randomTensor(numeric::RandomTensor::Output));
/// The same for a spec whose lanes depend on the operands (numeric::laneRefusalDependsOnData), A's stored values
/// bounded by `aBounds` and B's by `bBounds` (numeric::laneRefusal(spec, RoundedProducts, aBounds, bBounds) must be
/// empty; the initial values are sums, not products, and need no bound).
void laneEmulatedAffine(const numeric::ComputeSpec& spec, numeric::StoredExponents aBounds, numeric::StoredExponents bBounds,
                        std::int64_t m, std::int64_t k, std::int64_t n, const float* a, const float* b, const float* initial,
                        float* c, std::uint32_t outputTensor);

/// Rounds `count` floats to `format` on float32 lanes, nearest-even (numeric::laneFormatRefusal(format)
/// must be empty); in == out allowed.
void laneRound(const numeric::Format& format, const float* in, float* out, std::int64_t count);
/// The same in a rounding mode (not stochastic: std::invalid_argument), on the active instruction set.
void laneRound(const numeric::Format& format, numeric::Rounding rounding, const float* in, float* out, std::int64_t count);
/// Stochastic rounding: element i at random site (key, elementBase + i, step 0), on `isa`.
void laneRoundStochastic(const numeric::Format& format, numeric::RandomKey key, std::uint32_t elementBase, const float* in,
                         float* out, std::int64_t count, Isa isa);
/// An operand stored as EmulatedArithmetic::storeTensor(values, tensor) stores it: the spec's storage format
/// and rounding (stochastic: element i at site (randomKey(spec.seed, tensor), i, 0)), on the active set.
void laneStore(const numeric::ComputeSpec& spec, std::uint32_t tensor, const float* in, float* out, std::int64_t count);
/// The same in a given instruction set (std::invalid_argument when the CPU lacks it).
void laneRound(const numeric::Format& format, const float* in, float* out, std::int64_t count, Isa isa);
float laneRound(const numeric::Format& format, float x);

/// A layer's product in the rounded-products order on operands already rounded to the storage format:
/// C(i, j) = initial[j] + Σ_p A(i, p)·B(p, j), starting from initial[j] and adding each rounded product
/// in turn (the network's emulated Linear layers: initial is the stored bias, or zeros). A is m×k, B k×n,
/// C m×n, row-major doubles. Bit-identical to the same loop over EmulatedArithmetic; std::invalid_argument
/// when numeric::fastArithmeticRefusal(spec) has a reason.
void fastEmulatedAffine(const numeric::ComputeSpec& spec, std::int64_t m, std::int64_t k, std::int64_t n,
                        const double* a, const double* b, const double* initial, double* c);

/// naive's and dense's emulated run under a non-plain accumulator model (spec.accumulation): operands stored, each
/// C(i, j) numeric::ModelledDot over k (modelled_gemm.cpp); the same bits for both orders. The note names the model.
/// `fast`: eight columns side by side (numeric::ModelledDot::lanes); otherwise one dot product at a time.
MatmulReport modelledProduct(const MatmulProblem& problem, std::span<const float> a, std::span<const float> b,
                             std::span<float> c, const numeric::ComputeSpec& spec, bool fast = true);

/// naive's and dense's emulated run: the fast engine when options.emulation asks for it and it covers
/// options.compute, the reference loops otherwise; the report's note says when the fast engine was
/// asked for and could not run, and why.
MatmulReport emulatedProduct(EmulatedOrder order, const MatmulProblem& problem, std::span<const float> a,
                             std::span<const float> b, std::span<float> c, const MatmulOptions& options);

}  // namespace ks::matmul
