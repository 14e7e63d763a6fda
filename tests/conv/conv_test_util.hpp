#pragma once
// Shared by the convolution tests: random operands and the long double seven-loop reference.
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "conv/conv_registry.hpp"

namespace ks::conv::test {

enum class Distribution { Normal, Uniform };

/// Operands drawn as float (so float32 and double runs see the same values), kept in both types.
struct Operands {
    std::vector<float> xf, wf, bf;
    std::vector<double> x, w, b;

    Operands(const ConvProblem& p, std::uint64_t seed, Distribution dist = Distribution::Normal) {
        std::mt19937_64 rng(seed);
        std::normal_distribution<double> normal;
        std::uniform_real_distribution<double> uniform(-1.0, 1.0);
        const auto fill = [&](std::int64_t n, std::vector<float>& f, std::vector<double>& d) {
            f.resize(static_cast<std::size_t>(n));
            d.resize(f.size());
            for (std::size_t i = 0; i < f.size(); ++i)
                d[i] = f[i] = static_cast<float>(dist == Distribution::Normal ? normal(rng) : uniform(rng));
        };
        fill(p.inputCount(), xf, x);
        fill(p.weightCount(), wf, w);
        fill(p.K, bf, b);
    }
};

/// The reference every algorithm is checked against, `direct` included: the definition in conv_problem.hpp
/// written out as seven plain loops (n, k, p, q, c, r, s), independent of core/conv's code. Each output is
/// summed in long double (x87: 64-bit significand): products of float operands are exact there (24 + 24
/// bits), and the sum of C·R·S of them is off by at most (C·R·S)·2^-64·Σ|x·w|, far below any tolerance of
/// these tests, even the double path's. The result is rounded once to double. Stride and padding are taken
/// per axis (strideH ≠ strideW, padH ≠ padW), as the descriptor allows; padding is the same on both sides
/// of an axis, as the descriptor has it.
static_assert(std::numeric_limits<long double>::digits >= 64,
              "the reference sums in long double with at least a 64-bit significand (x87 or quad)");

template <class T>
std::vector<double> referenceConvolution(const ConvProblem& p, const T* x, const T* w, const T* bias) {
    const std::int64_t P = p.P(), Q = p.Q();
    std::vector<double> y(static_cast<std::size_t>(p.outputCount()));
    for (std::int64_t n = 0; n < p.N; ++n)
        for (std::int64_t k = 0; k < p.K; ++k)
            for (std::int64_t oh = 0; oh < P; ++oh)
                for (std::int64_t ow = 0; ow < Q; ++ow) {
                    long double sum = bias ? static_cast<long double>(bias[k]) : 0.0L;
                    for (std::int64_t c = 0; c < p.C; ++c)
                        for (std::int64_t r = 0; r < p.R; ++r) {
                            const std::int64_t ih = oh * p.strideH + r - p.padH;
                            if (ih < 0 || ih >= p.H) continue;  // zero padding
                            for (std::int64_t s = 0; s < p.S; ++s) {
                                const std::int64_t iw = ow * p.strideW + s - p.padW;
                                if (iw < 0 || iw >= p.W) continue;
                                sum += static_cast<long double>(x[((n * p.C + c) * p.H + ih) * p.W + iw]) *
                                       static_cast<long double>(w[((k * p.C + c) * p.R + r) * p.S + s]);
                            }
                        }
                    y[static_cast<std::size_t>(((n * p.K + k) * P + oh) * Q + ow)] = static_cast<double>(sum);
                }
    return y;
}

/// The reference on the test operands (the double copies: the same values the float32 runs see).
inline std::vector<double> referenceConvolution(const ConvProblem& p, const Operands& o, bool withBias = true) {
    return referenceConvolution(p, o.x.data(), o.w.data(), withBias ? o.b.data() : nullptr);
}

template <class T>
double meanAbsError(const std::vector<T>& y, const std::vector<double>& ref) {
    double sum = 0;
    for (std::size_t i = 0; i < y.size(); ++i) sum += std::fabs(static_cast<double>(y[i]) - ref[i]);
    return sum / static_cast<double>(y.size());
}

template <class T>
double maxAbsError(const std::vector<T>& y, const std::vector<double>& ref) {
    double worst = 0;
    for (std::size_t i = 0; i < y.size(); ++i) {
        const double e = std::fabs(static_cast<double>(y[i]) - ref[i]);
        if (!(e <= worst)) worst = e;
    }
    return worst;
}

template <class T>
double relativeFrobenius(const std::vector<T>& y, const std::vector<double>& ref) {
    double num = 0, den = 0;
    for (std::size_t i = 0; i < y.size(); ++i) {
        const double d = static_cast<double>(y[i]) - ref[i];
        num += d * d;
        den += ref[i] * ref[i];
    }
    return std::sqrt(num / den);
}

}  // namespace ks::conv::test
