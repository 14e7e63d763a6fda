#pragma once
// The matrix-product problem C (M×N) = A (M×K) · B (K×N), apart from any way of computing it.
#include <cstdint>
#include <optional>
#include <string>

#include "base/tensor.hpp"

namespace ks::matmul {

struct MatmulProblem {
    std::int64_t m = 0;  ///< rows of A and C
    std::int64_t k = 0;  ///< columns of A, rows of B
    std::int64_t n = 0;  ///< columns of B and C
    std::optional<std::int64_t> rankA;  ///< low-rank approximation of A (none: A exactly)
    std::optional<std::int64_t> rankB;  ///< low-rank approximation of B (none: B exactly)

    /// From the operands' shapes; throws std::invalid_argument naming the mismatch.
    static MatmulProblem fromShapes(const Shape& a, const Shape& b,
                                    std::optional<std::int64_t> rankA = std::nullopt,
                                    std::optional<std::int64_t> rankB = std::nullopt);

    /// Throws std::invalid_argument if a dimension or rank is not positive.
    void validate() const;

    /// 2·M·K·N: the multiply-adds of the plain product, counted as two operations.
    double denseFlops() const { return 2.0 * double(m) * double(k) * double(n); }
    /// The operations of the product with the requested factored operands (the factorisation,
    /// done once beforehand, is not counted); equals denseFlops() without ranks.
    double factoredFlops() const;

    std::string toString() const;
};

}  // namespace ks::matmul
