#pragma once
// The reference product: for each C(i, j), Σ_k A(i, k)·B(k, j) in order k = 0, 1, …, K−1,
// one rounding per multiplication and one per addition in the given arithmetic.
#include <cstdint>

#include "numeric/arithmetic.hpp"

namespace ks::matmul {

template <numeric::Arithmetic Arith, class In, class Out>
void naiveMatmul(Arith& arith, std::int64_t m, std::int64_t k, std::int64_t n, const In* a, const In* b,
                 Out* c) {
    using V = typename Arith::value_type;
    for (std::int64_t i = 0; i < m; ++i)
        for (std::int64_t j = 0; j < n; ++j) {
            V acc = arith.mul(arith.store(V(a[i * k])), arith.store(V(b[j])));
            for (std::int64_t p = 1; p < k; ++p)
                acc = arith.add(acc, arith.mul(arith.store(V(a[i * k + p])), arith.store(V(b[p * n + j]))));
            c[i * n + j] = static_cast<Out>(acc);
        }
}

/// As the hardware GEMMs do it: operands rounded to storage, then a fused multiply-add per term
/// (one rounding to the accumulation format; the product itself is not rounded).
template <numeric::Arithmetic Arith, class In, class Out>
void fmaMatmul(Arith& arith, std::int64_t m, std::int64_t k, std::int64_t n, const In* a, const In* b,
               Out* c) {
    using V = typename Arith::value_type;
    for (std::int64_t i = 0; i < m; ++i)
        for (std::int64_t j = 0; j < n; ++j) {
            V acc = V(0);
            for (std::int64_t p = 0; p < k; ++p)
                acc = arith.fma(arith.store(V(a[i * k + p])), arith.store(V(b[p * n + j])), acc);
            c[i * n + j] = static_cast<Out>(acc);
        }
}

}  // namespace ks::matmul
