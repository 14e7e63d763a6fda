// direct's and im2col's emulated run under an accumulator model (numeric/accumulator_model.hpp): operands stored once,
// each output the modelled dot product of its filter and its patch over (c, r, s), outside taps as zero products (as
// implicit GEMM has them, so direct and im2col give the same bits), then the bias added in the accumulation format
// (after the products, as both kernels and a GEMM epilogue add it).
#include <algorithm>
#include <span>
#include <vector>

#include "base/parallel.hpp"
#include "conv/conv_kernel_util.hpp"
#include "numeric/arithmetic.hpp"
#include "numeric/modelled_dot.hpp"
#include "numeric/round.hpp"

namespace ks::conv::detail {

void modelledConv(const ConvProblem& pr, const numeric::ComputeSpec& spec, const double* input, const double* weight,
                  const double* bias, double* output, bool fast) {
    const numeric::ModelledDot dot(spec);
    auto stored = [&](const double* data, std::int64_t count) {
        std::vector<double> v(data, data + count);
        numeric::roundInPlace(std::span<double>(v), spec.storage, spec.rounding);
        return v;
    };
    const std::vector<double> x = stored(input, pr.inputCount()), w = stored(weight, pr.weightCount());
    const std::vector<double> b = bias ? stored(bias, pr.K) : std::vector<double>{};
    const std::int64_t P = pr.P(), Q = pr.Q(), RS = pr.R * pr.S, CRS = pr.C * RS;
    constexpr int L = numeric::ModelledDot::kLanes;
    const int step = fast ? L : 1;
    parallelFor(pr.N * pr.K, 20.0 * double(pr.flops()), [&](std::int64_t begin, std::int64_t end) {
        // Eight pixels' patches interleaved, [c, r, s][lane] (one scalar pixel: [c, r, s]), so that each step loads one vector.
        std::vector<double> patches(static_cast<std::size_t>(CRS * L));
        numeric::EmulatedArithmetic sums(dot.spec());  // the bias's addition, no random sites
        const double zeros[L] = {};
        double out[L];
        for (std::int64_t nk = begin; nk < end; ++nk) {
            const std::int64_t n = nk / pr.K, k = nk % pr.K;
            const double* filter = w.data() + k * CRS;
            for (std::int64_t pq = 0; pq < P * Q; pq += step) {
                const int lanes = int(std::min<std::int64_t>(step, P * Q - pq));  // output pixels pq…pq+lanes−1
                const std::ptrdiff_t laneStride = fast ? L : 1;
                if (lanes < step) std::fill(patches.begin(), patches.end(), 0.0);  // unused lanes: zero products
                for (int l = 0; l < lanes; ++l) {
                    const std::int64_t p = (pq + l) / Q, q = (pq + l) % Q;
                    double* patch = patches.data() + l;
                    for (std::int64_t c = 0; c < pr.C; ++c)
                        for (std::int64_t r = 0; r < pr.R; ++r)
                            for (std::int64_t s = 0; s < pr.S; ++s) {
                                const std::int64_t h = p * pr.strideH + r - pr.padH, wi = q * pr.strideW + s - pr.padW;
                                const bool inside = h >= 0 && h < pr.H && wi >= 0 && wi < pr.W;
                                patch[std::size_t(c * RS + r * pr.S + s) * std::size_t(laneStride)] =
                                    inside ? x[std::size_t(((n * pr.C + c) * pr.H + h) * pr.W + wi)] : 0.0;
                            }
                }
                if (fast) dot.lanes(zeros, filter, 0, 1, patches.data(), 1, L, CRS, out, lanes);
                else out[0] = dot(0.0, filter, 1, patches.data(), 1, CRS);
                for (int l = 0; l < lanes; ++l) {
                    double y = out[l];
                    if (bias) y = sums.add(y, b[std::size_t(k)]);
                    output[std::size_t((n * pr.K + k) * P * Q + pq + l)] = y;
                }
            }
        }
    });
}

}  // namespace ks::conv::detail
