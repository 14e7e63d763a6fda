#pragma once
// One interface for every convolution algorithm. An algorithm has three entry points:
//   plan(problem, weight) -> ConvPlan   float32 on the hardware, the fast path (sgemm, FFTW,
//                                      threads); the weight-side work (Winograd's filter transform,
//                                      the filters' spectra) is done once here, as inference would.
//   run(problem, ..., double)          double precision, the same algorithm in NativeArithmetic<double>.
//   run(problem, ..., EmulatedArithmetic&)  every intermediate (stored operands, transformed tiles,
//                                      products, partial sums, butterflies) rounded as the compute
//                                      specification says: the algorithm as a kernel in that format.
// The public functions check the problem (valid, supported) and throw std::invalid_argument with
// the reason; implementations override the protected do*() functions.
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/algorithm.hpp"
#include "conv/conv_problem.hpp"
#include "numeric/arithmetic.hpp"

namespace ks::conv {

/// A float32 convolution with its weights prepared; execute() may be called many times, from
/// one thread at a time (it owns its workspace).
class ConvPlan {
public:
    virtual ~ConvPlan() = default;
    /// x: N·C·H·W, bias: K values or nullptr, y: N·K·P·Q (overwritten).
    virtual void execute(const float* input, const float* bias, float* output) = 0;
};

/// A scaled storage format's blocks in a convolution lie along the input channels C, the axis every algorithm
/// reduces over (and the one NHWC hardware blocks: implicit GEMM's K runs (r, s, c), so with C a multiple of the
/// block size every block lies within one tap): the input as lines {N, C, H·W}, the weights as {K, C, R·S}. A layer
/// with fewer channels than the block size has one shorter block per pixel and tap. The bias is not quantised
/// (hardware adds it in float32 after the product). Quantises copies into `input`/`weight` buffers.
void quantizeConvOperands(const ConvProblem& problem, const numeric::ComputeSpec& spec, std::vector<double>& input,
                          std::vector<double>& weight);

/// name(), aliases(), description(), shownByDefault(): see base/algorithm.hpp.
class ConvAlgorithm : public Algorithm {
public:
    /// Empty when the algorithm can compute `problem`; otherwise the reason it cannot.
    /// (Call validate() on the problem first: supports() assumes a well-formed problem.)
    virtual std::optional<std::string> supports(const ConvProblem& problem) const = 0;
    /// True when its emulated run computes a compute spec's accumulator model (numeric/accumulator_model.hpp): its
    /// sums are dot products of stored operands (direct, im2col). The others refuse a non-plain model.
    virtual bool modelsAccumulation() const { return false; }
    /// Why it cannot emulate `spec` (an accumulator model it does not compute, or one that cannot be), or nothing.
    std::optional<std::string> emulationRefusal(const numeric::ComputeSpec& spec) const;
    /// True when the algorithm multiplies transforms of its operands (Winograd's tiles, the FFT's spectra), where a
    /// scaled storage format's blocks can lie instead (ScalePlacement::TransformedTiles).
    virtual bool transformsOperands() const { return false; }
    /// Scratch memory of the float32 path: patch matrices, transformed tiles, spectra (including
    /// the prepared weights when they differ from the given ones).
    virtual std::size_t workspaceBytes(const ConvProblem& problem) const = 0;
    /// The direct-definition FLOP count every algorithm is rated against.
    double flops(const ConvProblem& problem) const { return problem.flops(); }

    /// The float32 fast path with the weights prepared once.
    std::unique_ptr<ConvPlan> plan(const ConvProblem& problem, const float* weight) const;
    /// plan() + execute() in one call.
    void run(const ConvProblem& problem, const float* input, const float* weight, const float* bias,
             float* output) const;
    /// Double precision, the same algorithm (reference quality for tests).
    void run(const ConvProblem& problem, const double* input, const double* weight, const double* bias,
             double* output) const;
    /// Faithful emulation: every intermediate rounded through `arithmetic`. Single-threaded.
    void run(const ConvProblem& problem, const double* input, const double* weight, const double* bias,
             double* output, numeric::EmulatedArithmetic& arithmetic) const;

    /// Faithful emulation of `spec`: run() with EmulatedArithmetic(spec.elementwise(), engine), after a scaled
    /// storage format (spec.scaledStorage) has quantised the input and the weights along the reduction axis C
    /// (quantizeConvOperands). With ScalePlacement::TransformedTiles an algorithm that transformsOperands() computes
    /// its transforms in the elementwise spec and quantises the transformed operands of its batched products along
    /// C instead; the others quantise their operands (for them the placements are one).
    /// `tensorBase` numbers stochastic rounding's tensors (a network's layer).
    void runEmulated(const ConvProblem& problem, const double* input, const double* weight, const double* bias,
                     double* output, const numeric::ComputeSpec& spec,
                     numeric::EmulationEngine engine = numeric::EmulationEngine::Fast, std::uint32_t tensorBase = 0) const;
    /// What the fast emulation engine computes `spec` on in this algorithm: "float32 <isa>" (float32
    /// lanes in the instruction set chosen), "double" (double lanes with exact error terms) or
    /// "reference: <why>" (the reference engine, the same bits).
    virtual std::string fastEmulationPath(const numeric::ComputeSpec& spec) const;
    /// fastEmulationPath given why the algorithm's float32 lanes refuse `spec` (or nothing: they run it):
    /// double lanes where they apply, otherwise the reference, with the lanes' reason when the double
    /// lanes' own is only that they round to nearest.
    static std::string fastEmulationPath(const numeric::ComputeSpec& spec, const std::optional<std::string>& laneRefusal);
    /// The same for an algorithm that computes accumulator models (direct, im2col): "modelled, …" for a model it runs.
    static std::string fastEmulationPath(const numeric::ComputeSpec& spec, const std::optional<std::string>& laneRefusal,
                                         bool modelsAccumulation);
    /// Throws std::invalid_argument if the problem is malformed or not supported.
    void check(const ConvProblem& problem) const;

protected:
    virtual std::unique_ptr<ConvPlan> doPlan(const ConvProblem& problem, const float* weight) const = 0;
    virtual void doRun(const ConvProblem& problem, const double* input, const double* weight,
                       const double* bias, double* output) const = 0;
    virtual void doRun(const ConvProblem& problem, const double* input, const double* weight,
                       const double* bias, double* output, numeric::EmulatedArithmetic& arithmetic) const = 0;
    /// The emulated run with `tiles` quantising the transformed operands along C (only if transformsOperands()).
    virtual void doRunScaledTiles(const ConvProblem& problem, const double* input, const double* weight, const double* bias,
                                  double* output, numeric::EmulatedArithmetic& arithmetic,
                                  const numeric::ScaledFormat& tiles) const;
};

}  // namespace ks::conv
