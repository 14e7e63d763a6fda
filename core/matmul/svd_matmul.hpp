#pragma once
// The product with either operand, or both, replaced by a low-rank factorisation made beforehand.
#include <cstdint>

#include "matmul/low_rank_factor.hpp"

namespace ks::matmul {

/// C (m×n) = A·B where A is given densely (`a`, m×k) or as `factorA`, and B densely (`b`, k×n) or as
/// `factorB` (pass nullptr for the dense one). Costs r·(m + k)-type products, never rebuilds a dense matrix.
void factoredProduct(std::int64_t m, std::int64_t k, std::int64_t n, const float* a, const LowRankFactor* factorA,
                     const float* b, const LowRankFactor* factorB, float* c);

}  // namespace ks::matmul
