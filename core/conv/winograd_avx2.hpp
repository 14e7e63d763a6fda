#pragma once
// The float32 Winograd fast path (AVX2 + FMA), internal to conv_winograd.cpp. Tiles are numbered
// over the whole batch (image, tile row, tile column) and handled eight at a time, one vector lane
// per tile, so every transform is a fixed run of vector FMAs with the generated coefficients
// pre-broadcast at plan time (any interpolation points). Per block of nr tiles (the GEMM micro-kernel's
// columns: 16 with AVX2, 32 with AVX-512):
//  input:  from a zero-padded copy of the input (padding, partial tiles and the 8-float row reads
//          need no checks), eight tile rows are gathered by an 8×8 transpose, transformed along
//          the row in registers, then down the columns, and each of the α² results is stored as 8
//          floats into V[ξ][c][nr], the layout of a packed B sliver of sgemm's micro-kernel
//          (nothing is packed at run time).
//  GEMM:   M[ξ] (K×nr) = U[ξ] (K×C) · V[ξ] (C×nr): sgemm's mr×nr micro-kernel over c
//          (matmul/gemm_kernel.hpp: the active kernel set's, so zmm tiles where the CPU has AVX-512),
//          with U packed at plan time as A slivers, [ξ][K/mr][C][mr].
//  output: Aᵀ M A down the columns then along the rows, bias added, transposed back to one output
//          row per lane and stored as m floats (no masked stores: they are microcoded on AMD).
// The ξ strides of V and M are skewed off multiples of 4 KiB (otherwise the α² stores of one
// transform all land in one L1 set: that alone cost half the input transform's time).
// Needs α ≤ 8 (one 8×8 transpose covers a tile row); α = 4, 6, 8 are instantiated.
#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <immintrin.h>

#include "base/parallel.hpp"
#include "conv/conv_problem.hpp"
#include "conv/winograd_transform.hpp"
#include "matmul/gemm_kernel.hpp"

#ifndef KS_WINOGRAD_STAGE
#define KS_WINOGRAD_STAGE(i)  // development builds may define it to time the stages
#endif

namespace ks::conv::detail {

/// One coefficient broadcast to the eight lanes (a vector operand of the FMAs).
struct alignas(32) LaneCoefficient {
    float v[8];
};

inline std::vector<LaneCoefficient> broadcastCoefficients(const std::vector<double>& matrix) {
    std::vector<LaneCoefficient> out(matrix.size());
    for (std::size_t i = 0; i < matrix.size(); ++i) std::fill(out[i].v, out[i].v + 8, static_cast<float>(matrix[i]));
    return out;
}

/// In-register 8×8 transpose (rows r[0..7] become columns).
inline void transpose8x8(__m256 r[8]) {
    const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    const __m256 s0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
    const __m256 s1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
    const __m256 s2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
    const __m256 s3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
    const __m256 s4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
    const __m256 s5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
    const __m256 s6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
    const __m256 s7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
    r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
    r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
    r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
    r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
    r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
    r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
    r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
    r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

inline __m256 coef(const LaneCoefficient* c, int i) { return _mm256_load_ps(c[i].v); }

/// Σ_j c[j]·x[j] over N terms, unrolled.
template <int N>
inline __m256 dot(const LaneCoefficient* c, const __m256* x) {
    __m256 acc = _mm256_mul_ps(coef(c, 0), x[0]);
    for (int j = 1; j < N; ++j) acc = _mm256_fmadd_ps(coef(c, j), x[j], acc);
    return acc;
}

/// Stores the first M lanes of v.
template <int M>
inline void storeFirst(float* dst, __m256 v) {
    const __m128 lo = _mm256_castps256_ps128(v);
    if constexpr (M == 2) {
        _mm_storel_pi(reinterpret_cast<__m64*>(dst), lo);
    } else if constexpr (M == 4) {
        _mm_storeu_ps(dst, lo);
    } else if constexpr (M == 6) {
        _mm_storeu_ps(dst, lo);
        _mm_storel_pi(reinterpret_cast<__m64*>(dst + 4), _mm256_extractf128_ps(v, 1));
    } else {
        alignas(32) float tmp[8];
        _mm256_store_ps(tmp, v);
        std::memcpy(dst, tmp, sizeof(float) * M);
    }
}

/// Walks the tiles of the batch in order: image n, tile row R, tile column S.
struct TileCursor {
    std::int64_t n = 0, R = 0, S = 0;
    void next(std::int64_t tilesH, std::int64_t tilesW) {
        if (++S < tilesW) return;
        S = 0;
        if (++R < tilesH) return;
        R = 0;
        ++n;
    }
};

/// f(std::integral_constant<int, I>) for I = 0 .. N−1, unrolled.
template <int N, class F>
inline void staticFor(F&& f) {
    [&]<int... I>(std::integer_sequence<int, I...>) { (f(std::integral_constant<int, I>{}), ...); }(
        std::make_integer_sequence<int, N>{});
}

/// The transform coefficients as generated at run time (any points): every product is an FMA.
struct GeneratedCoefficients {
    const LaneCoefficient* bt;  ///< α × α
    const LaneCoefficient* at;  ///< m × α
    template <int A, int Row>
    __m256 dotBT(const __m256* x) const { return dot<A>(bt + Row * A, x); }
    template <int A, int Row>
    __m256 dotAT(const __m256* x) const { return dot<A>(at + Row * A, x); }
};

/// The default points (0, 1, −1, 1/2, −1/2, 2, −2: defaultWinogradPoints) and the Cook–Toom
/// matrices they give (the formulas of cookToom()), at compile time, so that the transforms skip
/// the zero coefficients and add or subtract for ±1. The plan uses them only when they equal what
/// cookToom() generated.
constexpr double defaultPoint(int i) {
    if (i == 0) return 0.0;
    const int level = (i - 1) / 2;  // ±1, ±1/2, ±2, ±1/4, ±4, ...
    double v = 1.0;
    for (int e = 0; e < (level + 1) / 2; ++e) v = level % 2 == 1 ? v / 2 : v * 2;
    return (i - 1) % 2 == 0 ? v : -v;
}

template <int A>
struct DefaultMatrices {
    double BT[A][A] = {};
    double AT[A - 2][A] = {};
};

template <int A>
constexpr DefaultMatrices<A> makeDefaultMatrices() {
    constexpr int nf = A - 1, m = A - 2;
    double a[nf] = {};
    for (int i = 0; i < nf; ++i) a[i] = defaultPoint(i);
    DefaultMatrices<A> d;
    for (int i = 0; i < m; ++i) {
        for (int j = 0; j < nf; ++j) {
            double p = 1.0;
            for (int e = 0; e < i; ++e) p *= a[j];
            d.AT[i][j] = p;
        }
        d.AT[i][nf] = i == m - 1 ? 1.0 : 0.0;
    }
    for (int j = 0; j <= nf; ++j) {  // row j: Π over l ≠ j (all l for the row of ∞)
        double poly[A + 1] = {1.0};
        int degree = 0;
        for (int l = 0; l < nf; ++l) {
            if (l == j) continue;
            for (int e = degree + 1; e >= 0; --e) poly[e] = (e > 0 ? poly[e - 1] : 0.0) - a[l] * poly[e];
            ++degree;
        }
        for (int e = 0; e < A; ++e) d.BT[j][e] = poly[e];
    }
    return d;
}

template <int A>
inline constexpr DefaultMatrices<A> kDefaultMatrices = makeDefaultMatrices<A>();

/// Σ_j c_j·x[j] over the non-zero c_j of a compile-time row.
template <int N, class RowOf>
inline __m256 sparseDot(RowOf row, const __m256* x) {
    constexpr auto c = RowOf::get();
    constexpr int first = [] {
        for (int j = 0; j < N; ++j)
            if (RowOf::get()[j] != 0.0) return j;
        return N;
    }();
    if constexpr (first == N) {
        (void)row;
        (void)x;
        return _mm256_setzero_ps();
    } else {
        __m256 acc;
        if constexpr (c[first] == 1.0)
            acc = x[first];
        else
            acc = _mm256_mul_ps(_mm256_set1_ps(static_cast<float>(c[first])), x[first]);
        staticFor<N>([&](auto jc) {
            constexpr int j = decltype(jc)::value;
            if constexpr (j > first && c[j] == 1.0)
                acc = _mm256_add_ps(acc, x[j]);
            else if constexpr (j > first && c[j] == -1.0)
                acc = _mm256_sub_ps(acc, x[j]);
            else if constexpr (j > first && c[j] != 0.0)
                acc = _mm256_fmadd_ps(_mm256_set1_ps(static_cast<float>(c[j])), x[j], acc);
        });
        return acc;
    }
}

template <int A>
struct DefaultCoefficients {
    template <int Row>
    struct BTRow {
        static constexpr std::array<double, A> get() {
            std::array<double, A> r{};
            for (int j = 0; j < A; ++j) r[j] = kDefaultMatrices<A>.BT[Row][j];
            return r;
        }
    };
    template <int Row>
    struct ATRow {
        static constexpr std::array<double, A> get() {
            std::array<double, A> r{};
            for (int j = 0; j < A; ++j) r[j] = kDefaultMatrices<A>.AT[Row][j];
            return r;
        }
    };
    template <int, int Row>
    __m256 dotBT(const __m256* x) const { return sparseDot<A>(BTRow<Row>{}, x); }
    template <int, int Row>
    __m256 dotAT(const __m256* x) const { return sparseDot<A>(ATRow<Row>{}, x); }

    /// Whether the generated transforms are the default ones (exactly, as float32 coefficients).
    static bool matches(const WinogradTransforms& t) {
        if (t.alpha != A) return false;
        for (int i = 0; i < A; ++i)
            for (int j = 0; j < A; ++j)
                if (float(t.BT[static_cast<std::size_t>(i * A + j)]) != float(kDefaultMatrices<A>.BT[i][j]))
                    return false;
        for (int i = 0; i < A - 2; ++i)
            for (int j = 0; j < A; ++j)
                if (float(t.AT[static_cast<std::size_t>(i * A + j)]) != float(kDefaultMatrices<A>.AT[i][j]))
                    return false;
        return true;
    }
};

/// Input transform of 8 tiles: base[l] is the top-left of tile l in a padded plane with row stride
/// ldp (8 floats readable on each of its α rows). Writes V[ξ·ldXi + lane] for the α² values ξ.
template <int A, class Coefficients>
inline void transformInputGroup(const float* const base[8], std::int64_t ldp, const Coefficients& co, float* V,
                                std::int64_t ldXi) {
    __m256 rowT[A * A];  // rowT[i·A + q] = Σ_j Bᵀ[q][j] d[i][j]
    for (int i = 0; i < A; ++i) {
        __m256 r[8];
        for (int l = 0; l < 8; ++l) r[l] = _mm256_loadu_ps(base[l] + i * ldp);
        transpose8x8(r);  // r[j] = d[i][j] of the 8 tiles
        staticFor<A>([&](auto q) { rowT[i * A + q] = co.template dotBT<A, decltype(q)::value>(r); });
    }
    for (int q = 0; q < A; ++q) {
        __m256 col[A];
        for (int i = 0; i < A; ++i) col[i] = rowT[i * A + q];
        staticFor<A>([&](auto p) {
            _mm256_store_ps(V + (p * A + q) * ldXi, co.template dotBT<A, decltype(p)::value>(col));
        });
    }
}

/// Output transform of 8 tiles from M[ξ·ldXi + lane]; row i of lane l's m×m result (+ bias) goes
/// to dst[l] + i·ldo[l], for the first `lanes` lanes.
template <int A, class Coefficients>
inline void transformOutputGroup(const float* M, std::int64_t ldXi, const Coefficients& co, __m256 bias,
                                 float* const dst[8], const std::int64_t ldo[8], int lanes) {
    constexpr int m = A - 2;
    __m256 colT[m * A];  // colT[p·A + j] = Σ_i Aᵀ[p][i] M[i][j]
    for (int j = 0; j < A; ++j) {
        __m256 col[A];
        for (int i = 0; i < A; ++i) col[i] = _mm256_load_ps(M + (i * A + j) * ldXi);
        staticFor<m>([&](auto p) { colT[p * A + j] = co.template dotAT<A, decltype(p)::value>(col); });
    }
    for (int p = 0; p < m; ++p) {
        __m256 r[8];
        staticFor<m>([&](auto q) {
            r[q] = _mm256_add_ps(co.template dotAT<A, decltype(q)::value>(colT + p * A), bias);
        });
        for (int q = m; q < 8; ++q) r[q] = _mm256_setzero_ps();
        transpose8x8(r);  // r[l] = output row p of tile l
        for (int l = 0; l < lanes; ++l) storeFirst<m>(dst[l] + p * ldo[l], r[l]);
    }
}

/// The most tiles a GEMM block holds: the widest micro-kernel's columns (AVX-512's 32).
inline constexpr int kMaxBlock = matmul::kernel::kMaxTileColumns;

/// The micro-kernel of the α² products: sgemm's, from the kernel set active when the plan is made (6×16
/// with AVX2, 12×32 with AVX-512), so a block holds nr tiles. A problem of at most 8 tiles takes the
/// narrow kernel (nr = 8) instead of padding its one block to 16 or 32 columns.
inline const matmul::kernel::GemmKernel& winogradKernel(std::int64_t tiles) {
    const matmul::kernel::KernelSet& set = matmul::kernel::activeKernelSet();
    return tiles <= set.narrow.nr ? set.narrow : set.wide;
}

/// A float buffer aligned to 64 bytes.
class AlignedFloats {
public:
    void resize(std::size_t count) {
        if (count <= size_) return;
        data_.reset(new (std::align_val_t(64)) float[count]());
        size_ = count;
    }
    float* data() { return data_.get(); }
    const float* data() const { return data_.get(); }

private:
    struct Free {
        void operator()(float* p) const { ::operator delete[](p, std::align_val_t(64)); }
    };
    std::unique_ptr<float[], Free> data_;
    std::size_t size_ = 0;
};

/// The float32 Winograd convolution with its filters transformed at construction; owns its workspace.
/// A unit of work is a block of nr tiles (or, when there are few blocks, a block and a part of
/// K): input transform of the block (all C channels) into the thread's own V, the α² GEMMs, the
/// output transform, so V and M of a block stay in L2 between the three steps.
class WinogradAvx2 {
public:
    static bool handles(int alpha) { return alpha == 4 || alpha == 6 || alpha == 8; }

    /// U: the transformed filters, [ξ][K][C].
    WinogradAvx2(const ConvProblem& problem, const WinogradTransforms& t, const float* U)
        : pr_(problem), m_(t.m), alpha_(t.alpha), bt_(broadcastCoefficients(t.BT)), at_(broadcastCoefficients(t.AT)) {
        tilesH_ = (pr_.P() + m_ - 1) / m_;
        tilesW_ = (pr_.Q() + m_ - 1) / m_;
        T_ = pr_.N * tilesH_ * tilesW_;
        kernel_ = winogradKernel(T_);
        if (kernel_.nr % 8 != 0 || kernel_.nr > kMaxBlock)
            throw std::logic_error("Winograd: a " + std::string(kernel_.name) + " micro-kernel does not hold groups of 8 tiles");
        block_ = kernel_.nr;
        rows_ = kernel_.mr;
        blocks_ = (T_ + block_ - 1) / block_;
        kGroups_ = (pr_.K + rows_ - 1) / rows_;
        // padded plane: tile rows reach row tilesH·m + 1, and 8 floats are read from each tile's origin
        padRows_ = tilesH_ * m_ + 2;
        padCols_ = std::max<std::int64_t>(tilesW_ * m_ + 2, (tilesW_ - 1) * m_ + 8);
        const std::int64_t a2 = alpha_ * alpha_, K = pr_.K, C = pr_.C;
        // U packed as the micro-kernel's A slivers: [ξ][group of mr output channels][c][mr], zero rows past K
        packedU_.resize(static_cast<std::size_t>(a2 * kGroups_ * C * rows_));
        for (std::int64_t xi = 0; xi < a2; ++xi)
            for (std::int64_t k = 0; k < K; ++k)
                for (std::int64_t c = 0; c < C; ++c)
                    packedU_.data()[((xi * kGroups_ + k / rows_) * C + c) * rows_ + k % rows_] = U[(xi * K + k) * C + c];
        padded_.resize(static_cast<std::size_t>(pr_.N * C * padRows_ * padCols_));  // zero borders stay zero
        defaultPoints_ = (alpha_ == 4 && DefaultCoefficients<4>::matches(t)) ||
                         (alpha_ == 6 && DefaultCoefficients<6>::matches(t)) ||
                         (alpha_ == 8 && DefaultCoefficients<8>::matches(t));
    }

    /// Bytes of the packed filters, the padded input and every thread's V and M (for the present
    /// thread count and kernel set).
    static std::size_t workspaceBytes(const ConvProblem& p, int m) {
        const std::int64_t alpha = m + 2, a2 = alpha * alpha;
        const std::int64_t tilesH = (p.P() + m - 1) / m, tilesW = (p.Q() + m - 1) / m;
        const matmul::kernel::GemmKernel& kernel = winogradKernel(p.N * tilesH * tilesW);
        const std::int64_t kRows = (p.K + kernel.mr - 1) / kernel.mr * kernel.mr;
        const std::int64_t padded = p.N * p.C * (tilesH * m + 2) * std::max(tilesW * m + 2, (tilesW - 1) * m + 8);
        const std::int64_t threads = std::max(1, threadCount());
        const std::int64_t floats = a2 * kRows * p.C + padded + threads * a2 * (p.C + kRows) * kernel.nr;
        return static_cast<std::size_t>(floats) * sizeof(float);
    }

    void execute(const float* x, const float* bias, float* y) {
        const GeneratedCoefficients generated{bt_.data(), at_.data()};
        switch (alpha_) {
        case 4: return defaultPoints_ ? run<4>(DefaultCoefficients<4>{}, x, bias, y) : run<4>(generated, x, bias, y);
        case 6: return defaultPoints_ ? run<6>(DefaultCoefficients<6>{}, x, bias, y) : run<6>(generated, x, bias, y);
        default: return defaultPoints_ ? run<8>(DefaultCoefficients<8>{}, x, bias, y) : run<8>(generated, x, bias, y);
        }
    }

private:
    /// A leading dimension (in floats) rounded up to an odd number of 64-byte lines.
    static std::int64_t skewed(std::int64_t floats) {
        const std::int64_t lines = (floats + 15) / 16;
        return (lines | 1) * 16;
    }

    struct Workspace {
        AlignedFloats V, M;  ///< one block: V[ξ][c][nr], M[ξ][k − k0][nr]
    };

    template <int A, class Coefficients>
    void run(const Coefficients& co, const float* x, const float* bias, float* y) {
        constexpr int m = A - 2;
        const std::int64_t C = pr_.C, K = pr_.K, N = pr_.N, a2 = A * A, kBlock = block_, kRowsPerTile = rows_;
        const std::int64_t H = pr_.H, W = pr_.W, P = pr_.P(), Q = pr_.Q();
        const std::int64_t planeSize = padRows_ * padCols_, tilesPerImage = tilesH_ * tilesW_;
        KS_WINOGRAD_STAGE(-1);
        // input rows / columns that land in the padded plane
        const std::int64_t rows = std::min(H, padRows_ - pr_.padH), cols = std::min(W, padCols_ - pr_.padW);
        parallelFor(N * C, double(N * C * H * W), [&](std::int64_t begin, std::int64_t end) {
            for (std::int64_t plane = begin; plane < end; ++plane) {
                const float* src = x + plane * H * W;
                float* dst = padded_.data() + plane * planeSize + pr_.padH * padCols_ + pr_.padW;
                for (std::int64_t i = 0; i < rows; ++i) std::copy(src + i * W, src + i * W + cols, dst + i * padCols_);
            }
        });
        KS_WINOGRAD_STAGE(0);
        // Units of work: (block of tiles, part of K), taken from a shared counter so that a thread
        // delayed by the machine's other load does not hold the rest back. With enough blocks a unit
        // is a whole block (each block's input transformed once); with few, K is split in `parts`
        // and a block's input is transformed by each thread that takes a part of it.
        const std::int64_t threads = std::max(1, threadCount());
        const std::int64_t parts = blocks_ >= 4 * threads ? 1 : std::min<std::int64_t>(threads, kGroups_);
        const std::int64_t units = blocks_ * parts;
        if (static_cast<std::int64_t>(workspaces_.size()) < threads)
            workspaces_.resize(static_cast<std::size_t>(threads));
        // the split is balanced in rows, not groups (the last group of K may be partial)
        const auto boundary = [&](std::int64_t p) {
            return p == parts ? kGroups_ : (K * p / parts + kRowsPerTile / 2) / kRowsPerTile;
        };
        // ξ strides one cache line past a multiple of 4 KiB would be: the α² stores of a transform
        // then fall into different L1 sets instead of thrashing one
        const std::int64_t ldV = skewed(C * kBlock);
        std::atomic<std::int64_t> nextUnit{0};
        const double work = 2.0 * double(a2) * double(K * C) * double(T_);
        parallelFor(threads, work, [&](std::int64_t chunk, std::int64_t) {
            Workspace& ws = workspaces_[static_cast<std::size_t>(chunk)];
            ws.V.resize(static_cast<std::size_t>(a2 * ldV));
            ws.M.resize(static_cast<std::size_t>(a2 * skewed(kGroups_ * kRowsPerTile * kBlock)));
            std::int64_t transformedBlock = -1;  // the block whose input ws.V holds
            for (;;) {
                const std::int64_t unit = nextUnit.fetch_add(1, std::memory_order_relaxed);
                if (unit >= units) break;
                const std::int64_t block = unit / parts, part = unit % parts;
                const std::int64_t g0 = boundary(part), g1 = boundary(part + 1);
                const std::int64_t k0 = g0 * kRowsPerTile, k1 = std::min(K, g1 * kRowsPerTile);
                const std::int64_t ldM = skewed((g1 - g0) * kRowsPerTile * kBlock);
                const std::int64_t t0 = block * kBlock;
                const int tiles = static_cast<int>(std::min<std::int64_t>(kBlock, T_ - t0));
                // where each tile of the block starts: in image n's first padded plane, and in y
                std::int64_t inOffset[kMaxBlock] = {}, outOffset[kMaxBlock] = {};
                bool whole[kMaxBlock] = {};
                for (int l = 0; l < tiles; ++l) {
                    const std::int64_t t = t0 + l, n = t / tilesPerImage, R = t % tilesPerImage / tilesW_,
                                       S = t % tilesW_;
                    inOffset[l] = n * C * planeSize + R * m * padCols_ + S * m;
                    outOffset[l] = n * K * P * Q + R * m * Q + S * m;
                    whole[l] = R * m + m <= P && S * m + m <= Q;
                }
                for (int l = tiles; l < kBlock; ++l) inOffset[l] = inOffset[0];  // computed, never used
                KS_WINOGRAD_STAGE(1);
                for (std::int64_t c = 0; c < C && transformedBlock != block; ++c) {
                    const float* planes = padded_.data() + c * planeSize;
                    for (int h = 0; h * 8 < tiles; ++h) {
                        const float* base[8];
                        for (int l = 0; l < 8; ++l) base[l] = planes + inOffset[h * 8 + l];
                        transformInputGroup<A>(base, padCols_, co, ws.V.data() + c * kBlock + h * 8, ldV);
                    }
                }
                transformedBlock = block;
                KS_WINOGRAD_STAGE(2);
                for (std::int64_t xi = 0; xi < a2; ++xi) {
                    const float* v = ws.V.data() + xi * ldV;
                    const float* u = packedU_.data() + (xi * kGroups_ + g0) * C * kRowsPerTile;
                    float* out = ws.M.data() + xi * ldM;
                    // whole tiles of mr rows: packed U is zero past K, so the spare rows of M are zeros
                    // that nothing reads; columns past `tiles` are products of stale V, never read either
                    for (std::int64_t g = 0; g < g1 - g0; ++g)
                        kernel_.run(C, u + g * C * kRowsPerTile, 1, kRowsPerTile, v, out + g * kRowsPerTile * kBlock,
                                    kBlock, false, nullptr);
                }
                KS_WINOGRAD_STAGE(3);
                // whole tiles are written in place, the others (right and bottom edges) through a
                // scratch tile, then clipped
                alignas(32) float edge[8][m * m];
                for (std::int64_t k = k0; k < k1; ++k) {
                    const __m256 b = _mm256_set1_ps(bias ? bias[k] : 0.0f);
                    float* yk = y + k * P * Q;
                    for (int h = 0; h * 8 < tiles; ++h) {
                        const int lanes = std::min(8, tiles - h * 8);
                        float* dst[8];
                        std::int64_t ld[8];
                        for (int l = 0; l < lanes; ++l) {
                            const bool w = whole[h * 8 + l];
                            dst[l] = w ? yk + outOffset[h * 8 + l] : edge[l];
                            ld[l] = w ? Q : m;
                        }
                        transformOutputGroup<A>(ws.M.data() + (k - k0) * kBlock + h * 8, ldM, co, b, dst,
                                                ld, lanes);
                        for (int l = 0; l < lanes; ++l) {
                            if (whole[h * 8 + l]) continue;
                            const std::int64_t o = outOffset[h * 8 + l];
                            const std::int64_t oh = o % (P * Q) / Q, ow = o % Q;
                            const std::int64_t rowsHere = std::min<std::int64_t>(m, P - oh),
                                               colsHere = std::min<std::int64_t>(m, Q - ow);
                            for (std::int64_t i = 0; i < rowsHere; ++i)
                                std::copy(edge[l] + i * m, edge[l] + i * m + colsHere, yk + o + i * Q);
                        }
                    }
                }
                KS_WINOGRAD_STAGE(4);
            }
        });
        KS_WINOGRAD_STAGE(5);
    }

    ConvProblem pr_;
    int m_, alpha_;
    bool defaultPoints_ = false;  ///< the transforms are kDefaultMatrices: zero-skipping kernels
    std::vector<LaneCoefficient> bt_, at_;
    matmul::kernel::GemmKernel kernel_;  ///< the α² products' micro-kernel; a block is kernel_.nr tiles
    std::int64_t block_, rows_;          ///< kernel_.nr, kernel_.mr
    std::int64_t tilesH_, tilesW_, T_, blocks_, kGroups_, padRows_, padCols_;
    AlignedFloats packedU_, padded_;
    std::vector<Workspace> workspaces_;
};

}  // namespace ks::conv::detail
