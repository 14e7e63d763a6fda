#pragma once
// The float32 fast path of `direct` (the reference loops stay in conv_direct.cpp): register tiles
// of several output rows × 8·NV output columns, vectorised over the columns, accumulating over
// (channel, input row, kernel column) so that each loaded input vector feeds every output row of
// the tile it touches. Internal to core/conv.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "conv/conv_algorithm.hpp"

namespace ks::conv::detail {

/// Why the vectorised kernel cannot run `problem` (column stride ≠ 1), empty when it can.
std::optional<std::string> directFloatUnsupported(const ConvProblem& problem);

/// A plan running the vectorised kernel: the weights copied, a zero-bordered input buffer when
/// the problem is padded (borders written once, interiors per call), threads over tile rows.
/// Requires !directFloatUnsupported(problem).
std::unique_ptr<ConvPlan> makeDirectFloatPlan(const ConvProblem& problem, const float* weight);

}  // namespace ks::conv::detail
