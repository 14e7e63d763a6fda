// Winograd's emulated run on float32 lanes: the four phases of conv_winograd.cpp's generic definition
// (filter transform, input transform, α² products over channels, output transform) with the same
// operations in the same order, kCombineLength tiles side by side in the transforms' lanes
// (matmul::lanes::CombineArgs) and the products as lane matrix products with sums from +0.
#include <algorithm>
#include <stdexcept>
#include <vector>

#include "base/aligned_vector.hpp"
#include "base/isa.hpp"
#include "base/parallel.hpp"
#include "conv/conv_lanes.hpp"
#include "conv/winograd_sites.hpp"
#include "matmul/lane_kernels.hpp"
#include "numeric/lane_rounding.hpp"
#include "numeric/round_nearest_even.hpp"

namespace ks::conv::lanes {

namespace {

using matmul::lanes::CombineArgs;
using matmul::lanes::kCombineLength;
using numeric::EmulatedOrder;

constexpr std::int64_t kTiles = kCombineLength;  // tiles (or filters) per block

/// A transform matrix as its non-zero entries row by row (the reference skips the same zeros), the
/// coefficients in the storage format.
struct LaneMatrix {
    int rows = 0, cols = 0;
    std::vector<int> start, column;
    std::vector<float> coefficient;
};

/// Entry (i, j) stored as the reference stores it: element firstElement + i·cols + j of `key`'s tensor
/// (RandomTensor::TransformMatrices) under stochastic rounding.
LaneMatrix laneMatrix(const std::vector<double>& dense, int rows, int cols, const numeric::ComputeSpec& spec,
                      const numeric::RandomKey& key, std::size_t firstElement) {
    LaneMatrix m;
    m.rows = rows;
    m.cols = cols;
    m.start.push_back(0);
    std::vector<double> sites(firstElement + dense.size(), 0.0);
    std::copy(dense.begin(), dense.end(), sites.begin() + std::ptrdiff_t(firstElement));
    const std::vector<float> rounded = stored(sites.data(), std::int64_t(sites.size()), spec, &key);
    for (int i = 0; i < rows; ++i) {
        for (int j = 0; j < cols; ++j) {
            const double v = dense[static_cast<std::size_t>(i * cols + j)];
            if (v == 0.0) continue;
            m.column.push_back(j);
            m.coefficient.push_back(rounded[firstElement + static_cast<std::size_t>(i * cols + j)]);
        }
        m.start.push_back(static_cast<int>(m.column.size()));
    }
    return m;
}

/// A sandwich's sites for one block of lanes (winograd_sites.hpp): the stages' keys and elements.
struct Sites {
    numeric::RandomKey firstKey, secondKey;
    winograd_sites::Stages elements;
};

/// The phases' shared state: the spec's lane constants, the kernels and the three matrices.
struct Context {
    numeric::LaneSpec spec;
    const matmul::lanes::Kernels& kernels;
    LaneMatrix AT, G, BT;
    int m, alpha;

    /// out[i][j][·] = Σ left[i][a] Σ right[j][b] in[a][b][·] over kTiles lanes (conv_winograd.cpp's
    /// sandwich: the left matrix first); `term` added at the end. in: [left.cols][right.cols][kTiles].
    /// Stochastic rounding draws at the reference's sites (its SandwichSites, the lanes' first element given).
    void sandwich(const LaneMatrix& left, const LaneMatrix& right, bool accumulatedInput, const float* in, float* tmp,
                  float* out, const Sites& sites, const float* term = nullptr) const {
        const std::int64_t row = right.cols * kTiles;
        CombineArgs first{&spec, accumulatedInput, left.rows, left.start.data(), left.column.data(),
                          left.coefficient.data(), 1, row, in, 0, tmp, 0};
        // Elements modulo 2^32, as the reference's sites take them.
        const winograd_sites::Stages& at = sites.elements;
        first.random = sites.firstKey;
        first.elementBase = std::uint32_t(at.first);
        first.elementRow = std::uint32_t(at.firstRow);
        first.elementBlock = std::uint32_t(at.column);
        kernels.combine(first);
        CombineArgs second{&spec, true, right.rows, right.start.data(), right.column.data(), right.coefficient.data(),
                           left.rows, kTiles, tmp, row, out, right.rows * kTiles};
        second.term = term;
        second.random = sites.secondKey;
        second.elementBase = std::uint32_t(at.second);
        second.elementGroup = std::uint32_t(at.secondGroup);
        second.elementRow = std::uint32_t(at.secondRow);
        kernels.combine(second);
    }
    /// Stores `out` ([ξ][kTiles]) in the storage format, ξ's first lane at element firstElement(ξ) of `key`'s
    /// tensor under stochastic rounding.
    template <class FirstElement>
    void store(float* out, std::int64_t a2, const numeric::RandomKey& key, FirstElement firstElement) const {
        if (spec.rounding != numeric::Rounding::Stochastic) {
            kernels.round(spec.storage, out, out, a2 * kTiles);
            return;
        }
        for (std::int64_t xi = 0; xi < a2; ++xi)
            kernels.roundStochastic({&spec.storage, key, firstElement(xi), out + xi * kTiles, out + xi * kTiles, kTiles});
    }
};

}  // namespace

std::optional<std::string> winogradRefusal(const numeric::ComputeSpec& spec) {
    return numeric::laneMixedProductRefusal(spec);
}

void winogradConv(const ConvProblem& pr, const numeric::ComputeSpec& spec, const WinogradTransforms& t,
                  const double* input, const double* weight, const double* bias, double* output, std::uint32_t tensorBase) {
    if (auto reason = winogradRefusal(spec)) throw std::invalid_argument("float32 lanes: " + *reason);
    // Stochastic rounding's sites, as conv_winograd.cpp's generic definition keys them.
    using numeric::RandomTensor;
    auto keyOf = [&](RandomTensor role) { return numeric::randomKey(spec.seed, tensorBase + numeric::randomTensor(role)); };
    const numeric::RandomKey matrices = keyOf(RandomTensor::TransformMatrices);
    numeric::LaneSpec laneSpec = numeric::laneSpec(spec, EmulatedOrder::RoundedProducts);
    // The second stages multiply coefficients by sums: products that may fall below float32's precision are formed
    // scaled (stochastic rounding rounds the exact product).
    if (spec.rounding == numeric::Rounding::Stochastic)
        laneSpec.tinyProducts = laneSpec.tinyProducts || numeric::storedExponents(spec.storage).lastPlace +
                                                                 numeric::storedExponents(spec.accumulate).lastPlace < -149;
    const Context cx{laneSpec,
                     matmul::lanes::kernelsFor(activeIsa()),
                     laneMatrix(t.AT, t.m, t.alpha, spec, matrices, winograd_sites::kAT),
                     laneMatrix(t.G, t.alpha, t.r, spec, matrices, winograd_sites::kG),
                     laneMatrix(t.BT, t.alpha, t.alpha, spec, matrices, winograd_sites::kBT),
                     t.m,
                     t.alpha};
    const int a = t.alpha, m = t.m;
    const std::int64_t a2 = a * a, K = pr.K, C = pr.C, KC = K * C, P = pr.P(), Q = pr.Q();
    const numeric::RandomKey inputKey = keyOf(RandomTensor::Input), weightKey = keyOf(RandomTensor::Weight),
                             biasKey = keyOf(RandomTensor::Bias);
    const std::vector<float> x = stored(input, pr.inputCount(), spec, &inputKey);
    const std::vector<float> w = stored(weight, pr.weightCount(), spec, &weightKey);
    const std::vector<float> b = bias ? stored(bias, pr.K, spec, &biasKey) : std::vector<float>{};
    const numeric::RandomKey filterKey = keyOf(RandomTensor::FilterTransform), filterStore = keyOf(RandomTensor::FilterStore),
                             inputTransform = keyOf(RandomTensor::InputTransform), inputStore = keyOf(RandomTensor::InputStore),
                             productsKey = keyOf(RandomTensor::TileProducts),
                             outputTransform = keyOf(RandomTensor::OutputTransform), outputKey = keyOf(RandomTensor::Output);
    const auto u32 = [](std::uint64_t v) { return static_cast<std::uint32_t>(v); };
    using U64 = std::uint64_t;
    const std::int64_t tilesH = (P + m - 1) / m, tilesW = (Q + m - 1) / m, tilesPerImage = tilesH * tilesW;
    const std::int64_t T = pr.N * tilesPerImage;
    // The products' rows padded to whole lane tiles, so that the lane products read them without an
    // edge panel; the padding holds zeros (their columns are computed and never read).
    const std::int64_t Tpad = (T + matmul::lanes::kLaneTileColumns - 1) / matmul::lanes::kLaneTileColumns *
                              matmul::lanes::kLaneTileColumns;
    AlignedVector<float> U(static_cast<std::size_t>(a2 * KC)), Vt(static_cast<std::size_t>(a2 * C * Tpad), 0.0f),
        M(static_cast<std::size_t>(a2 * K * Tpad));

    // U[ξ][k][c] = (G g Gᵀ)[ξ], stored: kTiles filters per block.
    const std::int64_t filterBlocks = (KC + kTiles - 1) / kTiles;
    parallelFor(filterBlocks, 8.0 * double(KC) * double(a2) * 3, [&](std::int64_t begin, std::int64_t end) {
        AlignedVector<float> g(static_cast<std::size_t>(9 * kTiles)), tmp(static_cast<std::size_t>(a * 3 * kTiles)),
            out(static_cast<std::size_t>(a2 * kTiles));
        for (std::int64_t block = begin; block < end; ++block) {
            const std::int64_t kc0 = block * kTiles, count = std::min(kTiles, KC - kc0);
            for (std::int64_t l = 0; l < kTiles; ++l)
                for (int e = 0; e < 9; ++e)
                    g[static_cast<std::size_t>(e * kTiles + l)] = l < count ? w[static_cast<std::size_t>((kc0 + l) * 9 + e)] : 0.0f;
            const Sites sites{filterKey, filterKey, winograd_sites::filter(U64(kc0), U64(KC), U64(a))};
            cx.sandwich(cx.G, cx.G, false, g.data(), tmp.data(), out.data(), sites);
            cx.store(out.data(), a2, filterStore, [&](std::int64_t xi) { return u32(winograd_sites::filterStore(U64(xi), U64(kc0), U64(KC))); });
            for (std::int64_t xi = 0; xi < a2; ++xi)
                std::copy_n(out.data() + xi * kTiles, count, U.data() + xi * KC + kc0);
        }
    });

    // V[ξ][c][t] = (Bᵀ d B)[ξ], stored: kTiles consecutive tiles of one image plane per block.
    const std::int64_t tileBlocks = (tilesPerImage + kTiles - 1) / kTiles;
    parallelFor(pr.N * C * tileBlocks, 8.0 * double(C * T) * double(a2) * a, [&](std::int64_t begin, std::int64_t end) {
        AlignedVector<float> d(static_cast<std::size_t>(a2 * kTiles)), tmp(d.size()), out(d.size());
        for (std::int64_t unit = begin; unit < end; ++unit) {
            const std::int64_t block = unit % tileBlocks, c = unit / tileBlocks % C, n = unit / (tileBlocks * C);
            const float* plane = x.data() + (n * C + c) * pr.H * pr.W;
            const std::int64_t t0 = block * kTiles, count = std::min(kTiles, tilesPerImage - t0);
            for (std::int64_t l = 0; l < kTiles; ++l) {
                const std::int64_t ih0 = (t0 + l) / tilesW * m - pr.padH, iw0 = (t0 + l) % tilesW * m - pr.padW;
                for (int i = 0; i < a; ++i)
                    for (int j = 0; j < a; ++j) {
                        const std::int64_t ih = ih0 + i, iw = iw0 + j;
                        const bool inside = l < count && ih >= 0 && ih < pr.H && iw >= 0 && iw < pr.W;
                        d[static_cast<std::size_t>((i * a + j) * kTiles + l)] = inside ? plane[ih * pr.W + iw] : 0.0f;
                    }
            }
            const std::int64_t tg = n * tilesPerImage + t0;
            const Sites sites{inputTransform, inputTransform, winograd_sites::input(U64(c), U64(tg), U64(C), U64(T), U64(a))};
            cx.sandwich(cx.BT, cx.BT, false, d.data(), tmp.data(), out.data(), sites);
            cx.store(out.data(), a2, inputStore,
                     [&](std::int64_t xi) { return u32(winograd_sites::inputStore(U64(xi), U64(c), U64(tg), U64(C), U64(T))); });
            for (std::int64_t xi = 0; xi < a2; ++xi)
                std::copy_n(out.data() + xi * kTiles, count, Vt.data() + (xi * C + c) * Tpad + tg);
        }
    });

    // M[ξ] = U[ξ] · V[ξ]: α² lane products, K × C by C × T, each sum from +0; units are (ξ, row).
    const AlignedVector<float> zeros(static_cast<std::size_t>(Tpad), 0.0f);
    parallelFor(a2 * K, 4.0 * double(a2) * double(KC) * double(T), [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t unit = begin; unit < end;) {
            const std::int64_t xi = unit / K, row = unit % K, rowEnd = std::min(K, row + (end - unit));
            matmul::lanes::GemmArgs args{&cx.spec, EmulatedOrder::RoundedProducts, C, T, U.data() + xi * KC, C,
                                         Vt.data() + xi * C * Tpad, Tpad, zeros.data(), M.data() + xi * K * Tpad, Tpad};
            args.random = productsKey;
            args.elementBase = u32(winograd_sites::tileProduct(U64(xi), 0, 0, U64(K), U64(T)));
            args.elementRow = u32(winograd_sites::tileProduct(0, 1, 0, U64(K), U64(T)));
            cx.kernels.rows(args, row, rowEnd);
            unit += rowEnd - row;
        }
    });

    // y = Aᵀ M A (+ bias), per block of kTiles tiles of one output plane.
    std::vector<float> y(static_cast<std::size_t>(pr.outputCount()));
    parallelFor(pr.N * K * tileBlocks, 8.0 * double(K * T) * double(a2) * m, [&](std::int64_t begin, std::int64_t end) {
        AlignedVector<float> in(static_cast<std::size_t>(a2 * kTiles)), tmp(in.size()), out(in.size());
        for (std::int64_t unit = begin; unit < end; ++unit) {
            const std::int64_t block = unit % tileBlocks, k = unit / tileBlocks % K, n = unit / (tileBlocks * K);
            const std::int64_t t0 = block * kTiles, count = std::min(kTiles, tilesPerImage - t0);
            const std::int64_t tg = n * tilesPerImage + t0;
            for (std::int64_t xi = 0; xi < a2; ++xi) {
                const float* src = M.data() + (xi * K + k) * Tpad + tg;
                for (std::int64_t l = 0; l < kTiles; ++l) in[static_cast<std::size_t>(xi * kTiles + l)] = l < count ? src[l] : 0.0f;
            }
            const Sites sites{outputTransform, outputKey, winograd_sites::output(U64(k), U64(tg), U64(T), U64(a), U64(m))};
            cx.sandwich(cx.AT, cx.AT, true, in.data(), tmp.data(), out.data(), sites, bias ? b.data() + k : nullptr);
            float* plane = y.data() + (n * K + k) * P * Q;
            for (std::int64_t l = 0; l < count; ++l) {
                const std::int64_t oh0 = (t0 + l) / tilesW * m, ow0 = (t0 + l) % tilesW * m;
                const std::int64_t rows = std::min<std::int64_t>(m, P - oh0), cols = std::min<std::int64_t>(m, Q - ow0);
                for (std::int64_t i = 0; i < rows; ++i)
                    for (std::int64_t j = 0; j < cols; ++j)
                        plane[(oh0 + i) * Q + ow0 + j] = out[static_cast<std::size_t>((i * m + j) * kTiles + l)];
            }
        }
    });
    std::copy(y.begin(), y.end(), output);
}

}  // namespace ks::conv::lanes
