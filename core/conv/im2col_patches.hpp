#pragma once
// The patch matrix of im2col and its adjoint: the convolution algorithm `im2col` multiplies the
// weights by it, and the network trainer's conv backward pass scatters gradients back through it.
#include <algorithm>
#include <cstdint>

#include "conv/conv_problem.hpp"

namespace ks::conv {

namespace detail {
/// The smallest integer u with u·step ≥ threshold (step > 0, threshold of either sign).
inline std::int64_t smallestMultipleReaching(std::int64_t threshold, std::int64_t step) {
    return threshold > 0 ? (threshold + step - 1) / step : -(-threshold / step);
}
}  // namespace detail

/// patch[(c·R + r)·S + s][j] = padded input under output pixel col0 + j of image n.
template <class V>
void unfoldPatches(const ConvProblem& pr, const V* x, std::int64_t n, std::int64_t col0, std::int64_t cols, V* patch) {
    const std::int64_t Q = pr.Q();
    for (std::int64_t c = 0; c < pr.C; ++c) {
        const V* plane = x + (n * pr.C + c) * pr.H * pr.W;
        for (std::int64_t r = 0; r < pr.R; ++r)
            for (std::int64_t s = 0; s < pr.S; ++s) {
                V* dst = patch + ((c * pr.R + r) * pr.S + s) * cols;
                // output columns u whose tap u·strideW + s − padW lies in [0, W): uFirstInside ≤ u < uEndInside
                const std::int64_t uFirstInside = detail::smallestMultipleReaching(pr.padW - s, pr.strideW);
                const std::int64_t uEndInside = detail::smallestMultipleReaching(pr.W + pr.padW - s, pr.strideW);
                // walk the block one output row segment at a time (no division per element)
                std::int64_t j = 0;
                while (j < cols) {
                    const std::int64_t oh = (col0 + j) / Q, ow0 = (col0 + j) % Q;
                    const std::int64_t len = std::min(cols - j, Q - ow0);
                    const std::int64_t ih = oh * pr.strideH + r - pr.padH;
                    if (ih < 0 || ih >= pr.H) {
                        std::fill(dst + j, dst + j + len, V(0));
                    } else {
                        // the columns whose tap lands inside the row: zeros, a copy, zeros (no test per element;
                        // at stride 1 the copy is a memmove)
                        const std::int64_t first = std::clamp(uFirstInside - ow0, std::int64_t{0}, len);
                        const std::int64_t end = std::clamp(uEndInside - ow0, first, len);
                        std::fill(dst + j, dst + j + first, V(0));
                        if (end > first) {
                            const V* src = plane + ih * pr.W + (ow0 + first) * pr.strideW + s - pr.padW;
                            if (pr.strideW == 1)
                                std::copy(src, src + (end - first), dst + j + first);
                            else
                                for (std::int64_t t = first; t < end; ++t) dst[j + t] = src[(t - first) * pr.strideW];
                        }
                        std::fill(dst + j + end, dst + j + len, V(0));
                    }
                    j += len;
                }
            }
    }
}

/// The adjoint of unfoldPatches over all P·Q columns of image n (col2im): each patch entry is added
/// back onto the input element it was read from (padding positions are dropped).
template <class V>
void foldPatchesAdd(const ConvProblem& pr, const V* patch, std::int64_t n, V* x) {
    const std::int64_t P = pr.P(), Q = pr.Q();
    for (std::int64_t c = 0; c < pr.C; ++c) {
        V* plane = x + (n * pr.C + c) * pr.H * pr.W;
        for (std::int64_t r = 0; r < pr.R; ++r)
            for (std::int64_t s = 0; s < pr.S; ++s) {
                const V* src = patch + ((c * pr.R + r) * pr.S + s) * P * Q;
                for (std::int64_t p = 0; p < P; ++p) {
                    const std::int64_t ih = p * pr.strideH + r - pr.padH;
                    if (ih < 0 || ih >= pr.H) continue;
                    for (std::int64_t q = 0; q < Q; ++q) {
                        const std::int64_t iw = q * pr.strideW + s - pr.padW;
                        if (iw >= 0 && iw < pr.W) plane[ih * pr.W + iw] += src[p * Q + q];
                    }
                }
            }
    }
}

}  // namespace ks::conv
