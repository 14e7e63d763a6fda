#include "conv/conv_lanes.hpp"

#include <algorithm>
#include <stdexcept>
#include <span>
#include <vector>

#include "base/aligned_vector.hpp"
#include "base/isa.hpp"
#include "base/parallel.hpp"
#include "conv/conv_algorithm.hpp"
#include "matmul/lane_kernels.hpp"
#include "numeric/lane_rounding.hpp"
#include "numeric/round.hpp"

namespace ks::conv::lanes {

namespace {

using numeric::EmulatedOrder;

/// Output pixels per block: a multiple of the lane tile, so the patch's rows are read in whole tiles;
/// C·R·S × 256 floats (0.6 MB for 64 channels of 3×3) stay in L2.
constexpr std::int64_t kBlockColumns = 256;
static_assert(kBlockColumns % matmul::lanes::kLaneTileColumns == 0);

}  // namespace

std::vector<float> stored(const double* x, std::int64_t count, const numeric::ComputeSpec& spec,
                          const numeric::RandomKey* key) {
    std::vector<double> rounded(x, x + count);
    numeric::roundInPlace(std::span<double>(rounded), spec.storage, spec.rounding, key);
    return {rounded.begin(), rounded.end()};
}

float stored(double x, const numeric::ComputeSpec& spec) { return stored(&x, 1, spec)[0]; }

std::optional<std::string> patchRefusal(const numeric::ComputeSpec& spec) {
    return numeric::laneRefusal(spec, EmulatedOrder::RoundedProducts);
}

bool patchLanesMayRun(const numeric::ComputeSpec& spec) {
    return !patchRefusal(spec) || numeric::laneRefusalDependsOnData(spec, EmulatedOrder::RoundedProducts);
}

std::string patchEmulationPath(const numeric::ComputeSpec& spec) {
    const auto refusal = patchRefusal(spec);
    if (!refusal || !patchLanesMayRun(spec)) return ConvAlgorithm::fastEmulationPath(spec, refusal);
    return "float32 " + isaName(activeIsa()) + " where the operands allow, else " + ConvAlgorithm::fastEmulationPath(spec, refusal);
}

std::optional<std::string> patchConv(const ConvProblem& pr, const numeric::ComputeSpec& spec, OutsideTaps outside,
                                     const double* input, const double* weight, const double* bias, double* output,
                                     std::uint32_t tensorBase) {
    const auto refusal = patchRefusal(spec);
    if (refusal && !numeric::laneRefusalDependsOnData(spec, EmulatedOrder::RoundedProducts))
        throw std::invalid_argument("float32 lanes: " + *refusal);
    // Stochastic rounding's sites, as direct's and im2col's loops over EmulatedArithmetic key them.
    using numeric::RandomTensor;
    auto keyOf = [&](RandomTensor role) { return numeric::randomKey(spec.seed, tensorBase + numeric::randomTensor(role)); };
    const numeric::RandomKey inputKey = keyOf(RandomTensor::Input), weightKey = keyOf(RandomTensor::Weight),
                             biasKey = keyOf(RandomTensor::Bias), outputKey = keyOf(RandomTensor::Output);
    const std::vector<float> x = stored(input, pr.inputCount(), spec, &inputKey);
    const std::vector<float> w = stored(weight, pr.weightCount(), spec, &weightKey);
    const std::vector<float> b = bias ? stored(bias, pr.K, spec, &biasKey) : std::vector<float>{};
    // Formats with float32's exponent range: the products of these weights and inputs must stay exact in float32
    // (the bias is a sum's term, not a product's factor).
    numeric::StoredExponents weightBounds = numeric::storedExponents(spec.storage), inputBounds = weightBounds;
    if (refusal) {
        weightBounds = numeric::storedExponents(spec.storage, w.data(), std::int64_t(w.size()));
        inputBounds = numeric::storedExponents(spec.storage, x.data(), std::int64_t(x.size()));
        if (auto reason = numeric::laneRefusal(spec, EmulatedOrder::RoundedProducts, weightBounds, inputBounds))
            return *reason + " (these operands' products reach that far)";
    }
    const numeric::LaneSpec laneSpec = numeric::laneSpec(spec, EmulatedOrder::RoundedProducts, weightBounds, inputBounds);
    const std::int64_t P = pr.P(), Q = pr.Q(), PQ = P * Q, RS = pr.R * pr.S, CRS = pr.C * RS;
    std::vector<float> y(static_cast<std::size_t>(pr.outputCount()));
    const bool skip = outside == OutsideTaps::Skipped;
    const std::int64_t blocksPerImage = (PQ + kBlockColumns - 1) / kBlockColumns;
    const matmul::lanes::Kernels& kernels = matmul::lanes::kernelsFor(activeIsa());
    const AlignedVector<float> zeros(static_cast<std::size_t>(kBlockColumns), 0.0f);
    // ~20 vector operations per 16 terms, as the matrix products.
    const double work = 4.0 * double(pr.K) * double(CRS) * double(PQ) * double(pr.N);
    parallelFor(pr.N * blocksPerImage, work, [&](std::int64_t begin, std::int64_t end) {
        AlignedVector<float> patch(static_cast<std::size_t>(CRS * kBlockColumns));
        // Per tap (r, s) and pixel j of the block: the input's offset in its channel plane, −1 outside the
        // image (and past the block's last pixel); keep is the same as a mask.
        std::vector<std::int64_t> offset(static_cast<std::size_t>(RS * kBlockColumns));
        AlignedVector<std::int32_t> keep(skip ? offset.size() : 0);
        for (std::int64_t unit = begin; unit < end; ++unit) {
            const std::int64_t n = unit / blocksPerImage, col0 = unit % blocksPerImage * kBlockColumns;
            const std::int64_t cols = std::min(kBlockColumns, PQ - col0);
            for (std::int64_t rs = 0; rs < RS; ++rs) {
                const std::int64_t r = rs / pr.S, s = rs % pr.S;
                for (std::int64_t j = 0; j < kBlockColumns; ++j) {
                    const std::int64_t pixel = col0 + j;
                    const std::int64_t ih = pixel / Q * pr.strideH + r - pr.padH, iw = pixel % Q * pr.strideW + s - pr.padW;
                    const bool inside = j < cols && ih >= 0 && ih < pr.H && iw >= 0 && iw < pr.W;
                    offset[static_cast<std::size_t>(rs * kBlockColumns + j)] = inside ? ih * pr.W + iw : -1;
                    if (skip) keep[static_cast<std::size_t>(rs * kBlockColumns + j)] = inside ? -1 : 0;
                }
            }
            // The patch: row (c, r, s), column j the input under tap (r, s) of output pixel col0 + j, or zero.
            for (std::int64_t c = 0; c < pr.C; ++c) {
                const float* plane = x.data() + (n * pr.C + c) * pr.H * pr.W;
                float* rows = patch.data() + c * RS * kBlockColumns;
                for (std::int64_t i = 0; i < RS * kBlockColumns; ++i) {
                    const std::int64_t at = offset[static_cast<std::size_t>(i)];
                    rows[i] = at >= 0 ? plane[at] : 0.0f;
                }
            }
            matmul::lanes::GemmArgs args{&laneSpec, EmulatedOrder::RoundedProducts, CRS, cols, w.data(), CRS,
                                         patch.data(), kBlockColumns, zeros.data(), y.data() + n * pr.K * PQ + col0, PQ};
            args.rowTerm = bias ? b.data() : nullptr;
            args.random = outputKey;
            args.elementBase = static_cast<std::uint32_t>(n * pr.K * PQ + col0);
            args.elementRow = static_cast<std::uint32_t>(PQ);
            if (skip) {
                args.keep = keep.data();
                args.keepPeriod = RS;
            }
            kernels.rows(args, 0, pr.K);
        }
    });
    std::copy(y.begin(), y.end(), output);
    return std::nullopt;
}

}  // namespace ks::conv::lanes
