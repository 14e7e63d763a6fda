#pragma once
// "Find", like cuDNN's cudnnFindConvolutionForwardAlgorithm: run every algorithm on a shape (random
// uniform[−1, 1] data), time its float32 fast path (ks::measure: warm-up, median of repeats), and
// measure its error against the double-precision direct reference. Plus a precision-aware choice:
// the fastest algorithm whose error at a compute specification stays within a tolerance.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/timing.hpp"
#include "conv/conv_problem.hpp"
#include "numeric/compute_spec.hpp"

namespace ks::conv {

struct ConvFindOptions {
    std::vector<std::string> algorithms;  ///< names or aliases; empty = every registered algorithm
    TimingOptions timing;
    std::uint64_t seed = 1;
    /// Time plan creation (filter transform, filter spectra, FFTW planning lookups) with every run;
    /// by default the weights are prepared once, as in inference, and only execute() is timed.
    bool includePlan = false;
};

struct ConvFindResult {
    std::string algorithm;
    std::optional<std::string> unsupported;  ///< the reason, when the algorithm cannot run the shape
    double medianSeconds = 0;
    double minSeconds = 0, maxSeconds = 0;  ///< the spread of the repeats
    /// Process CPU time per call (all threads, averaged over warm-up and repeats): on a shared,
    /// oversubscribed machine this shows the work when wall times are inflated by waiting for a core.
    double cpuSecondsPerCall = 0;
    double gflops = 0;  ///< direct-definition FLOPs / median time ("effective" for Winograd and FFT)
    std::size_t workspaceBytes = 0;
    double maxAbsError = 0;  ///< float32 result against double-precision direct
};

/// Supported algorithms sorted by median time, then the unsupported ones (in registry order).
std::vector<ConvFindResult> findConvAlgorithms(const ConvProblem& problem, const ConvFindOptions& options = {});

struct ConvChoice {
    std::string algorithm;
    double medianSeconds = 0;  ///< float32 fast path
    double maxAbsError = 0;    ///< at the compute specification
};

/// The fastest algorithm whose max abs error at `spec` (emulated unless spec.native) against the
/// double-precision direct reference is ≤ tolerance; nullopt if none is. `results`, if given, receives
/// the timings (as findConvAlgorithms) with maxAbsError replaced by the error at `spec`.
/// Emulation rounds every operation in software (tens of ns each): keep shapes modest.
std::optional<ConvChoice> chooseConvAlgorithm(const ConvProblem& problem, const numeric::ComputeSpec& spec,
                                              double tolerance, const ConvFindOptions& options = {},
                                              std::vector<ConvFindResult>* results = nullptr);

}  // namespace ks::conv
