#pragma once
// The reference product: for each C(i, j), Σ_k A(i, k)·B(k, j) in order k = 0, 1, …, K−1,
// one rounding per multiplication and one per addition in the given arithmetic. The operands are
// stored once (A as RandomTensor::Input, B as Weight); C(i, j)'s p-th product is step 2p of element
// i·n + j of Output and the sum that adds it step 2p + 1 (the fused order: its p-th FMA is step p).
#include <cstdint>
#include <vector>

#include "numeric/arithmetic.hpp"

namespace ks::matmul {

/// `count` values stored once, element i at site (tensor, i).
template <class V, numeric::Arithmetic Arith, class In>
std::vector<V> storedOperand(Arith& arith, const In* x, std::int64_t count, numeric::RandomTensor tensor) {
    std::vector<V> out(static_cast<std::size_t>(count));
    for (std::int64_t i = 0; i < count; ++i) {
        arith.at(numeric::randomTensor(tensor), std::uint64_t(i), 0);
        out[std::size_t(i)] = arith.store(V(x[i]));
    }
    return out;
}

template <numeric::Arithmetic Arith, class In, class Out>
void naiveMatmul(Arith& arith, std::int64_t m, std::int64_t k, std::int64_t n, const In* a, const In* b,
                 Out* c) {
    using V = typename Arith::value_type;
    const std::vector<V> as = storedOperand<V>(arith, a, m * k, numeric::RandomTensor::Input);
    const std::vector<V> bs = storedOperand<V>(arith, b, k * n, numeric::RandomTensor::Weight);
    const auto output = numeric::randomTensor(numeric::RandomTensor::Output);
    for (std::int64_t i = 0; i < m; ++i)
        for (std::int64_t j = 0; j < n; ++j) {
            arith.at(output, std::uint64_t(i * n + j), 0);
            V acc = arith.mul(as[std::size_t(i * k)], bs[std::size_t(j)]);
            for (std::int64_t p = 1; p < k; ++p) {
                arith.at(output, std::uint64_t(i * n + j), std::uint32_t(2 * p));
                acc = arith.add(acc, arith.mul(as[std::size_t(i * k + p)], bs[std::size_t(p * n + j)]));
            }
            c[i * n + j] = static_cast<Out>(acc);
        }
}

/// As the hardware GEMMs do it: operands rounded to storage, then a fused multiply-add per term
/// (one rounding to the accumulation format; the product itself is not rounded).
template <numeric::Arithmetic Arith, class In, class Out>
void fmaMatmul(Arith& arith, std::int64_t m, std::int64_t k, std::int64_t n, const In* a, const In* b,
               Out* c) {
    using V = typename Arith::value_type;
    const std::vector<V> as = storedOperand<V>(arith, a, m * k, numeric::RandomTensor::Input);
    const std::vector<V> bs = storedOperand<V>(arith, b, k * n, numeric::RandomTensor::Weight);
    const auto output = numeric::randomTensor(numeric::RandomTensor::Output);
    for (std::int64_t i = 0; i < m; ++i)
        for (std::int64_t j = 0; j < n; ++j) {
            V acc = V(0);
            for (std::int64_t p = 0; p < k; ++p) {
                arith.at(output, std::uint64_t(i * n + j), std::uint32_t(p));
                acc = arith.fma(as[std::size_t(i * k + p)], bs[std::size_t(p * n + j)], acc);
            }
            c[i * n + j] = static_cast<Out>(acc);
        }
}

}  // namespace ks::matmul
