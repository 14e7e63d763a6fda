// direct: the reference. Straight from the definition, each output accumulated over (c, r, s) in
// that order in the given arithmetic (double, emulated, and float32 when the column stride is not 1).
// The loops run along output rows in blocks so that the accumulators stay in registers and the
// innermost loop vectorises over q (stride 1). The float32 plan for unit column stride runs the
// register-tiled kernel of conv_direct_f32.cpp instead: the same sums, tested against this one.
#include <algorithm>
#include <type_traits>

#include "base/parallel.hpp"
#include "conv/conv_direct_f32.hpp"
#include "conv/conv_kernel_util.hpp"
#include "conv/conv_lanes.hpp"
#include "base/isa.hpp"
#include "conv/conv_registry.hpp"
#include "numeric/fast_arithmetic.hpp"

namespace ks::conv {

namespace {

constexpr std::int64_t kRowBlock = 64;

/// Output rows [rowBegin, rowEnd) of the flattened (n, k, p) index space.
template <numeric::Arithmetic Arith, class V>
void directRows(const ConvProblem& pr, const V* x, const V* w, const V* bias, V* y, Arith& arith,
                std::int64_t rowBegin, std::int64_t rowEnd) {
    const std::int64_t P = pr.P(), Q = pr.Q();
    // Stochastic rounding's sites (conv_kernel_util.hpp); only the reference arithmetic has them.
    constexpr bool keyed = std::is_same_v<Arith, numeric::EmulatedArithmetic>;
    const auto output = numeric::randomTensor(numeric::RandomTensor::Output);
    V acc[kRowBlock];
    for (std::int64_t row = rowBegin; row < rowEnd; ++row) {
        const std::int64_t oh = row % P;
        const std::int64_t k = (row / P) % pr.K;
        const std::int64_t n = row / (P * pr.K);
        V* yRow = y + row * Q;
        for (std::int64_t q0 = 0; q0 < Q; q0 += kRowBlock) {
            const std::int64_t qn = std::min(kRowBlock, Q - q0);
            std::fill(acc, acc + qn, V(0));
            for (std::int64_t c = 0; c < pr.C; ++c) {
                const V* xPlane = x + (n * pr.C + c) * pr.H * pr.W;
                const V* wPlane = w + (k * pr.C + c) * pr.R * pr.S;
                for (std::int64_t r = 0; r < pr.R; ++r) {
                    const std::int64_t ih = oh * pr.strideH + r - pr.padH;
                    if (ih < 0 || ih >= pr.H) continue;
                    const V* xRow = xPlane + ih * pr.W;
                    for (std::int64_t s = 0; s < pr.S; ++s) {
                        const V wv = wPlane[r * pr.S + s];
                        // q range whose input column iw = q*stride + s - pad lies inside the image
                        const std::int64_t offset = s - pr.padW;
                        std::int64_t qLo = offset >= 0 ? 0 : detail::ceilDiv(-offset, pr.strideW);
                        std::int64_t qHi = (pr.W - 1 - offset) >= 0 ? (pr.W - 1 - offset) / pr.strideW + 1 : 0;
                        qLo = std::max(qLo, q0);
                        qHi = std::min(qHi, q0 + qn);
                        if constexpr (keyed) {
                            const std::uint32_t step = detail::productStep((c * pr.R + r) * pr.S + s);
                            for (std::int64_t q = qLo; q < qHi; ++q) {
                                arith.at(output, std::uint64_t(row * Q + q), step);
                                acc[q - q0] = detail::multiplyAdd(arith, wv, xRow[q * pr.strideW + offset], acc[q - q0]);
                            }
                        } else if (pr.strideW == 1) {
                            const V* xs = xRow + offset;
                            for (std::int64_t q = qLo; q < qHi; ++q)
                                acc[q - q0] = detail::multiplyAdd(arith, wv, xs[q], acc[q - q0]);
                        } else {
                            for (std::int64_t q = qLo; q < qHi; ++q)
                                acc[q - q0] = detail::multiplyAdd(arith, wv, xRow[q * pr.strideW + offset], acc[q - q0]);
                        }
                    }
                }
            }
            for (std::int64_t j = 0; j < qn; ++j) {
                arith.at(output, std::uint64_t(row * Q + q0 + j), detail::productStep(pr.C * pr.R * pr.S));
                yRow[q0 + j] = bias ? arith.add(acc[j], bias[k]) : acc[j];
            }
        }
    }
}

template <numeric::Arithmetic Arith, class V>
void directConv(const ConvProblem& pr, const V* x, const V* w, const V* bias, V* y, Arith& arith) {
    std::vector<V> xs, ws, bs;
    x = detail::storeOperands(arith, x, pr.inputCount(), xs, numeric::RandomTensor::Input);
    w = detail::storeOperands(arith, w, pr.weightCount(), ws, numeric::RandomTensor::Weight);
    bias = detail::storeOperands(arith, bias, pr.K, bs, numeric::RandomTensor::Bias);
    const std::int64_t rows = pr.N * pr.K * pr.P();
    if constexpr (!numeric::kThreadSplittable<Arith>) {
        directRows(pr, x, w, bias, y, arith, 0, rows);
    } else {
        parallelFor(rows, pr.flops(), [&](std::int64_t begin, std::int64_t end) {
            Arith local = arith;
            directRows(pr, x, w, bias, y, local, begin, end);
        });
    }
}

class DirectConv final : public ConvAlgorithm {
public:
    std::string name() const override { return "direct"; }
    std::vector<std::string> aliases() const override { return {"naive"}; }
    std::string description() const override {
        return "Direct loops over the definition (the reference): any kernel, stride and padding; "
               "each output accumulated over channels and kernel taps in order.";
    }
    bool modelsAccumulation() const override { return true; }
    std::optional<std::string> supports(const ConvProblem&) const override { return std::nullopt; }
    std::size_t workspaceBytes(const ConvProblem&) const override { return 0; }

protected:
    std::unique_ptr<ConvPlan> doPlan(const ConvProblem& problem, const float* weight) const override {
        if (!detail::directFloatUnsupported(problem)) return detail::makeDirectFloatPlan(problem, weight);
        auto kernel = [](const ConvProblem& p, const float* x, const float* w, const float* b, float* y) {
            numeric::NativeArithmetic<float> arith;
            directConv(p, x, w, b, y, arith);
        };
        return std::make_unique<detail::CopiedWeightsPlan<decltype(kernel)>>(problem, weight, kernel);
    }
    void doRun(const ConvProblem& p, const double* x, const double* w, const double* b, double* y) const override {
        numeric::NativeArithmetic<double> arith;
        directConv(p, x, w, b, y, arith);
    }
    void doRun(const ConvProblem& p, const double* x, const double* w, const double* b, double* y,
               numeric::EmulatedArithmetic& arith) const override {
        if (!arith.spec().accumulation.plain())
            return detail::modelledConv(p, arith.spec(), x, w, b, y, arith.engine() == numeric::EmulationEngine::Fast);
        // Float32 lanes, unless these operands' products leave float32's precision (tf32): then as below.
        if (arith.engine() == numeric::EmulationEngine::Fast && lanes::patchLanesMayRun(arith.spec()) &&
            !lanes::patchConv(p, arith.spec(), lanes::OutsideTaps::Skipped, x, w, b, y, arith.tensorBase()))
            return;
        numeric::withEmulation(arith, [&](auto& a) { directConv(p, x, w, b, y, a); });
    }

public:
    std::string fastEmulationPath(const numeric::ComputeSpec& spec) const override {
        if (modelsAccumulation() && !spec.accumulation.plain())
            return ConvAlgorithm::fastEmulationPath(spec, lanes::patchRefusal(spec), true);
        return lanes::patchEmulationPath(spec);
    }
};

}  // namespace

std::unique_ptr<ConvAlgorithm> makeDirectConv() { return std::make_unique<DirectConv>(); }

}  // namespace ks::conv
