#pragma once
// Shared by the convolution tests: random operands and the double-precision direct reference.
#include <cmath>
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

inline std::vector<double> directReference(const ConvProblem& p, const Operands& o, bool withBias = true) {
    std::vector<double> y(static_cast<std::size_t>(p.outputCount()));
    convAlgorithm("direct").run(p, o.x.data(), o.w.data(), withBias ? o.b.data() : nullptr, y.data());
    return y;
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
