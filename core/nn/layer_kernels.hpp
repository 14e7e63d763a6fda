#pragma once
// The float32 pieces of the network's layers that are not GEMMs, shared by inference and training
// (internal to core/nn): the GEMM epilogue, max-pooling, log-softmax, and the patch matrices of a
// convolution for training's im2col-style products.
#include <cstdint>

#include "conv/conv_problem.hpp"
#include "nn/model.hpp"

namespace ks::nn::detail {

/// y[i][j] += bias[j] (bias may be null), then max(y, 0) when `relu`: one pass over a rows×cols
/// block (row stride ld) right after the GEMM wrote it, while it is in cache.
void biasActivation(float* y, std::int64_t rows, std::int64_t cols, std::int64_t ld, const float* bias, bool relu);

/// Max-pooling of n samples of shape `in` (window = stride = `size`, floor): y is n × C·(H/size)·(W/size).
/// `argmax` (may be null) receives, per output, the index within the sample's input of its maximum
/// (the first one in row-major window order on ties), for the backward pass.
void maxPool(const float* x, std::int64_t n, const FeatureShape& in, std::int64_t size, float* y, std::int32_t* argmax);
/// gx (n × in.size(), overwritten) from gy (n × outPerSample) through the recorded argmax.
void maxPoolBackward(const float* gy, const std::int32_t* argmax, std::int64_t n, std::int64_t outPerSample,
                     std::int64_t inPerSample, float* gx);

/// Row-wise log-softmax in place, of `rows` rows of `cols` values (row-major).
void logSoftmaxRows(float* z, std::int64_t rows, std::int64_t cols);
inline void logSoftmaxRows(MatrixF& z) { logSoftmaxRows(z.data(), z.rows(), z.cols()); }

/// The convolution a Conv2d layer computes on a batch of `batch` samples.
conv::ConvProblem convProblemOf(const Layer& conv, std::int64_t batch);

}  // namespace ks::nn::detail
