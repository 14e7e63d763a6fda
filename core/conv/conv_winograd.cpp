// winograd-MxM: F(m×m, 3×3) minimal filtering with Cook–Toom transforms generated from the
// interpolation points (winograd_transform.hpp). Batched-GEMM formulation (Lavin & Gray):
//   U[ξ][k][c] = (G g_kc Gᵀ)[ξ]           filter transform, once per weight (in the plan)
//   V[ξ][c][t] = (Bᵀ d_ct B)[ξ]           input transform of every α×α tile t
//   M[ξ]       = U[ξ] · V[ξ]              α² GEMMs of K×C by C×T (the reduction over channels)
//   y tile     = Aᵀ M[·][k][t] A          output transform
// This file is the generic definition (double, emulated arithmetic, and float32 where the AVX2 path
// does not apply): tiles 8 at a time, the transforms skipping the zero entries of the generated
// matrices. The float32 plan runs winograd_avx2.hpp for α = 4, 6, 8. Partial tiles at the right and
// bottom edges read zeros and write only the outputs that exist, so any H and W work.
#include <algorithm>
#include <cmath>
#include <type_traits>


#include "base/parallel.hpp"
#include "conv/conv_gemm.hpp"
#include "base/isa.hpp"
#include "conv/conv_kernel_util.hpp"
#include "conv/conv_lanes.hpp"
#include "conv/conv_registry.hpp"
#include "numeric/fast_arithmetic.hpp"
#include "numeric/modelled_dot.hpp"
#include "numeric/scaled_format.hpp"
#include "conv/winograd_sites.hpp"
#include "conv/winograd_transform.hpp"

#if defined(__AVX2__) && defined(__FMA__)
#define KS_WINOGRAD_AVX2 1
#include "conv/winograd_avx2.hpp"
#endif

namespace ks::conv {

namespace {

constexpr int kLanes = 8;

/// A small dense matrix kept as its non-zero entries, row by row.
template <class V>
struct SparseRows {
    int rows = 0, cols = 0;
    std::vector<int> start;  ///< rows + 1 offsets into col / coef
    std::vector<int> col;
    std::vector<V> coef;
};

/// A transform matrix's entry (i, j) is stored at element firstElement + i·cols + j of RandomTensor::TransformMatrices
/// (winograd_sites.hpp).
template <class V, class Arith>
SparseRows<V> sparseRows(const std::vector<double>& dense, int rows, int cols, Arith& arith, std::uint64_t firstElement) {
    SparseRows<V> s;
    s.rows = rows;
    s.cols = cols;
    s.start.push_back(0);
    for (int i = 0; i < rows; ++i) {
        for (int j = 0; j < cols; ++j) {
            const double v = dense[static_cast<std::size_t>(i * cols + j)];
            if (v == 0.0) continue;
            s.col.push_back(j);
            arith.at(numeric::randomTensor(numeric::RandomTensor::TransformMatrices), firstElement + std::uint64_t(i * cols + j));
            s.coef.push_back(arith.store(static_cast<V>(v)));  // the matrices live in the storage format
        }
        s.start.push_back(static_cast<int>(s.col.size()));
    }
    return s;
}

/// Where a sandwich's roundings draw under stochastic rounding: its stages' elements (winograd_sites.hpp, lane l
/// adding l) in `firstTensor` and `secondTensor`.
struct SandwichSites {
    std::uint32_t firstTensor = 0, secondTensor = 0;
    winograd_sites::Stages elements{};
};

/// out = Left · in · Rightᵀ for kLanes independent tiles at once.
/// in: [Left.cols][Right.cols][L], tmp: [Left.rows][Right.cols][L], out: [Left.rows][Right.rows][L].
/// LR, IN, RR: Left.rows, Right.cols, Right.rows when known at compile time (0 = read at run time);
/// fixed sizes let the compiler unroll the tile loops.
template <int L, int LR = 0, int IN = 0, int RR = 0, class Arith, class V>
void sandwich(const SparseRows<V>& left, const SparseRows<V>& right, const V* __restrict in, V* __restrict tmp,
              V* __restrict out, Arith& arith, const SandwichSites& sites) {
    const int inner = IN ? IN : right.cols;
    const int leftRows = LR ? LR : left.rows;
    const int rightRows = RR ? RR : right.rows;
    for (int i = 0; i < leftRows; ++i)
        for (int b = 0; b < inner; ++b) {
            V acc[L] = {};
            const winograd_sites::Stages& at = sites.elements;
            const std::uint64_t element = at.first + std::uint64_t(i) * at.firstRow + std::uint64_t(b) * at.column;
            for (int e = left.start[i]; e < left.start[i + 1]; ++e) {
                const V c = left.coef[e];
                const V* src = in + (left.col[e] * inner + b) * L;
                const auto step = std::uint32_t(2 * (e - left.start[i]));
                for (int l = 0; l < L; ++l) {
                    arith.at(sites.firstTensor, element + std::uint64_t(l), step);
                    acc[l] = detail::multiplyAdd(arith, c, src[l], acc[l]);
                }
            }
            std::copy(acc, acc + L, tmp + (i * inner + b) * L);
        }
    for (int i = 0; i < leftRows; ++i)
        for (int j = 0; j < rightRows; ++j) {
            V acc[L] = {};
            const winograd_sites::Stages& at = sites.elements;
            const std::uint64_t element = at.second + std::uint64_t(i) * at.secondGroup + std::uint64_t(j) * at.secondRow;
            for (int e = right.start[j]; e < right.start[j + 1]; ++e) {
                const V c = right.coef[e];
                const V* src = tmp + (i * inner + right.col[e]) * L;
                const auto step = std::uint32_t(2 * (e - right.start[j]));
                for (int l = 0; l < L; ++l) {
                    arith.at(sites.secondTensor, element + std::uint64_t(l), step);
                    acc[l] = detail::multiplyAdd(arith, c, src[l], acc[l]);
                }
            }
            std::copy(acc, acc + L, out + (i * rightRows + j) * L);
        }
}


template <class V>
struct WinogradMatrices {
    int m = 0, alpha = 0;
    SparseRows<V> AT, G, BT;
};

template <class V, class Arith>
WinogradMatrices<V> matricesFor(const WinogradTransforms& t, Arith& arith) {
    WinogradMatrices<V> w;
    w.m = t.m;
    w.alpha = t.alpha;
    w.G = sparseRows<V>(t.G, t.alpha, t.r, arith, winograd_sites::kG);
    w.BT = sparseRows<V>(t.BT, t.alpha, t.alpha, arith, winograd_sites::kBT);
    w.AT = sparseRows<V>(t.AT, t.m, t.alpha, arith, winograd_sites::kAT);
    return w;
}

/// U[ξ][k][c] for every filter; U has α²·K·C elements.
template <numeric::Arithmetic Arith, class V>
void transformFilters(const ConvProblem& pr, const WinogradMatrices<V>& mat, const V* w, V* U, Arith& arith) {
    const int a = mat.alpha;
    const std::int64_t KC = pr.K * pr.C;
    std::vector<V> tmp(static_cast<std::size_t>(a * 3)), out(static_cast<std::size_t>(a * a));
    const auto ukc = std::uint64_t(KC), ua = std::uint64_t(a);
    for (std::int64_t kc = 0; kc < KC; ++kc) {
        const auto filter = numeric::randomTensor(numeric::RandomTensor::FilterTransform);
        const SandwichSites sites{filter, filter, winograd_sites::filter(std::uint64_t(kc), ukc, ua)};
        sandwich<1>(mat.G, mat.G, w + kc * 9, tmp.data(), out.data(), arith, sites);
        for (int xi = 0; xi < a * a; ++xi) {
            arith.at(numeric::randomTensor(numeric::RandomTensor::FilterStore), winograd_sites::filterStore(std::uint64_t(xi), std::uint64_t(kc), ukc));
            U[xi * KC + kc] = arith.store(out[static_cast<std::size_t>(xi)]);
        }
    }
}

struct TileGeometry {
    std::int64_t tilesH, tilesW, tilesPerImage, T;
    TileGeometry(const ConvProblem& p, int m)
        : tilesH(detail::ceilDiv(p.P(), m)), tilesW(detail::ceilDiv(p.Q(), m)),
          tilesPerImage(tilesH * tilesW), T(p.N * tilesPerImage) {}
};

/// Input transform of the tile blocks [begin, end) of the flattened (n, c, block of kLanes tiles) space;
/// a block takes kLanes consecutive tiles of one image plane in row-major tile order (across tile
/// rows, so no lane is wasted at the end of a row).
template <int A, class Arith, class V>
void transformInputs(const ConvProblem& pr, const WinogradMatrices<V>& mat, const TileGeometry& g, const V* x,
                     V* Vt, Arith& arith, std::int64_t begin, std::int64_t end) {
    const int a = A ? A : mat.alpha, m = A ? A - 2 : mat.m;
    const std::int64_t CT = pr.C * g.T;
    const std::int64_t blocks = detail::ceilDiv(g.tilesPerImage, kLanes);
    std::vector<V> d(static_cast<std::size_t>(a * a * kLanes)), tmp(d.size()), out(d.size());
    for (std::int64_t unit = begin; unit < end; ++unit) {
        const std::int64_t block = unit % blocks;
        const std::int64_t c = (unit / blocks) % pr.C;
        const std::int64_t n = unit / (blocks * pr.C);
        const V* plane = x + (n * pr.C + c) * pr.H * pr.W;
        const std::int64_t t0 = block * kLanes;
        const int lanes = static_cast<int>(std::min<std::int64_t>(kLanes, g.tilesPerImage - t0));
        for (int l = 0; l < kLanes; ++l) {
            V* lane = d.data() + l;
            if (l >= lanes) {
                for (int e = 0; e < a * a; ++e) lane[e * kLanes] = V(0);
                continue;
            }
            const std::int64_t ih0 = (t0 + l) / g.tilesW * m - pr.padH;
            const std::int64_t iw0 = (t0 + l) % g.tilesW * m - pr.padW;
            if (ih0 >= 0 && ih0 + a <= pr.H && iw0 >= 0 && iw0 + a <= pr.W) {  // interior: no checks
                const V* src = plane + ih0 * pr.W + iw0;
                for (int i = 0; i < a; ++i)
                    for (int j = 0; j < a; ++j) lane[(i * a + j) * kLanes] = src[i * pr.W + j];
            } else {
                for (int i = 0; i < a; ++i) {
                    const std::int64_t ih = ih0 + i;
                    const bool rowInside = ih >= 0 && ih < pr.H;
                    for (int j = 0; j < a; ++j) {
                        const std::int64_t iw = iw0 + j;
                        lane[(i * a + j) * kLanes] =
                            (rowInside && iw >= 0 && iw < pr.W) ? plane[ih * pr.W + iw] : V(0);
                    }
                }
            }
        }
        const std::int64_t tg = n * g.tilesPerImage + t0;
        const std::uint64_t T = std::uint64_t(g.T), C = std::uint64_t(pr.C);
        const auto transform = numeric::randomTensor(numeric::RandomTensor::InputTransform);
        const SandwichSites sites{transform, transform, winograd_sites::input(std::uint64_t(c), std::uint64_t(tg), C, T, std::uint64_t(a))};
        sandwich<kLanes, A, A, A>(mat.BT, mat.BT, d.data(), tmp.data(), out.data(), arith, sites);
        for (int xi = 0; xi < a * a; ++xi) {
            V* dst = Vt + xi * CT + c * g.T + tg;
            const V* src = out.data() + xi * kLanes;
            const std::uint64_t first = winograd_sites::inputStore(std::uint64_t(xi), std::uint64_t(c), std::uint64_t(tg), C, T);
            for (int l = 0; l < lanes; ++l) {
                arith.at(numeric::randomTensor(numeric::RandomTensor::InputStore), first + std::uint64_t(l));
                dst[l] = arith.store(src[l]);
            }
        }
    }
}

/// What an emulated run adds to the plain algorithm: a scaled format on the transformed tiles, and the batched
/// products' sums under an accumulator model (each M[ξ][k][t] the modelled dot product of U[ξ][k][·] and V[ξ][·][t]
/// over C, as a tensor-core Winograd kernel sums them; eight tiles side by side on the fast engine).
struct TileExtras {
    const numeric::ScaledFormat* scales = nullptr;
    const numeric::ModelledDot* modelled = nullptr;
    bool modelledLanes = false;
};

/// M[ξ] = U[ξ] · V[ξ] for ξ in [begin, end).
template <numeric::Arithmetic Arith, class V>
void multiplyTiles(const ConvProblem& pr, const TileGeometry& g, const V* U, const V* Vt, V* M, Arith& arith,
                   std::int64_t begin, std::int64_t end, const TileExtras& extras = {}) {
    const std::int64_t K = pr.K, C = pr.C, T = g.T;
    for (std::int64_t xi = begin; xi < end; ++xi) {
        const V* u = U + xi * K * C;
        const V* v = Vt + xi * C * T;
        V* out = M + xi * K * T;
        if constexpr (std::is_same_v<V, double>) {
            if (const numeric::ModelledDot* dot = extras.modelled) {
                constexpr int L = numeric::ModelledDot::kLanes;
                const double zeros[L] = {};
                for (std::int64_t k = 0; k < K; ++k)
                    for (std::int64_t t = 0; t < T; t += extras.modelledLanes ? L : 1) {
                        if (!extras.modelledLanes) {
                            out[k * T + t] = (*dot)(0.0, u + k * C, 1, v + t, T, C);
                            continue;
                        }
                        dot->lanes(zeros, u + k * C, 0, 1, v + t, 1, T, C, out + k * T + t, int(std::min<std::int64_t>(L, T - t)));
                    }
                continue;
            }
        }
        if constexpr (std::is_same_v<Arith, numeric::NativeArithmetic<float>>) {
            detail::gemmSerial(K, T, C, u, C, v, T, out, T);
        } else {
            const auto products = numeric::randomTensor(numeric::RandomTensor::TileProducts);
            for (std::int64_t k = 0; k < K; ++k) {
                V* row = out + k * T;
                std::fill(row, row + T, V(0));
                const auto element = winograd_sites::tileProduct(std::uint64_t(xi), std::uint64_t(k), 0, std::uint64_t(K), std::uint64_t(T));
                for (std::int64_t c = 0; c < C; ++c) {
                    const V uv = u[k * C + c];
                    const V* vr = v + c * T;
                    for (std::int64_t t = 0; t < T; ++t) {
                        arith.at(products, element + std::uint64_t(t), std::uint32_t(2 * c));
                        row[t] = detail::multiplyAdd(arith, uv, vr[t], row[t]);
                    }
                }
            }
        }
    }
}

/// Output transform of the tile blocks [begin, end) of the flattened (n, k, block of kLanes tiles) space.
template <int A, class Arith, class V>
void transformOutputs(const ConvProblem& pr, const WinogradMatrices<V>& mat, const TileGeometry& g, const V* M,
                      const V* bias, V* y, Arith& arith, std::int64_t begin, std::int64_t end) {
    const int a = A ? A : mat.alpha, m = A ? A - 2 : mat.m;
    const std::int64_t KT = pr.K * g.T, P = pr.P(), Q = pr.Q();
    const std::int64_t blocks = detail::ceilDiv(g.tilesPerImage, kLanes);
    std::vector<V> in(static_cast<std::size_t>(a * a * kLanes)), tmp(in.size()), out(in.size());
    for (std::int64_t unit = begin; unit < end; ++unit) {
        const std::int64_t block = unit % blocks;
        const std::int64_t k = (unit / blocks) % pr.K;
        const std::int64_t n = unit / (blocks * pr.K);
        V* plane = y + (n * pr.K + k) * P * Q;
        const std::int64_t t0 = block * kLanes;
        const int lanes = static_cast<int>(std::min<std::int64_t>(kLanes, g.tilesPerImage - t0));
        const std::int64_t tg = n * g.tilesPerImage + t0;
        for (int xi = 0; xi < a * a; ++xi) {
            const V* src = M + xi * KT + k * g.T + tg;
            V* dst = in.data() + xi * kLanes;
            if (lanes == kLanes) {
                for (int l = 0; l < kLanes; ++l) dst[l] = src[l];
            } else {
                for (int l = 0; l < kLanes; ++l) dst[l] = l < lanes ? src[l] : V(0);
            }
        }
        const auto output = numeric::randomTensor(numeric::RandomTensor::Output);
        const SandwichSites sites{numeric::randomTensor(numeric::RandomTensor::OutputTransform), output,
                                  winograd_sites::output(std::uint64_t(k), std::uint64_t(tg), std::uint64_t(g.T), std::uint64_t(a),
                                                         std::uint64_t(m))};
        sandwich<kLanes, (A ? A - 2 : 0), A, (A ? A - 2 : 0)>(mat.AT, mat.AT, in.data(), tmp.data(), out.data(), arith,
                                                              sites);
        const V b = bias ? bias[k] : V(0);
        for (int l = 0; l < lanes; ++l) {
            const std::int64_t oh0 = (t0 + l) / g.tilesW * m, ow0 = (t0 + l) % g.tilesW * m;
            const int rows = static_cast<int>(std::min<std::int64_t>(m, P - oh0));
            const int cols = static_cast<int>(std::min<std::int64_t>(m, Q - ow0));
            for (int i = 0; i < rows; ++i) {
                V* dst = plane + (oh0 + i) * Q + ow0;
                const V* src = out.data() + i * m * kLanes + l;
                for (int j = 0; j < cols; ++j) {
                    if (bias) {
                        const int entries = mat.AT.start[j + 1] - mat.AT.start[j];
                        const winograd_sites::Stages& at = sites.elements;
                        arith.at(output, at.second + std::uint64_t(i) * at.secondGroup + std::uint64_t(j) * at.secondRow + std::uint64_t(l),
                                 std::uint32_t(2 * entries));
                    }
                    dst[j] = bias ? arith.add(src[j * kLanes], b) : src[j * kLanes];
                }
            }
        }
    }
}

/// The whole convolution with the filters already transformed (U); A = α when fixed at compile time.
/// With a scaled format on the transformed tiles: V[ξ][c][t] in blocks along C, one line per position and tile.
template <class V>
void quantizeInputTiles(const ConvProblem& pr, std::int64_t a2, std::int64_t T, std::vector<V>& Vt, const TileExtras& extras) {
    if constexpr (std::is_same_v<V, double>)
        if (extras.scales) numeric::quantizeScaled(std::span<double>(Vt), {a2, pr.C, T}, *extras.scales);
}

template <int A, class Arith, class V>
void winogradPhases(const ConvProblem& pr, const WinogradMatrices<V>& mat, const V* U, const V* x, const V* bias,
                    V* y, Arith& arith, std::vector<V>& Vt, std::vector<V>& M, const TileExtras& extras) {
    const TileGeometry g(pr, mat.m);
    const std::int64_t a2 = mat.alpha * mat.alpha;
    const std::int64_t blocks = detail::ceilDiv(g.tilesPerImage, kLanes);
    Vt.resize(static_cast<std::size_t>(a2 * pr.C * g.T));
    M.resize(static_cast<std::size_t>(a2 * pr.K * g.T));
    if constexpr (!numeric::kThreadSplittable<Arith>) {
        transformInputs<A>(pr, mat, g, x, Vt.data(), arith, 0, pr.N * pr.C * blocks);
        quantizeInputTiles(pr, a2, g.T, Vt, extras);
        multiplyTiles(pr, g, U, Vt.data(), M.data(), arith, 0, a2, extras);
        transformOutputs<A>(pr, mat, g, M.data(), bias, y, arith, 0, pr.N * pr.K * blocks);
    } else {
        parallelFor(pr.N * pr.C * blocks, 4.0 * double(pr.C * g.T) * a2 * mat.alpha, [&](std::int64_t b, std::int64_t e) {
            Arith local = arith;
            transformInputs<A>(pr, mat, g, x, Vt.data(), local, b, e);
        });
        quantizeInputTiles(pr, a2, g.T, Vt, extras);
        parallelFor(a2, 2.0 * double(a2) * double(pr.K * pr.C) * double(g.T), [&](std::int64_t b, std::int64_t e) {
            Arith local = arith;
            multiplyTiles(pr, g, U, Vt.data(), M.data(), local, b, e, extras);
        });
        parallelFor(pr.N * pr.K * blocks, 4.0 * double(pr.K * g.T) * a2 * mat.m, [&](std::int64_t b, std::int64_t e) {
            Arith local = arith;
            transformOutputs<A>(pr, mat, g, M.data(), bias, y, local, b, e);
        });
    }
}

template <numeric::Arithmetic Arith, class V>
void winogradExecute(const ConvProblem& pr, const WinogradMatrices<V>& mat, const V* U, const V* x, const V* bias,
                     V* y, Arith& arith, std::vector<V>& Vt, std::vector<V>& M, const TileExtras& extras = {}) {
    switch (mat.alpha) {
    case 4: return winogradPhases<4>(pr, mat, U, x, bias, y, arith, Vt, M, extras);
    case 6: return winogradPhases<6>(pr, mat, U, x, bias, y, arith, Vt, M, extras);
    case 8: return winogradPhases<8>(pr, mat, U, x, bias, y, arith, Vt, M, extras);
    default: return winogradPhases<0>(pr, mat, U, x, bias, y, arith, Vt, M, extras);
    }
}

/// extras.scales: a scaled format on the transformed tiles — U[ξ][k][c] and V[ξ][c][t] in blocks along C, the reduction
/// axis of the batched products, as a low-precision Winograd kernel would store them.
template <numeric::Arithmetic Arith, class V>
void winogradConv(const ConvProblem& pr, const WinogradTransforms& t, const V* x, const V* w, const V* bias, V* y,
                  Arith& arith, const TileExtras& extras = {}) {
    std::vector<V> xs, ws, bs;
    x = detail::storeOperands(arith, x, pr.inputCount(), xs, numeric::RandomTensor::Input);
    w = detail::storeOperands(arith, w, pr.weightCount(), ws, numeric::RandomTensor::Weight);
    bias = detail::storeOperands(arith, bias, pr.K, bs, numeric::RandomTensor::Bias);
    const auto mat = matricesFor<V>(t, arith);
    std::vector<V> U(static_cast<std::size_t>(t.alpha * t.alpha * pr.K * pr.C)), Vt, M;
    transformFilters(pr, mat, w, U.data(), arith);
    if (extras.scales) numeric::quantizeScaled(std::span<V>(U), {t.alpha * t.alpha * pr.K, pr.C, 1}, *extras.scales);
    winogradExecute(pr, mat, U.data(), x, bias, y, arith, Vt, M, extras);
}

class WinogradPlan final : public ConvPlan {
public:
    WinogradPlan(const ConvProblem& problem, const WinogradTransforms& t, const float* weight) : problem_(problem) {
        numeric::NativeArithmetic<float> arith;
        mat_ = matricesFor<float>(t, arith);
        U_.resize(static_cast<std::size_t>(t.alpha * t.alpha * problem.K * problem.C));
        transformFilters(problem_, mat_, weight, U_.data(), arith);
#ifdef KS_WINOGRAD_AVX2
        if (detail::WinogradAvx2::handles(t.alpha)) {
            fast_ = std::make_unique<detail::WinogradAvx2>(problem, t, U_.data());
            U_ = {};  // kept packed by the fast path
        }
#endif
    }
    void execute(const float* input, const float* bias, float* output) override {
#ifdef KS_WINOGRAD_AVX2
        if (fast_) return fast_->execute(input, bias, output);
#endif
        numeric::NativeArithmetic<float> arith;
        winogradExecute(problem_, mat_, U_.data(), input, bias, output, arith, V_, M_);
    }

private:
    ConvProblem problem_;
    WinogradMatrices<float> mat_;
    std::vector<float> U_, V_, M_;
#ifdef KS_WINOGRAD_AVX2
    std::unique_ptr<detail::WinogradAvx2> fast_;
#endif
};

class WinogradConv final : public ConvAlgorithm {
public:
    WinogradConv(int m, std::vector<double> points) : transforms_(cookToom(m, 3, std::move(points))) {}

    std::string name() const override {
        return "winograd-" + std::to_string(transforms_.m) + "x" + std::to_string(transforms_.m);
    }
    std::vector<std::string> aliases() const override {
        if (transforms_.m == 2) return {"winograd"};
        return {};
    }
    std::string description() const override {
        const std::string m = std::to_string(transforms_.m);
        return "Winograd F(" + m + "x" + m + ", 3x3), " + std::to_string(transforms_.alpha) + "x" +
               std::to_string(transforms_.alpha) + " tiles, Cook-Toom transforms from the points " +
               describePoints(transforms_.points) + ", inf; " + std::to_string(transforms_.alpha * transforms_.alpha) +
               " GEMMs over channels; 3x3 kernels, stride 1, any size and padding.";
    }
    std::optional<std::string> supports(const ConvProblem& p) const override {
        if (p.R != 3 || p.S != 3)
            return "Winograd F(m x m, 3x3) is derived for 3x3 kernels, this kernel is " + std::to_string(p.R) + "x" +
                   std::to_string(p.S);
        if (p.strideH != 1 || p.strideW != 1)
            return "Winograd tiles assume stride 1, the stride is " + std::to_string(p.strideH) + "x" +
                   std::to_string(p.strideW);
        return std::nullopt;
    }
    std::size_t workspaceBytes(const ConvProblem& p) const override {
#ifdef KS_WINOGRAD_AVX2
        if (detail::WinogradAvx2::handles(transforms_.alpha)) return detail::WinogradAvx2::workspaceBytes(p, transforms_.m);
#endif
        const TileGeometry g(p, transforms_.m);
        const auto a2 = static_cast<std::size_t>(transforms_.alpha * transforms_.alpha);
        return a2 * static_cast<std::size_t>(p.K * p.C + p.C * g.T + p.K * g.T) * sizeof(float);
    }
    const WinogradTransforms& transforms() const { return transforms_; }

protected:
    std::unique_ptr<ConvPlan> doPlan(const ConvProblem& problem, const float* weight) const override {
        return std::make_unique<WinogradPlan>(problem, transforms_, weight);
    }
    void doRun(const ConvProblem& p, const double* x, const double* w, const double* b, double* y) const override {
        numeric::NativeArithmetic<double> arith;
        winogradConv(p, transforms_, x, w, b, y, arith);
    }
    void doRun(const ConvProblem& p, const double* x, const double* w, const double* b, double* y,
               numeric::EmulatedArithmetic& arith) const override {
        runGeneric(p, x, w, b, y, arith, nullptr);
    }

    void doRunScaledTiles(const ConvProblem& p, const double* x, const double* w, const double* b, double* y,
                          numeric::EmulatedArithmetic& arith, const numeric::ScaledFormat& tiles) const override {
        runGeneric(p, x, w, b, y, arith, &tiles);
    }

    /// The emulated run: the float32 lanes where they cover the spec; under an accumulator model the transforms in
    /// `arith` and the batched products' sums modelled (lanes on the fast engine); otherwise the generic template.
    void runGeneric(const ConvProblem& p, const double* x, const double* w, const double* b, double* y,
                    numeric::EmulatedArithmetic& arith, const numeric::ScaledFormat* scales) const {
        if (!arith.spec().accumulation.plain()) {
            const numeric::ModelledDot dot(arith.spec());
            winogradConv(p, transforms_, x, w, b, y, arith, {scales, &dot, arith.engine() == numeric::EmulationEngine::Fast});
            return;
        }
        if (!scales && arith.engine() == numeric::EmulationEngine::Fast && !lanes::winogradRefusal(arith.spec()))
            return lanes::winogradConv(p, arith.spec(), transforms_, x, w, b, y, arith.tensorBase());
        numeric::withEmulation(arith, [&](auto& a) { winogradConv(p, transforms_, x, w, b, y, a, TileExtras{scales}); });
    }

public:
    bool transformsOperands() const override { return true; }
    bool modelsAccumulation() const override { return true; }
    std::string fastEmulationPath(const numeric::ComputeSpec& spec) const override {
        if (!spec.accumulation.plain() && !numeric::accumulatorRefusal(spec))
            return ConvAlgorithm::fastEmulationPath(spec, std::nullopt, true);
        if (spec.scaledStorage && spec.scalePlacement == numeric::ScalePlacement::TransformedTiles)
            return ConvAlgorithm::fastEmulationPath(spec.elementwise(), std::string("scales on the transformed tiles run "
                                                                                    "the generic transforms"));
        return ConvAlgorithm::fastEmulationPath(spec, lanes::winogradRefusal(spec));
    }

private:
    WinogradTransforms transforms_;
};

}  // namespace

std::unique_ptr<ConvAlgorithm> makeWinogradConv(int outputTile, std::vector<double> finitePoints) {
    return std::make_unique<WinogradConv>(outputTile, std::move(finitePoints));
}

}  // namespace ks::conv
