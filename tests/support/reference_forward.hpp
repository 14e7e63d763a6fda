#pragma once
// An independent forward pass of an nn::Model for the tests, written from PyTorch's definitions apart
// from core/nn's code: conv y[k][p][q] = Σ_{c,r,s} x[c][p·stride + r − pad][q·stride + s − pad]·w[k][c][r][s]
// + b[k] (zero outside), max over pool windows, W·x + b, U·(D·x) + b for a low-rank layer, log-softmax.
// It runs in plain double (DoubleOps) or in bfloat16 emulated by a route other than core/numeric's
// (Bf16Ops), in the order of operations core/nn documents for its emulated path, so that the emulated
// forward can be compared with it bit for bit.
#include <Eigen/Core>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "nn/model.hpp"

namespace ks::test {

using MatrixD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Plain double arithmetic: the float32 network's exact value up to double's rounding.
struct DoubleOps {
    static double store(double v) { return v; }
    static double mul(double a, double b) { return a * b; }
    static double add(double a, double b) { return a + b; }
};

/// bfloat16 storage, products and sums (round to nearest even) by another route than core/numeric's:
/// the float32 operation, then bf16 rounding on the bit pattern (add 0x7fff plus the lowest kept bit,
/// keep the high 16 bits: the rule of PyTorch's c10::BFloat16 and TensorFlow's bfloat16). The product
/// of two bf16 values is exact in float32 (8 + 8 ≤ 24 bits); a float32 sum is rounded once, and rounding
/// it again to bf16 is innocuous (Figueroa 1995: 24 ≥ 2·8 + 2), so each operation is rounded correctly.
struct Bf16Ops {
    static float roundToBf16(float v) {
        if (std::isnan(v)) return v;
        std::uint32_t bits = std::bit_cast<std::uint32_t>(v);
        bits += 0x7fffu + ((bits >> 16) & 1u);
        return std::bit_cast<float>(bits & 0xffff0000u);
    }
    static double store(double v) { return roundToBf16(static_cast<float>(v)); }
    static double mul(double a, double b) { return roundToBf16(static_cast<float>(a) * static_cast<float>(b)); }
    static double add(double a, double b) { return roundToBf16(static_cast<float>(a) + static_cast<float>(b)); }
};

/// The spec fp16/fp32: fp16 storage and products, float32 sums. fp16 by the compiler's _Float16 conversion
/// (F16C's vcvtps2ph where present); the product of two fp16 values is exact in float32 (11 + 11 ≤ 24 bits),
/// so converting it rounds once, and a float32 sum is rounded once, as core/numeric rounds.
struct Fp16Fp32Ops {
    static double toFp16(float v) { return static_cast<float>(static_cast<_Float16>(v)); }
    static double store(double v) { return toFp16(static_cast<float>(v)); }
    static double mul(double a, double b) { return toFp16(static_cast<float>(a) * static_cast<float>(b)); }
    static double add(double a, double b) { return static_cast<float>(a) + static_cast<float>(b); }
};

/// Largest |a − b| / |b| (b the reference), for outputs that must match an emulated reference up to the
/// final conversion of the log-probabilities to float.
inline double maxRelativeDifference(const MatrixD& a, const MatrixD& b) {
    double worst = 0;
    for (Eigen::Index i = 0; i < b.size(); ++i)
        worst = std::max(worst, std::fabs(a.data()[i] - b.data()[i]) / std::max(std::fabs(b.data()[i]), 1e-300));
    return worst;
}

/// The model's output (log-probabilities) for each row of `input`. Linear layers start their sums from the
/// bias and add the products in input order; convolutions add the products in (c, r, s) order from zero and
/// the bias last (core/conv's direct); operands are stored (rounded) once before they are used.
template <class Ops = DoubleOps>
MatrixD referenceForward(const nn::Model& model, const MatrixD& input, Ops ops = {}) {
    MatrixD out(input.rows(), model.outputFeatures());
    auto stored = [&](const auto& m) {
        std::vector<double> v(m.data(), m.data() + m.size());
        for (double& e : v) e = ops.store(e);
        return v;
    };
    for (Eigen::Index n = 0; n < input.rows(); ++n) {
        std::vector<double> x(input.row(n).data(), input.row(n).data() + input.cols());
        std::int64_t C = model.inputShape().channels, H = model.inputShape().height, W = model.inputShape().width;
        for (const nn::Layer& l : model.layers()) {
            std::vector<double> y;
            switch (l.kind) {
                case nn::LayerKind::Conv2d: {
                    const std::int64_t K = l.outFeatures(), R = l.kernelHeight, S = l.kernelWidth;
                    const std::int64_t P = (H + 2 * l.padding - R) / l.stride + 1;
                    const std::int64_t Q = (W + 2 * l.padding - S) / l.stride + 1;
                    const std::vector<double> w = stored(l.weight), b = stored(l.bias);
                    for (double& v : x) v = ops.store(v);
                    y.assign(std::size_t(K * P * Q), 0.0);
                    for (std::int64_t k = 0; k < K; ++k)
                        for (std::int64_t p = 0; p < P; ++p)
                            for (std::int64_t q = 0; q < Q; ++q) {
                                double acc = 0;
                                for (std::int64_t c = 0; c < C; ++c)
                                    for (std::int64_t r = 0; r < R; ++r)
                                        for (std::int64_t s = 0; s < S; ++s) {
                                            const std::int64_t ih = p * l.stride + r - l.padding;
                                            const std::int64_t iw = q * l.stride + s - l.padding;
                                            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                            acc = ops.add(acc, ops.mul(w[std::size_t(k * C * R * S + (c * R + r) * S + s)],
                                                                       x[std::size_t((c * H + ih) * W + iw)]));
                                        }
                                y[std::size_t((k * P + p) * Q + q)] = b.empty() ? acc : ops.add(acc, b[std::size_t(k)]);
                            }
                    C = K, H = P, W = Q;
                    break;
                }
                case nn::LayerKind::MaxPool2d: {
                    const std::int64_t z = l.poolSize, P = H / z, Q = W / z;
                    y.assign(std::size_t(C * P * Q), -INFINITY);
                    for (std::int64_t c = 0; c < C; ++c)
                        for (std::int64_t p = 0; p < P; ++p)
                            for (std::int64_t q = 0; q < Q; ++q)
                                for (std::int64_t i = 0; i < z; ++i)
                                    for (std::int64_t j = 0; j < z; ++j) {
                                        double& m = y[std::size_t((c * P + p) * Q + q)];
                                        m = std::max(m, x[std::size_t((c * H + p * z + i) * W + q * z + j)]);
                                    }
                    H = P, W = Q;
                    break;
                }
                case nn::LayerKind::Linear:
                case nn::LayerKind::LowRankLinear: {
                    // y = b + W·x, or b + U·h with h = D·x stored like any activation.
                    auto affine = [&](const std::vector<double>& m, std::int64_t rows, std::int64_t cols,
                                      const std::vector<double>& bias, std::vector<double>& in) {
                        for (double& v : in) v = ops.store(v);
                        std::vector<double> result(static_cast<std::size_t>(rows));
                        for (std::int64_t o = 0; o < rows; ++o) {
                            double acc = bias.empty() ? 0.0 : bias[std::size_t(o)];
                            for (std::int64_t i = 0; i < cols; ++i)
                                acc = ops.add(acc, ops.mul(in[std::size_t(i)], m[std::size_t(o * cols + i)]));
                            result[std::size_t(o)] = acc;
                        }
                        return result;
                    };
                    const std::vector<double> b = stored(l.bias);
                    if (l.kind == nn::LayerKind::Linear) {
                        y = affine(stored(l.weight), l.outFeatures(), l.inFeatures(), b, x);
                    } else {
                        std::vector<double> h = affine(stored(l.down), l.rank(), l.inFeatures(), {}, x);
                        y = affine(stored(l.up), l.outFeatures(), l.rank(), b, h);
                    }
                    C = l.outFeatures(), H = W = 1;
                    break;
                }
                case nn::LayerKind::ReLU:
                    y = x;
                    for (double& v : y) v = std::max(v, 0.0);
                    break;
                case nn::LayerKind::Flatten:
                    y = x;
                    C = C * H * W, H = W = 1;
                    break;
                case nn::LayerKind::LogSoftmax: {
                    y = x;
                    const double m = *std::max_element(y.begin(), y.end());
                    double sum = 0;
                    for (double v : y) sum += std::exp(v - m);
                    for (double& v : y) v -= m + std::log(sum);
                    break;
                }
            }
            x = std::move(y);
        }
        for (Eigen::Index j = 0; j < out.cols(); ++j) out(n, j) = x[std::size_t(j)];
    }
    return out;
}

/// A forward pass's predictions against the reference's. With every log-probability within maxError of the
/// reference, the two can only pick different classes for a sample whose two best reference classes lie
/// within 2·maxError of each other (a close call); anywhere else a different class is a real disagreement.
struct PredictionCheck {
    double maxError = 0;
    std::size_t closeCalls = 0;
    std::size_t disagreements = 0;     ///< outside the close calls: must be zero
    std::size_t referenceCorrect = 0;  ///< samples the reference classifies correctly
};

inline Eigen::Index argmaxOfRow(const MatrixD& m, Eigen::Index r) {
    Eigen::Index best = 0;
    for (Eigen::Index c = 1; c < m.cols(); ++c)
        if (m(r, c) > m(r, best)) best = c;
    return best;
}

inline PredictionCheck comparePredictions(const MatrixD& forward, const MatrixD& reference,
                                          const std::vector<std::uint8_t>& labels) {
    PredictionCheck check;
    check.maxError = (forward - reference).cwiseAbs().maxCoeff();
    for (Eigen::Index r = 0; r < reference.rows(); ++r) {
        const Eigen::Index best = argmaxOfRow(reference, r);
        double second = -INFINITY;
        for (Eigen::Index c = 0; c < reference.cols(); ++c)
            if (c != best) second = std::max(second, reference(r, c));
        if (reference(r, best) - second <= 2 * check.maxError)
            ++check.closeCalls;
        else if (argmaxOfRow(forward, r) != best)
            ++check.disagreements;
        if (best == labels[std::size_t(r)]) ++check.referenceCorrect;
    }
    return check;
}

}  // namespace ks::test
