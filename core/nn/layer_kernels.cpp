#include "nn/layer_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ks::nn::detail {

void biasActivation(float* y, std::int64_t rows, std::int64_t cols, std::int64_t ld, const float* bias, bool relu) {
    for (std::int64_t i = 0; i < rows; ++i) {
        float* row = y + i * ld;
        if (bias && relu)
            for (std::int64_t j = 0; j < cols; ++j) row[j] = std::max(row[j] + bias[j], 0.0f);
        else if (bias)
            for (std::int64_t j = 0; j < cols; ++j) row[j] += bias[j];
        else if (relu)
            for (std::int64_t j = 0; j < cols; ++j) row[j] = std::max(row[j], 0.0f);
    }
}

namespace {

/// max(best, v) where a NaN wins and stays (as in PyTorch's max-pool); a compare and a blend.
inline float maxKeepingNaN(float best, float v) { return v > best || v != v ? v : best; }

/// One plane's max-pool without the positions (inference), window Size×Size: output row by output
/// row, one element of the window at a time across the row, so that the loops vectorise (the
/// element-by-element loop below took 42 % of the digit CNN's inference).
template <int Size>
void maxPoolPlane(const float* plane, std::int64_t width, std::int64_t ph, std::int64_t pw, float* out) {
    for (std::int64_t i = 0; i < ph; ++i, out += pw) {
        const float* top = plane + i * Size * width;
        for (std::int64_t j = 0; j < pw; ++j) out[j] = top[j * Size];
        for (int di = 0; di < Size; ++di)
            for (int dj = di == 0 ? 1 : 0; dj < Size; ++dj) {
                const float* r = top + di * width + dj;
                for (std::int64_t j = 0; j < pw; ++j) out[j] = maxKeepingNaN(out[j], r[j * Size]);
            }
    }
}

}  // namespace

void maxPool(const float* x, std::int64_t n, const FeatureShape& in, std::int64_t size, float* y, std::int32_t* argmax) {
    const std::int64_t ph = in.height / size, pw = in.width / size;
    const std::int64_t inPer = in.size(), outPer = in.channels * ph * pw;
    if (!argmax && (size == 2 || size == 3)) {
        const auto plane = size == 2 ? &maxPoolPlane<2> : &maxPoolPlane<3>;
        for (std::int64_t c = 0; c < n * in.channels; ++c)
            plane(x + c * in.height * in.width, in.width, ph, pw, y + c * ph * pw);
        return;
    }
    for (std::int64_t s = 0; s < n; ++s)
        for (std::int64_t c = 0; c < in.channels; ++c) {
            const float* plane = x + s * inPer + c * in.height * in.width;
            for (std::int64_t i = 0; i < ph; ++i)
                for (std::int64_t j = 0; j < pw; ++j) {
                    float best = -std::numeric_limits<float>::infinity();
                    std::int64_t where = (i * size) * in.width + j * size;
                    for (std::int64_t di = 0; di < size; ++di)
                        for (std::int64_t dj = 0; dj < size; ++dj) {
                            const std::int64_t at = (i * size + di) * in.width + j * size + dj;
                            // A NaN wins and stays (as in PyTorch); ties keep the first.
                            if (!std::isnan(best) && !(plane[at] <= best)) {
                                best = plane[at];
                                where = at;
                            }
                        }
                    const std::int64_t o = s * outPer + (c * ph + i) * pw + j;
                    y[o] = best;
                    if (argmax) argmax[o] = static_cast<std::int32_t>(c * in.height * in.width + where);
                }
        }
}

void maxPoolBackward(const float* gy, const std::int32_t* argmax, std::int64_t n, std::int64_t outPerSample,
                     std::int64_t inPerSample, float* gx) {
    std::fill(gx, gx + n * inPerSample, 0.0f);
    for (std::int64_t s = 0; s < n; ++s)
        for (std::int64_t o = 0; o < outPerSample; ++o)
            gx[s * inPerSample + argmax[s * outPerSample + o]] += gy[s * outPerSample + o];
}

void logSoftmaxRows(float* values, std::int64_t rows, std::int64_t cols) {
    // Wide rows: Eigen's vectorised reductions and exp, row by row.
    constexpr std::int64_t kNarrowCols = 32;
    if (cols >= kNarrowCols) {
        Eigen::Map<MatrixF> z(values, rows, cols);
        for (Eigen::Index r = 0; r < z.rows(); ++r) {
            auto row = z.row(r).array();
            const float m = row.maxCoeff();
            row -= m + std::log((row - m).exp().sum());
        }
        return;
    }
    // Narrow rows (the digits' 10 classes), where per-row fixed costs dominated (48 ns a row, 3 % of
    // the rank-16 network; 23 ns now): z - max(z) of a group of rows into a buffer, exp() over the
    // whole buffer at once, then each row's log-sum-exp.
    constexpr std::int64_t kBufferFloats = 1024;
    alignas(64) float shifted[kBufferFloats];
    float maxima[kBufferFloats];
    const std::int64_t group = kBufferFloats / std::max<std::int64_t>(cols, 1);
    for (std::int64_t r0 = 0; r0 < rows; r0 += group) {
        const std::int64_t count = std::min(group, rows - r0);
        float* const block = values + r0 * cols;
        for (std::int64_t i = 0; i < count; ++i) {
            const float* row = block + i * cols;
            float m = row[0];
            for (std::int64_t j = 1; j < cols; ++j) m = std::max(m, row[j]);
            maxima[i] = m;
            for (std::int64_t j = 0; j < cols; ++j) shifted[i * cols + j] = row[j] - m;
        }
        Eigen::Map<Eigen::ArrayXf> e(shifted, count * cols);
        e = e.exp();
        for (std::int64_t i = 0; i < count; ++i) {
            float sum = 0.0f;
            for (std::int64_t j = 0; j < cols; ++j) sum += shifted[i * cols + j];
            const float lse = maxima[i] + std::log(sum);
            float* row = block + i * cols;
            for (std::int64_t j = 0; j < cols; ++j) row[j] -= lse;
        }
    }
}

conv::ConvProblem convProblemOf(const Layer& conv, std::int64_t batch) {
    conv::ConvProblem p;
    p.N = batch;
    p.C = conv.inChannels;
    p.H = conv.inputShape.height;
    p.W = conv.inputShape.width;
    p.K = conv.outFeatures();
    p.R = conv.kernelHeight;
    p.S = conv.kernelWidth;
    p.strideH = p.strideW = conv.stride;
    p.padH = p.padW = conv.padding;
    return p;
}

}  // namespace ks::nn::detail
