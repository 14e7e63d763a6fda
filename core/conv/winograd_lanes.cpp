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

LaneMatrix laneMatrix(const std::vector<double>& dense, int rows, int cols, const numeric::ComputeSpec& spec) {
    LaneMatrix m;
    m.rows = rows;
    m.cols = cols;
    m.start.push_back(0);
    for (int i = 0; i < rows; ++i) {
        for (int j = 0; j < cols; ++j) {
            const double v = dense[static_cast<std::size_t>(i * cols + j)];
            if (v == 0.0) continue;
            m.column.push_back(j);
            m.coefficient.push_back(stored(v, spec));
        }
        m.start.push_back(static_cast<int>(m.column.size()));
    }
    return m;
}

/// The phases' shared state: the spec's lane constants, the kernels and the three matrices.
struct Context {
    numeric::LaneSpec spec;
    const matmul::lanes::Kernels& kernels;
    LaneMatrix AT, G, BT;
    int m, alpha;

    /// out[i][j][·] = Σ left[i][a] Σ right[j][b] in[a][b][·] over kTiles lanes (conv_winograd.cpp's
    /// sandwich: the left matrix first); `term` added at the end. in: [left.cols][right.cols][kTiles].
    void sandwich(const LaneMatrix& left, const LaneMatrix& right, bool accumulatedInput, const float* in, float* tmp,
                  float* out, const float* term = nullptr) const {
        const std::int64_t row = right.cols * kTiles;
        CombineArgs first{&spec, accumulatedInput, left.rows, left.start.data(), left.column.data(),
                          left.coefficient.data(), 1, row, in, 0, tmp, 0};
        kernels.combine(first);
        CombineArgs second{&spec, true, right.rows, right.start.data(), right.column.data(), right.coefficient.data(),
                           left.rows, kTiles, tmp, row, out, right.rows * kTiles};
        second.term = term;
        kernels.combine(second);
    }
};

}  // namespace

std::optional<std::string> winogradRefusal(const numeric::ComputeSpec& spec) {
    return numeric::laneMixedProductRefusal(spec);
}

void winogradConv(const ConvProblem& pr, const numeric::ComputeSpec& spec, const WinogradTransforms& t,
                  const double* input, const double* weight, const double* bias, double* output) {
    if (auto reason = winogradRefusal(spec)) throw std::invalid_argument("float32 lanes: " + *reason);
    const Context cx{numeric::laneSpec(spec, EmulatedOrder::RoundedProducts),
                     matmul::lanes::kernelsFor(activeIsa()),
                     laneMatrix(t.AT, t.m, t.alpha, spec),
                     laneMatrix(t.G, t.alpha, t.r, spec),
                     laneMatrix(t.BT, t.alpha, t.alpha, spec),
                     t.m,
                     t.alpha};
    const int a = t.alpha, m = t.m;
    const std::int64_t a2 = a * a, K = pr.K, C = pr.C, KC = K * C, P = pr.P(), Q = pr.Q();
    const std::vector<float> x = stored(input, pr.inputCount(), spec);
    const std::vector<float> w = stored(weight, pr.weightCount(), spec);
    const std::vector<float> b = bias ? stored(bias, K, spec) : std::vector<float>{};
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
            cx.sandwich(cx.G, cx.G, false, g.data(), tmp.data(), out.data());
            cx.kernels.round(cx.spec.storage, out.data(), out.data(), a2 * kTiles);
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
            cx.sandwich(cx.BT, cx.BT, false, d.data(), tmp.data(), out.data());
            cx.kernels.round(cx.spec.storage, out.data(), out.data(), a2 * kTiles);
            const std::int64_t tg = n * tilesPerImage + t0;
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
            cx.sandwich(cx.AT, cx.AT, true, in.data(), tmp.data(), out.data(), bias ? b.data() + k : nullptr);
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
