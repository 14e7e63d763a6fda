// naive's and dense's emulated run under an accumulator model (numeric/accumulator_model.hpp): operands stored once,
// then every C(i, j) the modelled dot product of A's row i and B's column j, the products in k order. The model
// fixes the order of the sums, so naive (rounded products) and dense (fused) give the same bits under it.
#include <algorithm>
#include <span>
#include <vector>

#include "base/parallel.hpp"
#include "matmul/emulated_gemm.hpp"
#include "numeric/modelled_dot.hpp"
#include "numeric/round.hpp"

namespace ks::matmul {

MatmulReport modelledProduct(const MatmulProblem& p, std::span<const float> a, std::span<const float> b,
                             std::span<float> c, const numeric::ComputeSpec& spec, bool fast) {
    const numeric::ModelledDot dot(spec);
    std::vector<double> as(a.begin(), a.end()), bs(b.begin(), b.end());
    numeric::roundInPlace(std::span<double>(as), spec.storage, spec.rounding);
    numeric::roundInPlace(std::span<double>(bs), spec.storage, spec.rounding);
    parallelFor(p.m, 20.0 * double(p.m) * double(p.k) * double(p.n), [&](std::int64_t begin, std::int64_t end) {
        constexpr int L = numeric::ModelledDot::kLanes;
        const double zeros[L] = {};
        double out[L];
        for (std::int64_t i = begin; i < end; ++i)
            for (std::int64_t j = 0; j < p.n; j += fast ? L : 1) {
                if (!fast) {
                    c[std::size_t(i * p.n + j)] = float(dot(0.0, as.data() + i * p.k, 1, bs.data() + j, p.n, p.k));
                    continue;
                }
                const int lanes = int(std::min<std::int64_t>(L, p.n - j));  // columns j…j+lanes−1 of B
                dot.lanes(zeros, as.data() + i * p.k, 0, 1, bs.data() + j, 1, p.n, p.k, out, lanes);
                for (int l = 0; l < lanes; ++l) c[std::size_t(i * p.n + j + l)] = float(out[l]);
            }
    });
    MatmulReport report;
    report.note = "accumulator model " + numeric::accumulatorModelName(spec.accumulation) + ": " +
                  numeric::describe(spec.accumulation) +
                  (fast ? " (the modelled dot product, eight columns side by side)" : " (the scalar modelled dot product)");
    return report;
}

}  // namespace ks::matmul
