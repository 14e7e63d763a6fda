#pragma once
// The conv algorithms' emulated runs on float32 lanes (matmul/lane_kernels.hpp): the same bits as
// their loops over EmulatedArithmetic, for the specs numeric::laneRefusal admits in the rounded-products
// order (each tap's product rounded, then added to a sum that starts from zero; the bias added last).
// im2col's and direct's sums are one lane product per block of output pixels: the K × C·R·S weights times
// the block's patch matrix, whose taps outside the image are zeros that im2col adds and direct skips
// (a mask: adding the zero product is not always a no-op, −0 + +0 is +0 and ∞·0 is NaN).
// Winograd's (winograd_lanes.cpp) runs its transforms kCombineLength tiles side by side and its products
// over channels as lane products; its transforms multiply sums too, which laneMixedProductRefusal admits.
// The FFT's (fft_lanes.cpp) transforms kCombineLength rows or columns side by side and sums its spectra's
// products bin by bin; fft_double_lanes.cpp does the same on double lanes for wider formats.
#include <optional>
#include <string>
#include <vector>

#include "conv/conv_problem.hpp"
#include "conv/winograd_transform.hpp"
#include "numeric/compute_spec.hpp"
#include "numeric/random_bits.hpp"

namespace ks::conv::lanes {

/// Why im2col's and direct's emulation of `spec` cannot run on float32 lanes whatever the operands, or nothing.
std::optional<std::string> patchRefusal(const numeric::ComputeSpec& spec);
/// Whether they may run on float32 lanes: always, or for operands of modest range (tf32: patchConv looks).
bool patchLanesMayRun(const numeric::ComputeSpec& spec);
/// fastEmulationPath's words for direct and im2col: "float32 avx512", "float32 avx512 where the operands allow,
/// else double", "double", "reference: why".
std::string patchEmulationPath(const numeric::ComputeSpec& spec);

/// How outside taps are summed: added as zeros (im2col) or skipped (direct).
enum class OutsideTaps { Added, Skipped };

/// The emulated convolution (operands rounded to the storage format here, from double) on float32
/// lanes, threaded over blocks of output pixels; or, for a spec whose lanes depend on the operands
/// (numeric::laneRefusalDependsOnData), why these stored operands' products reach beyond float32's precision
/// (nothing written then). std::invalid_argument when patchLanesMayRun(spec) is false.
/// Stochastic rounding draws at the sites direct's reference loops name, its tensors numbered from
/// `tensorBase` (EmulatedArithmetic::tensorBase()).
std::optional<std::string> patchConv(const ConvProblem& problem, const numeric::ComputeSpec& spec, OutsideTaps outside, const double* input,
               const double* weight, const double* bias, double* output, std::uint32_t tensorBase = 0);

/// Why Winograd's emulation of `spec` cannot run on float32 lanes, or nothing.
std::optional<std::string> winogradRefusal(const numeric::ComputeSpec& spec);

/// The emulated Winograd convolution with transforms `t` (3×3, stride 1), as conv_winograd.cpp's generic
/// definition computes it on EmulatedArithmetic. std::invalid_argument when winogradRefusal(spec) has a reason.
void winogradConv(const ConvProblem& problem, const numeric::ComputeSpec& spec, const WinogradTransforms& t,
                  const double* input, const double* weight, const double* bias, double* output, std::uint32_t tensorBase = 0);

/// Why the FFT convolution's emulation of `spec` cannot run on float32 lanes (its spectra are multiplied
/// together: laneAccumulatedProductRefusal), or nothing.
std::optional<std::string> fftRefusal(const numeric::ComputeSpec& spec);

/// The emulated FFT convolution, as conv_fft.cpp's generic definition computes it on EmulatedArithmetic.
/// std::invalid_argument when fftRefusal(spec) has a reason.
void fftConv(const ConvProblem& problem, const numeric::ComputeSpec& spec, const double* input, const double* weight,
             const double* bias, double* output);

/// The emulated FFT convolution on double lanes (numeric::FastEmulatedArithmetic), for the specs fftRefusal
/// refuses and numeric::fastArithmeticRefusal admits (fft_double_lanes.cpp); std::invalid_argument with the
/// latter's reason otherwise.
void fftConvDouble(const ConvProblem& problem, const numeric::ComputeSpec& spec, const double* input,
                   const double* weight, const double* bias, double* output);

/// `count` doubles rounded once to the spec's storage format in its rounding mode (EmulatedArithmetic::
/// store's bits; stochastic: element i at site (*key, i, 0), std::invalid_argument without a key), as
/// floats: every value of a lane format is a float, so that is exact.
std::vector<float> stored(const double* x, std::int64_t count, const numeric::ComputeSpec& spec,
                          const numeric::RandomKey* key = nullptr);
/// One value so (a transform's coefficient, a twiddle).
float stored(double x, const numeric::ComputeSpec& spec);

}  // namespace ks::conv::lanes
