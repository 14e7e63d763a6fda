// Compiled with -ffp-contract=off (core/matmul/CMakeLists.txt): the error-free transformations
// below need every product and sum rounded on its own, exactly as written, as in the reference.
#include "matmul/emulated_gemm.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>

#include "base/aligned_vector.hpp"
#include "base/isa.hpp"
#include "base/parallel.hpp"
#include "matmul/lane_kernels.hpp"
#include "matmul/naive_matmul.hpp"
#include "numeric/arithmetic.hpp"
#include "numeric/fast_arithmetic.hpp"

namespace ks::matmul {

using numeric::Format;
using numeric::FormatKind;

namespace {

using numeric::fast::roundedFma;
using numeric::fast::roundedProduct;
using numeric::fast::roundedSum;
using numeric::fast::Stage;
using numeric::fast::stageOf;

/// Columns per block: the accumulators of one row block stay in L1 (2 KiB of doubles).
constexpr std::int64_t kColumns = 256;

struct Stages {
    Stage product, accumulate;
};

/// Rows [rowBegin, rowEnd) of C. Without `initial`, each sum starts with its first product (naive);
/// with it, from initial[j] (a layer's bias, or zeros), every product then added.
template <class Out>
void rowsRoundedProducts(const Stages& st, std::int64_t rowBegin, std::int64_t rowEnd, std::int64_t k, std::int64_t n,
                         const double* a, const double* b, const double* initial, Out* c) {
    alignas(64) double acc[kColumns];
    const Stage product = st.product, accumulate = st.accumulate;  // locals: loop invariants to the vectoriser
    for (std::int64_t i = rowBegin; i < rowEnd; ++i)
        for (std::int64_t j0 = 0; j0 < n; j0 += kColumns) {
            const std::int64_t w = std::min(kColumns, n - j0);
            std::int64_t first = 0;
            if (initial) {
                std::copy(initial + j0, initial + j0 + w, acc);
            } else {
                const double a0 = a[i * k];
                const double* b0 = b + j0;
                for (std::int64_t j = 0; j < w; ++j) acc[j] = roundedProduct(a0, b0[j], product);
                first = 1;
            }
            for (std::int64_t p = first; p < k; ++p) {
                const double ap = a[i * k + p];
                const double* bp = b + p * n + j0;
                for (std::int64_t j = 0; j < w; ++j)
                    acc[j] = roundedSum(acc[j], roundedProduct(ap, bp[j], product), accumulate);
            }
            for (std::int64_t j = 0; j < w; ++j) c[i * n + j0 + j] = static_cast<Out>(acc[j]);
        }
}

void rowsFusedMultiplyAdd(const Stages& st, std::int64_t rowBegin, std::int64_t rowEnd, std::int64_t k, std::int64_t n,
                          const double* a, const double* b, float* c) {
    alignas(64) double acc[kColumns];
    const Stage accumulate = st.accumulate;
    for (std::int64_t i = rowBegin; i < rowEnd; ++i)
        for (std::int64_t j0 = 0; j0 < n; j0 += kColumns) {
            const std::int64_t w = std::min(kColumns, n - j0);
            std::fill(acc, acc + w, 0.0);
            for (std::int64_t p = 0; p < k; ++p) {
                const double ap = a[i * k + p];
                const double* bp = b + p * n + j0;
                for (std::int64_t j = 0; j < w; ++j) acc[j] = roundedFma(ap, bp[j], acc[j], accumulate);
            }
            for (std::int64_t j = 0; j < w; ++j) c[i * n + j0 + j] = static_cast<float>(acc[j]);
        }
}

/// The operand rounded to the storage format once (EmulatedArithmetic::store rounds the same value the
/// same way at every use; nearest-even draws nothing).
AlignedVector<double> stored(const float* x, std::int64_t count, const Stage& storage) {
    AlignedVector<double> out(static_cast<std::size_t>(count));
    for (std::int64_t i = 0; i < count; ++i) out[std::size_t(i)] = numeric::roundNearestEven(double(x[i]), storage.rne);
    return out;
}

/// ~20 vector operations per 16 terms on float32 lanes: worth threads from a few thousand terms.
constexpr double kLaneWorkPerTerm = 4.0;

/// C = initial + A·B (or A·B) on float32 lanes, A and B already stored, k ≥ 1 for the naive order.
void laneProduct(const numeric::LaneSpec& spec, EmulatedOrder order, std::int64_t m, std::int64_t k, std::int64_t n,
                 const float* a, const float* b, const float* initial, float* c, numeric::RandomKey outputKey) {
    constexpr std::int64_t width = lanes::kLaneTileColumns;
    const std::int64_t full = n / width * width;
    AlignedVector<float> edge;
    if (full < n) {
        edge.assign(static_cast<std::size_t>(k * width), 0.0f);
        for (std::int64_t p = 0; p < k; ++p)
            std::copy(b + p * n + full, b + p * n + n, edge.data() + p * width);
    }
    lanes::GemmArgs args{&spec, order, k, n, a, k, b, n, initial, c, n};
    args.edgePanel = edge.empty() ? nullptr : edge.data();
    args.random = outputKey;
    args.elementRow = static_cast<std::uint32_t>(n);
    const lanes::Kernels& kernels = lanes::kernelsFor(activeIsa());
    parallelFor(m, kLaneWorkPerTerm * double(m) * double(k) * double(n),
                [&](std::int64_t begin, std::int64_t end) { kernels.rows(args, begin, end); });
}

}  // namespace

namespace lanes {

const Kernels& kernelsFor(Isa isa) {
    switch (isa) {
    case Isa::Avx512: return avx512::kernels;
    case Isa::Avx2: return avx2::kernels;
    case Isa::Generic: break;
    }
    return generic::kernels;
}

}  // namespace lanes

void laneRound(const numeric::Format& format, const float* in, float* out, std::int64_t count) {
    laneRound(format, in, out, count, activeIsa());
}

void laneRound(const numeric::Format& format, const float* in, float* out, std::int64_t count, Isa isa) {
    if (!isaSupported(isa)) throw std::invalid_argument("this CPU cannot run the " + isaName(isa) + " kernels");
    const numeric::LaneRounding rounding = numeric::laneRounding(format);
    lanes::kernelsFor(isa).round(rounding, in, out, count);
}

void laneRound(const numeric::Format& format, numeric::Rounding rounding, const float* in, float* out, std::int64_t count) {
    if (rounding == numeric::Rounding::Stochastic)
        throw std::invalid_argument("laneRound: stochastic rounding needs the tensor's random key (laneRoundStochastic)");
    lanes::kernelsFor(activeIsa()).round(numeric::laneRounding(format, rounding), in, out, count);
}

void laneRoundStochastic(const numeric::Format& format, numeric::RandomKey key, std::uint32_t elementBase, const float* in,
                         float* out, std::int64_t count, Isa isa) {
    if (!isaSupported(isa)) throw std::invalid_argument("this CPU cannot run the " + isaName(isa) + " kernels");
    const numeric::LaneRounding rounding = numeric::laneRounding(format, numeric::Rounding::Stochastic);
    lanes::kernelsFor(isa).roundStochastic({&rounding, key, elementBase, in, out, count});
}

void laneStore(const numeric::ComputeSpec& spec, std::uint32_t tensor, const float* in, float* out, std::int64_t count) {
    if (spec.rounding == numeric::Rounding::Stochastic)
        laneRoundStochastic(spec.storage, numeric::randomKey(spec.seed, tensor), 0, in, out, count, activeIsa());
    else laneRound(spec.storage, spec.rounding, in, out, count);
}

float laneRound(const numeric::Format& format, float x) {
    float r = 0;
    laneRound(format, &x, &r, 1);
    return r;
}

namespace {

void laneAffine(const numeric::LaneSpec& lanes, const numeric::ComputeSpec& spec, std::int64_t m, std::int64_t k,
                std::int64_t n, const float* a, const float* b, const float* initial, float* c, std::uint32_t outputTensor) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        std::copy(initial, initial + n, c);
        for (std::int64_t i = 1; i < m; ++i) std::copy(initial, initial + n, c + i * n);
        return;
    }
    laneProduct(lanes, EmulatedOrder::RoundedProducts, m, k, n, a, b, initial, c, numeric::randomKey(spec.seed, outputTensor));
}

}  // namespace

void laneEmulatedAffine(const numeric::ComputeSpec& spec, std::int64_t m, std::int64_t k, std::int64_t n,
                        const float* a, const float* b, const float* initial, float* c, std::uint32_t outputTensor) {
    laneAffine(numeric::laneSpec(spec, EmulatedOrder::RoundedProducts), spec, m, k, n, a, b, initial, c, outputTensor);
}

void laneEmulatedAffine(const numeric::ComputeSpec& spec, numeric::StoredExponents aBounds, numeric::StoredExponents bBounds,
                        std::int64_t m, std::int64_t k, std::int64_t n, const float* a, const float* b, const float* initial,
                        float* c, std::uint32_t outputTensor) {
    laneAffine(numeric::laneSpec(spec, EmulatedOrder::RoundedProducts, aBounds, bBounds), spec, m, k, n, a, b, initial, c,
               outputTensor);
}

std::optional<std::string> fastEngineRefusal(const numeric::ComputeSpec& spec, EmulatedOrder order) {
    const auto laneReason = numeric::laneRefusal(spec, order);
    if (!laneReason || numeric::laneRefusalDependsOnData(spec, order)) return std::nullopt;
    auto doubleReason = numeric::fastArithmeticRefusal(spec);
    // The double lanes round to nearest only: for the other modes the float32 lanes' reason is the one that counts.
    if (doubleReason && spec.rounding != numeric::Rounding::NearestEven && !spec.native) return laneReason;
    return doubleReason;
}

namespace {

/// The fast engine's run on the lanes `lanes` allows, or why it cannot run these operands (nothing written then).
/// `engine` gets what it ran on.
std::optional<std::string> runFast(EmulatedOrder order, const numeric::ComputeSpec& spec, std::int64_t m, std::int64_t k,
                                   std::int64_t n, const float* a, const float* b, float* c, EmulationLanes lanes,
                                   std::string* engine) {
    std::optional<std::string> laneReason = numeric::laneRefusal(spec, order);
    // Formats with float32's exponent range (bf16, tf32) are refused for their extremes, where products fall
    // below float32's precision; the operands themselves usually stay far from them: store them and look.
    const bool lookAtOperands = laneReason && lanes != EmulationLanes::Float64 && numeric::laneRefusalDependsOnData(spec, order);
    const bool tryLanes = lanes != EmulationLanes::Float64 && (!laneReason || lookAtOperands);
    const std::optional<std::string> doubleReason =
        lanes == EmulationLanes::Float32 ? std::optional<std::string>("float32 lanes only") : numeric::fastArithmeticRefusal(spec);
    // The double lanes round to nearest only: for the other modes the float32 lanes' reason is the one that counts.
    auto refusal = [&]() -> std::string {
        if (lanes == EmulationLanes::Float32 || (spec.rounding != numeric::Rounding::NearestEven && laneReason)) return *laneReason;
        return *doubleReason;
    };
    if (!tryLanes && doubleReason) return refusal();
    if (m <= 0 || n <= 0) return std::nullopt;
    if (k <= 0) {  // as the reference: no term, and the fused order's zero; the other order has no empty sum
        if (order == EmulatedOrder::RoundedProducts)
            throw std::invalid_argument("fast emulated GEMM: the rounded-products order needs k ≥ 1");
        std::fill(c, c + m * n, 0.0f);
        return std::nullopt;
    }
    if (tryLanes) {
        const lanes::Kernels& kernels = lanes::kernelsFor(activeIsa());
        const numeric::LaneRounding storage = numeric::laneRounding(spec.storage, spec.rounding);
        AlignedVector<float> as(static_cast<std::size_t>(m * k)), bs(static_cast<std::size_t>(k * n));
        if (spec.rounding == numeric::Rounding::Stochastic) {
            // naiveMatmul's sites: A is RandomTensor::Input, B Weight, C Output.
            using numeric::RandomTensor;
            kernels.roundStochastic({&storage, numeric::randomKey(spec.seed, numeric::randomTensor(RandomTensor::Input)), 0, a,
                                     as.data(), m * k});
            kernels.roundStochastic({&storage, numeric::randomKey(spec.seed, numeric::randomTensor(RandomTensor::Weight)), 0, b,
                                     bs.data(), k * n});
        } else {
            kernels.round(storage, a, as.data(), m * k);
            kernels.round(storage, b, bs.data(), k * n);
        }
        numeric::StoredExponents ea = numeric::storedExponents(spec.storage), eb = ea;
        if (lookAtOperands) {
            ea = numeric::storedExponents(spec.storage, as.data(), m * k);
            eb = numeric::storedExponents(spec.storage, bs.data(), k * n);
            laneReason = numeric::laneRefusal(spec, order, ea, eb);
        }
        if (!laneReason) {
            laneProduct(numeric::laneSpec(spec, order, ea, eb), order, m, k, n, as.data(), bs.data(), nullptr, c,
                        numeric::randomKey(spec.seed, numeric::randomTensor(numeric::RandomTensor::Output)));
            if (engine) *engine = "float32 " + isaName(activeIsa());
            return std::nullopt;
        }
        if (doubleReason) return refusal() + " (these operands' products reach that far)";
    }
    const Stage storage = stageOf(spec.storage);
    const Stages stages{stageOf(spec.product), stageOf(spec.accumulate)};
    const AlignedVector<double> as = stored(a, m * k, storage), bs = stored(b, k * n, storage);
    // ~40 double operations a term: worth threads from a few thousand terms.
    const double work = 40.0 * double(m) * double(k) * double(n);
    parallelFor(m, work, [&](std::int64_t begin, std::int64_t end) {
        if (order == EmulatedOrder::RoundedProducts)
            rowsRoundedProducts(stages, begin, end, k, n, as.data(), bs.data(), static_cast<const double*>(nullptr), c);
        else rowsFusedMultiplyAdd(stages, begin, end, k, n, as.data(), bs.data(), c);
    });
    if (engine) *engine = "double";
    return std::nullopt;
}

}  // namespace

void fastEmulatedGemm(EmulatedOrder order, const numeric::ComputeSpec& spec, std::int64_t m, std::int64_t k,
                      std::int64_t n, const float* a, const float* b, float* c, EmulationLanes lanes) {
    if (auto reason = runFast(order, spec, m, k, n, a, b, c, lanes, nullptr))
        throw std::invalid_argument(std::string(lanes == EmulationLanes::Float32 ? "fast emulated GEMM on float32 lanes: "
                                                                                  : "fast emulated GEMM: ") + *reason);
}

std::optional<std::string> tryFastEmulatedGemm(EmulatedOrder order, const numeric::ComputeSpec& spec, std::int64_t m,
                                               std::int64_t k, std::int64_t n, const float* a, const float* b, float* c,
                                               std::string* engine) {
    return runFast(order, spec, m, k, n, a, b, c, EmulationLanes::Auto, engine);
}

void fastEmulatedAffine(const numeric::ComputeSpec& spec, std::int64_t m, std::int64_t k, std::int64_t n,
                        const double* a, const double* b, const double* initial, double* c) {
    if (auto reason = numeric::fastArithmeticRefusal(spec)) throw std::invalid_argument("fast emulated GEMM: " + *reason);
    const Stages stages{stageOf(spec.product), stageOf(spec.accumulate)};
    parallelFor(m, 40.0 * double(m) * double(k) * double(n), [&](std::int64_t begin, std::int64_t end) {
        rowsRoundedProducts(stages, begin, end, k, n, a, b, initial, c);
    });
}

MatmulReport emulatedProduct(EmulatedOrder order, const MatmulProblem& p, std::span<const float> a,
                             std::span<const float> b, std::span<float> c, const MatmulOptions& options) {
    if (!options.compute.accumulation.plain())
        return modelledProduct(p, a, b, c, options.compute, options.emulation == Emulation::Fast);
    MatmulReport report;
    if (options.emulation == Emulation::Fast) {
        const auto refusal = tryFastEmulatedGemm(order, options.compute, p.m, p.k, p.n, a.data(), b.data(), c.data(), &report.engine);
        if (!refusal) return report;
        report.note = "reference emulation: " + *refusal;
    }
    report.engine = "reference";
    numeric::EmulatedArithmetic arith(options.compute, numeric::EmulationEngine::Reference);
    if (order == EmulatedOrder::RoundedProducts) naiveMatmul(arith, p.m, p.k, p.n, a.data(), b.data(), c.data());
    else fmaMatmul(arith, p.m, p.k, p.n, a.data(), b.data(), c.data());
    return report;
}

}  // namespace ks::matmul
