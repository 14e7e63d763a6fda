#pragma once
// The float32 fast path of `direct` (the reference loops stay in conv_direct.cpp): register tiles
// of output rows × 24 columns vectorised over the columns (single-channel images and few output
// channels), or 16 output channels × 6 pixels vectorised over the channels (layers), each output
// summed over (c, r, s) in the reference's order. Internal to core/conv.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "conv/conv_algorithm.hpp"

namespace ks::conv::detail {

/// Why the vectorised kernels cannot run `problem` (a column stride with few output channels), empty
/// when they can.
std::optional<std::string> directFloatUnsupported(const ConvProblem& problem);

/// A plan running the vectorised kernel: the weights copied, a zero-bordered input buffer when
/// the problem is padded (borders written once, interiors per call), threads over tile rows.
/// Requires !directFloatUnsupported(problem).
std::unique_ptr<ConvPlan> makeDirectFloatPlan(const ConvProblem& problem, const float* weight);

}  // namespace ks::conv::detail
