#pragma once
// Summation orders (groundwork of issue 18's accumulator models): the same values added in another order, or with
// compensation, give another rounding error, and a narrow accumulator can stall (10,000 samples of U(0, 1) summed
// one by one in bf16 stop at 256, where bf16's spacing is 2). Generic over the arithmetic, so every order runs in
// native float, in double, or in any emulated format (numeric::Arithmetic).
//   Sequential  s = ((v0 + v1) + v2) + …
//   Pairwise    the two halves summed pairwise, then added (a single value is itself)
//   Blocked     partial sums of `blockSize` consecutive values, each added to the running sum (a tensor core's
//               groups, a GEMM's K blocking)
//   Kahan       sequential with Kahan's compensation, every operation in the arithmetic
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>

#include "numeric/accumulator_model.hpp"
#include "numeric/arithmetic.hpp"

namespace ks::numeric {

struct SummationModel {
    SummationOrder order = SummationOrder::Sequential;
    int blockSize = 32;  ///< Blocked only, ≥ 1
};

namespace detail {
template <Arithmetic A>
typename A::value_type pairwise(A& arith, std::span<const typename A::value_type> v) {
    if (v.size() == 1) return v[0];
    const std::size_t half = v.size() / 2;
    return arith.add(pairwise(arith, v.first(half)), pairwise(arith, v.subspan(half)));
}
}  // namespace detail

/// The sum of `values` (taken as they are: store them first for a storage format) in the model's order; 0 for none.
template <Arithmetic A>
typename A::value_type sum(A& arith, std::span<const typename A::value_type> values, const SummationModel& model = {}) {
    using T = typename A::value_type;
    if (values.empty()) return T(0);
    switch (model.order) {
        case SummationOrder::Sequential: {
            T s = values[0];
            for (std::size_t i = 1; i < values.size(); ++i) s = arith.add(s, values[i]);
            return s;
        }
        case SummationOrder::Pairwise: return detail::pairwise(arith, values);
        case SummationOrder::Blocked: {
            if (model.blockSize < 1) throw std::invalid_argument("blocked summation: block size " + std::to_string(model.blockSize) + " < 1");
            T s = T(0);
            bool first = true;
            for (std::size_t start = 0; start < values.size(); start += std::size_t(model.blockSize)) {
                const auto block = values.subspan(start, std::min(values.size() - start, std::size_t(model.blockSize)));
                T partial = block[0];
                for (std::size_t i = 1; i < block.size(); ++i) partial = arith.add(partial, block[i]);
                s = first ? partial : arith.add(s, partial);
                first = false;
            }
            return s;
        }
        case SummationOrder::Kahan: {
            T s = values[0], c = T(0);
            for (std::size_t i = 1; i < values.size(); ++i) {
                const T y = arith.sub(values[i], c);
                const T t = arith.add(s, y);
                c = arith.sub(arith.sub(t, s), y);
                s = t;
            }
            return s;
        }
        case SummationOrder::TensorCore:
            throw std::invalid_argument("tensor-core sums align products in groups: numeric/modelled_dot.hpp computes them");
    }
    return T(0);
}

}  // namespace ks::numeric
