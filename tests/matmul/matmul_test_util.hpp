#pragma once
// Shared helpers of the matmul tests: seeded random matrices and double-precision references.
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "base/tensor.hpp"

namespace ks::matmul::test {

#ifdef KS_SANITIZE_BUILD
inline constexpr int kSeeds = 2;
#else
inline constexpr int kSeeds = 10;
#endif

inline TensorF randomMatrix(std::int64_t rows, std::int64_t cols, std::uint64_t seed, double scale = 1.0) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> normal;
    TensorF t({rows, cols});
    for (auto& v : t.storage()) v = static_cast<float>(scale * normal(rng));
    return t;
}

inline TensorF uniformMatrix(std::int64_t rows, std::int64_t cols, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    TensorF t({rows, cols});
    for (auto& v : t.storage()) v = static_cast<float>(uniform(rng));
    return t;
}

/// C = A·B in double from the float operands, plus Σ_p |A(i,p)·B(p,j)| per element (for error bounds).
struct Reference {
    std::vector<double> c, absSum;
};

inline Reference referenceProduct(const TensorF& a, const TensorF& b) {
    const std::int64_t m = a.dim(0), k = a.dim(1), n = b.dim(1);
    Reference r{std::vector<double>(static_cast<std::size_t>(m * n)), std::vector<double>(static_cast<std::size_t>(m * n))};
    for (std::int64_t i = 0; i < m; ++i)
        for (std::int64_t j = 0; j < n; ++j) {
            long double s = 0, abs = 0;
            for (std::int64_t p = 0; p < k; ++p) {
                const long double x = (long double)a[static_cast<std::size_t>(i * k + p)] * b[static_cast<std::size_t>(p * n + j)];
                s += x;
                abs += std::fabs(x);
            }
            r.c[static_cast<std::size_t>(i * n + j)] = double(s);
            r.absSum[static_cast<std::size_t>(i * n + j)] = double(abs);
        }
    return r;
}

inline double meanAbsDifference(const TensorF& x, const TensorF& y) {
    double s = 0;
    for (std::size_t i = 0; i < x.size(); ++i) s += std::fabs(double(x[i]) - double(y[i]));
    return s / double(x.size());
}

}  // namespace ks::matmul::test
