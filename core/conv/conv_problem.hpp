#pragma once
// The description of one 2-D convolution, apart from any algorithm that computes it.
// Semantics are PyTorch's F.conv2d: NCHW input, KCRS weights, optional bias of K, cross-correlation
// (the kernel is not flipped), zero padding, stride:
//   y[n][k][p][q] = bias[k] + sum_{c,r,s} x[n][c][p*strideH + r - padH][q*strideW + s - padW] * w[k][c][r][s]
#include <cstdint>
#include <optional>
#include <string>

#include "base/tensor.hpp"

namespace ks::conv {

struct ConvProblem {
    std::int64_t N = 1;  ///< batch
    std::int64_t C = 1;  ///< input channels
    std::int64_t H = 1;  ///< input height
    std::int64_t W = 1;  ///< input width
    std::int64_t K = 1;  ///< output channels
    std::int64_t R = 1;  ///< kernel height
    std::int64_t S = 1;  ///< kernel width
    std::int64_t strideH = 1;
    std::int64_t strideW = 1;
    std::int64_t padH = 0;
    std::int64_t padW = 0;

    /// The assignment's case: one image, one channel in and out, valid (unpadded) output.
    static ConvProblem single(std::int64_t height, std::int64_t width, std::int64_t kernelHeight,
                              std::int64_t kernelWidth);
    /// A square-kernel layer with equal stride and padding in both directions.
    static ConvProblem layer(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w, std::int64_t k,
                             std::int64_t kernel, std::int64_t stride = 1, std::int64_t pad = 0);

    std::int64_t P() const { return (H + 2 * padH - R) / strideH + 1; }  ///< output height
    std::int64_t Q() const { return (W + 2 * padW - S) / strideW + 1; }  ///< output width

    Shape inputShape() const { return {N, C, H, W}; }
    Shape weightShape() const { return {K, C, R, S}; }
    Shape biasShape() const { return {K}; }
    Shape outputShape() const { return {N, K, P(), Q()}; }
    std::int64_t inputCount() const { return N * C * H * W; }
    std::int64_t weightCount() const { return K * C * R * S; }
    std::int64_t outputCount() const { return N * K * P() * Q(); }

    /// Multiply-adds of the direct definition, counted as two FLOPs: 2·N·K·C·P·Q·R·S. Every
    /// algorithm is rated against this count ("effective" GFLOP/s), as cuDNN and oneDNN do.
    double flops() const;

    /// Empty if the problem is well formed and fits in memory, otherwise what is wrong with it. "Fits" means that
    /// input, weights, output and a padded copy of the input (what the algorithms keep at the least), at 4 bytes
    /// each (float32, the smallest the library computes in), are within memoryLimit(): a problem that cannot fit
    /// is refused with its sizes named before anything is allocated.
    std::optional<std::string> validationError() const;
    /// Bytes of float32 that input, weights, output and (when padded) the padded input take together.
    double minimumBytes() const;
    /// Throws std::invalid_argument with validationError().
    void validate() const;

    /// "N=1 C=64 H=56 W=56 K=64 R=3 S=3 stride=1 pad=1"
    std::string toString() const;

    bool operator==(const ConvProblem&) const = default;
};

/// The memory a process may use at most, and what sets it: the machine's physical memory, lowered by the
/// address-space and data-segment limits (ulimit -v, ulimit -d) and the cgroup's memory.max where set. Read once.
struct MemoryLimit {
    std::uint64_t bytes = 0;
    std::string source;  ///< "physical memory", "the address-space limit (ulimit -v)", ...
};
const MemoryLimit& memoryLimit();

/// The problem implied by tensors: NCHW input with KCRS weights, or the single-channel case when
/// both are 2-D (H×W input, R×S kernel). Throws std::invalid_argument naming the mismatch.
ConvProblem problemFromShapes(const Shape& input, const Shape& weight, std::int64_t stride = 1,
                              std::int64_t pad = 0);

}  // namespace ks::conv
