#pragma once
// Tensor-level entry points: conv2d over NCHW tensors (or the single-channel 2-D case) by algorithm
// name, in float32, double, or emulated at a compute specification.
#include <string_view>

#include "base/tensor.hpp"
#include "conv/conv_problem.hpp"
#include "numeric/arithmetic.hpp"
#include "numeric/compute_spec.hpp"

namespace ks::conv {

/// input N×C×H×W with weight K×C×R×S (bias K values or nullptr) → N×K×P×Q; or input H×W with
/// weight R×S (bias one value or nullptr) → P×Q. Throws std::invalid_argument on bad shapes, an
/// unknown algorithm or one that cannot compute the shape (naming the reason).
TensorF conv2d(const TensorF& input, const TensorF& weight, const TensorF* bias, std::string_view algorithm,
               std::int64_t stride = 1, std::int64_t padding = 0);
TensorD conv2d(const TensorD& input, const TensorD& weight, const TensorD* bias, std::string_view algorithm,
               std::int64_t stride = 1, std::int64_t padding = 0);
/// Every intermediate rounded as `spec` says (spec.native = the float32 fast path, widened to double),
/// on the fast emulation engine where it covers the spec unless `engine` asks for the reference (the same bits).
TensorD conv2d(const TensorD& input, const TensorD& weight, const TensorD* bias, std::string_view algorithm,
               const numeric::ComputeSpec& spec, std::int64_t stride = 1, std::int64_t padding = 0,
               numeric::EmulationEngine engine = numeric::EmulationEngine::Fast);

/// The assignment's call: one H×W image, one R×S kernel, a scalar bias, valid cross-correlation
/// (PyTorch's F.conv2d, no kernel flip) → (H−R+1)×(W−S+1).
TensorF conv2dSingle(const TensorF& image, const TensorF& kernel, float bias, std::string_view algorithm = "direct");

}  // namespace ks::conv
