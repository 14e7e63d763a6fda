#pragma once
// One interface for every way of multiplying two matrices, in the shape of base/algorithm.hpp; the
// descriptor is MatmulProblem.
// Operands and result are float32, row-major; the arithmetic inside is chosen by MatmulOptions.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "base/algorithm.hpp"
#include "matmul/matmul_problem.hpp"
#include "numeric/arithmetic.hpp"
#include "numeric/compute_spec.hpp"
#include "numeric/format.hpp"

namespace ks::matmul {

enum class GaussianLogPolicy : std::uint8_t {
    Exact,     ///< sb/db in double, the result rounded to the format
    Table,     ///< a table indexed by the difference rounded to `tableIndexBits` fraction bits
    Mitchell,  ///< log2(1 + x) ≈ x and 2^x ≈ 1 + x on each octave
};

enum class ConvertBack : std::uint8_t {
    None,      ///< report the linear sum Σ_r PS_r · c_r
    Nearest,   ///< leading one gives q; r by comparing with midpoints of neighbouring table values
    Truncate,  ///< leading one gives q; r is the largest with c_r ≤ normalised mantissa
};

struct LnsSequentialOptions {
    GaussianLogPolicy policy = GaussianLogPolicy::Exact;
    /// Table policy: the difference d is rounded to this many fraction bits before the lookup;
    /// negative means the format's own fraction bits (then the table equals the exact policy).
    int tableIndexBits = -1;
};

struct LnsBinnedOptions {
    int accumulatorLsb = -32;   ///< log2 of the value of an accumulator's least significant bit
    int accumulatorBits = 62;   ///< accumulator width (≤ 62); sums above it saturate (counted)
    int constantBits = 0;       ///< fraction bits of the table constants 2^(r/n); 0 = exact (double)
    int binBits = -1;           ///< hybrid: remainder bits that choose the accumulator; −1 = all
    ConvertBack convertBack = ConvertBack::None;
};

enum class SvdAlgorithm : std::uint8_t { Exact, Randomized };

struct SvdOptions {
    SvdAlgorithm algorithm = SvdAlgorithm::Exact;
    int oversampling = 10;
    int powerIterations = 2;
    std::uint64_t seed = 1;
};

/// Which engine emulates a non-native compute spec (numeric::EmulationEngine): Fast runs
/// matmul/emulated_gemm where it covers the spec (else the reference, said in the report's note).
using Emulation = numeric::EmulationEngine;

struct MatmulOptions {
    /// Native: float32 hardware arithmetic. Otherwise the emulated formats of each stage.
    numeric::ComputeSpec compute = numeric::ComputeSpec::nativeFloat32();
    Emulation emulation = Emulation::Fast;
    /// The log-domain methods: the LNS format the operands are quantised to (kind Log).
    /// `log` without it keeps unquantised float logs; the lns-* methods require it.
    std::optional<numeric::Format> logFormat;
    LnsSequentialOptions sequential;
    LnsBinnedOptions binned;
    SvdOptions svd;
};

/// What happened during a run that the numbers alone do not show.
struct MatmulReport {
    std::int64_t inputOverflows = 0;         ///< operands saturated when quantised
    std::int64_t inputUnderflows = 0;        ///< operands flushed to zero when quantised
    std::int64_t accumulatorOverflows = 0;   ///< products or sums above the accumulator's top bit
    std::int64_t accumulatorUnderflows = 0;  ///< products (or their low bits) below its LSB
    std::int64_t outputOverflows = 0;        ///< convert-back results saturated
    std::int64_t outputUnderflows = 0;       ///< convert-back results flushed to zero
    std::string note;                        ///< e.g. the ranks actually used
    std::string engine;                      ///< an emulated run's engine: "reference", "float32 avx512", "double"
};

/// A float32 product with its right operand B prepared once (svd: B factored at the problem's rankB),
/// as a layer's weights are: execute() may be called many times, from one thread at a time.
class MatmulPlan {
public:
    virtual ~MatmulPlan() = default;
    /// C = A·B with the B given to plan(): A is M×K, C is M×N (overwritten).
    virtual MatmulReport execute(const float* a, float* c) = 0;
    /// What the preparation did that the numbers do not show ("B at rank 32 (SVD)"), or empty.
    virtual std::string note() const { return {}; }
    /// Memory the plan holds or an execute() uses beyond A, the given B and C (svd: the factors).
    virtual std::size_t workspaceBytes() const = 0;
};

/// name(), aliases(), description(), shownByDefault(): see base/algorithm.hpp. The public functions
/// check the problem (sizes, supports()) and throw std::invalid_argument with the reason;
/// implementations override the protected do*() functions.
class MatmulAlgorithm : public Algorithm {
public:
    /// Empty if the algorithm can run this problem with these options, otherwise the reason it cannot.
    virtual std::optional<std::string> supports(const MatmulProblem& problem, const MatmulOptions& options) const = 0;
    /// Temporary memory beyond the operands and result.
    virtual std::size_t workspaceBytes(const MatmulProblem& problem, const MatmulOptions& options) const = 0;
    /// Arithmetic operations of the product (a factorisation done beforehand is not counted).
    virtual double flops(const MatmulProblem& problem) const { return problem.denseFlops(); }
    /// True when it computes one multiply-add at a time (tens of ns each, even in float32): studies
    /// skip such an algorithm on large shapes, saying so, rather than keep the user waiting.
    virtual bool elementwise() const { return false; }
    /// True when it cannot run without MatmulOptions::logFormat (the LNS methods).
    virtual bool needsLogFormat() const { return false; }
    /// True when it replaces operands by low-rank approximations at the problem's rankA / rankB (svd);
    /// the others compute with the operands exactly and refuse a problem with ranks.
    virtual bool lowRank() const { return false; }

    /// C = A·B. A is M×K, B is K×N, C is M×N, all row-major.
    MatmulReport run(const MatmulProblem& problem, std::span<const float> a, std::span<const float> b,
                     std::span<float> c, const MatmulOptions& options) const;
    /// B (K×N, row-major) prepared for repeated products; B must outlive the plan.
    std::unique_ptr<MatmulPlan> plan(const MatmulProblem& problem, std::span<const float> b,
                                     const MatmulOptions& options) const;

    /// Throws std::invalid_argument if the problem is malformed or not supported with these options.
    void check(const MatmulProblem& problem, const MatmulOptions& options) const;

protected:
    virtual MatmulReport doRun(const MatmulProblem& problem, std::span<const float> a, std::span<const float> b,
                               std::span<float> c, const MatmulOptions& options) const = 0;
    /// Default: keeps B and calls doRun() per execute().
    virtual std::unique_ptr<MatmulPlan> doPlan(const MatmulProblem& problem, std::span<const float> b,
                                               const MatmulOptions& options) const;
};

}  // namespace ks::matmul
