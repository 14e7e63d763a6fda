#pragma once
// The float32 Winograd fast path (AVX2 + FMA), internal to conv_winograd.cpp. Eight tiles of one
// image plane at a time, one vector lane per tile, so every transform is a fixed run of vector FMAs
// with the generated coefficients pre-broadcast at plan time (any interpolation points):
//  input:  the plane is copied once into a zero-padded buffer (padding, partial tiles and the
//          8-float row reads need no checks), eight tile rows are gathered by an 8×8 transpose and
//          transformed along the row in registers, then down the columns; each of the α² results
//          is stored straight into the GEMM operand V[ξ][c][tiles].
//  GEMM:   M[ξ] (K×T) = U[ξ] (K×C) · V[ξ] (C×T), the α² products on ks::matmul::sgemm.
//  output: Aᵀ M A down the columns then along the rows, bias added, transposed back to one output
//          row per lane and stored as m floats (no masked stores: they are microcoded on AMD).
// Needs α ≤ 8 (one 8×8 transpose covers a tile row); α = 4, 6, 8 are instantiated.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include <immintrin.h>

#include "conv/conv_problem.hpp"
#include "conv/parallel.hpp"
#include "conv/winograd_transform.hpp"
#include "matmul/gemm.hpp"

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

/// Input transform of every tile of one zero-padded plane (row stride ldp, tile (R, S) at
/// padded[R·m·ldp + S·m], 8 floats readable from every tile row). V[ξ·ldXi + t] for tile t.
template <int A>
void transformInputPlane(const float* padded, std::int64_t ldp, std::int64_t tilesH, std::int64_t tilesW,
                         const LaneCoefficient* bt, float* V, std::int64_t ldXi) {
    constexpr int m = A - 2;
    const std::int64_t tiles = tilesH * tilesW;
    std::int64_t R = 0, S = 0;
    for (std::int64_t t0 = 0; t0 < tiles; t0 += 8) {
        const int lanes = static_cast<int>(std::min<std::int64_t>(8, tiles - t0));
        const float* base[8];
        for (int l = 0; l < 8; ++l) {
            if (l >= lanes) {
                base[l] = base[0];  // a valid tile; its lane is not stored
                continue;
            }
            base[l] = padded + R * m * ldp + S * m;
            if (++S == tilesW) S = 0, ++R;
        }
        __m256 rowT[A * A];  // rowT[i·A + q] = Σ_j Bᵀ[q][j] d[i][j]
        for (int i = 0; i < A; ++i) {
            __m256 r[8];
            for (int l = 0; l < 8; ++l) r[l] = _mm256_loadu_ps(base[l] + i * ldp);
            transpose8x8(r);  // r[j] = d[i][j] of the 8 tiles
            for (int q = 0; q < A; ++q) rowT[i * A + q] = dot<A>(bt + q * A, r);
        }
        for (int q = 0; q < A; ++q) {
            __m256 col[A];
            for (int i = 0; i < A; ++i) col[i] = rowT[i * A + q];
            for (int p = 0; p < A; ++p) {
                const __m256 v = dot<A>(bt + p * A, col);
                float* dst = V + (p * A + q) * ldXi + t0;
                if (lanes == 8) {
                    _mm256_storeu_ps(dst, v);
                } else {
                    alignas(32) float tmp[8];
                    _mm256_store_ps(tmp, v);
                    std::copy(tmp, tmp + lanes, dst);
                }
            }
        }
    }
}

/// Output transform of every tile of one output plane: M[ξ·ldXi + t] for tile t (8 floats readable
/// from each, garbage past the last tile is ignored), results + bias to out[(R·m + i)·ldo + S·m + j].
template <int A>
void transformOutputPlane(const float* M, std::int64_t ldXi, std::int64_t tilesH, std::int64_t tilesW,
                          const LaneCoefficient* at, float bias, float* out, std::int64_t ldo) {
    constexpr int m = A - 2;
    const std::int64_t tiles = tilesH * tilesW;
    const __m256 b = _mm256_set1_ps(bias);
    std::int64_t R = 0, S = 0;
    for (std::int64_t t0 = 0; t0 < tiles; t0 += 8) {
        const int lanes = static_cast<int>(std::min<std::int64_t>(8, tiles - t0));
        float* dst[8];
        for (int l = 0; l < lanes; ++l) {
            dst[l] = out + R * m * ldo + S * m;
            if (++S == tilesW) S = 0, ++R;
        }
        __m256 colT[m * A];  // colT[p·A + j] = Σ_i Aᵀ[p][i] M[i][j]
        for (int j = 0; j < A; ++j) {
            __m256 col[A];
            for (int i = 0; i < A; ++i) col[i] = _mm256_loadu_ps(M + (i * A + j) * ldXi + t0);
            for (int p = 0; p < m; ++p) colT[p * A + j] = dot<A>(at + p * A, col);
        }
        for (int p = 0; p < m; ++p) {
            __m256 r[8];
            for (int q = 0; q < m; ++q) r[q] = _mm256_add_ps(dot<A>(at + q * A, colT + p * A), b);
            for (int q = m; q < 8; ++q) r[q] = _mm256_setzero_ps();
            transpose8x8(r);  // r[l] = output row p of tile l
            for (int l = 0; l < lanes; ++l) storeFirst<m>(dst[l] + p * ldo, r[l]);
        }
    }
}

/// The float32 Winograd convolution with transformed filters U[ξ][K][C]; owns its workspace.
class WinogradAvx2 {
public:
    static bool handles(int alpha) { return alpha == 4 || alpha == 6 || alpha == 8; }

    WinogradAvx2(const ConvProblem& problem, const WinogradTransforms& t)
        : pr_(problem), m_(t.m), alpha_(t.alpha), bt_(broadcastCoefficients(t.BT)), at_(broadcastCoefficients(t.AT)) {
        tilesH_ = (pr_.P() + m_ - 1) / m_;
        tilesW_ = (pr_.Q() + m_ - 1) / m_;
        tiles_ = tilesH_ * tilesW_;
        T_ = pr_.N * tiles_;
        // padded plane: tile rows reach row tilesH·m + 1, and 8 floats are read from each tile's origin
        padRows_ = tilesH_ * m_ + 2;
        padCols_ = std::max<std::int64_t>(tilesW_ * m_ + 2, (tilesW_ - 1) * m_ + 8);
        const auto a2 = static_cast<std::size_t>(alpha_ * alpha_);
        V_.resize(a2 * static_cast<std::size_t>(pr_.C * T_));
        M_.resize(a2 * static_cast<std::size_t>(pr_.K * T_) + 8);  // + 8: the last tile group reads a full vector
    }

    void execute(const float* U, const float* x, const float* bias, float* y) {
        switch (alpha_) {
        case 4: return run<4>(U, x, bias, y);
        case 6: return run<6>(U, x, bias, y);
        default: return run<8>(U, x, bias, y);
        }
    }

private:
    template <int A>
    void run(const float* U, const float* x, const float* bias, float* y) {
        constexpr int m = A - 2;
        const std::int64_t C = pr_.C, K = pr_.K, T = T_, a2 = A * A;
        const std::int64_t H = pr_.H, W = pr_.W, P = pr_.P(), Q = pr_.Q();
        // input rows / columns that land in the padded plane
        KS_WINOGRAD_STAGE(-1);
        const std::int64_t rows = std::min(H, padRows_ - pr_.padH), cols = std::min(W, padCols_ - pr_.padW);
        parallelFor(pr_.N * C, 4.0 * double(C * T) * a2 * A, [&](std::int64_t begin, std::int64_t end) {
            std::vector<float> padded(static_cast<std::size_t>(padRows_ * padCols_), 0.0f);
            for (std::int64_t unit = begin; unit < end; ++unit) {
                const std::int64_t n = unit / C, c = unit % C;
                const float* plane = x + unit * H * W;
                for (std::int64_t i = 0; i < rows; ++i)
                    std::copy(plane + i * W, plane + i * W + cols, padded.data() + (i + pr_.padH) * padCols_ + pr_.padW);
                transformInputPlane<A>(padded.data(), padCols_, tilesH_, tilesW_, bt_.data(),
                                       V_.data() + c * T + n * tiles_, C * T);
            }
        });
        KS_WINOGRAD_STAGE(0);
        parallelFor(a2, 2.0 * double(a2) * double(K * C) * double(T), [&](std::int64_t begin, std::int64_t end) {
            for (std::int64_t xi = begin; xi < end; ++xi)
                matmul::sgemm(matmul::Trans::No, matmul::Trans::No, K, T, C, U + xi * K * C, C, V_.data() + xi * C * T,
                              T, M_.data() + xi * K * T, T, false, 1);
        });
        KS_WINOGRAD_STAGE(1);
        // whole tiles are written in place; otherwise into a plane of whole tiles, then clipped
        const bool inPlace = P % m == 0 && Q % m == 0;
        parallelFor(pr_.N * K, 4.0 * double(K * T) * a2 * m, [&](std::int64_t begin, std::int64_t end) {
            std::vector<float> whole(inPlace ? 0 : static_cast<std::size_t>(tilesH_ * m * tilesW_ * m));
            for (std::int64_t unit = begin; unit < end; ++unit) {
                const std::int64_t n = unit / K, k = unit % K;
                float* plane = y + unit * P * Q;
                const float b = bias ? bias[k] : 0.0f;
                const float* src = M_.data() + k * T + n * tiles_;
                if (inPlace) {
                    transformOutputPlane<A>(src, K * T, tilesH_, tilesW_, at_.data(), b, plane, Q);
                    continue;
                }
                const std::int64_t ldo = tilesW_ * m;
                transformOutputPlane<A>(src, K * T, tilesH_, tilesW_, at_.data(), b, whole.data(), ldo);
                for (std::int64_t i = 0; i < P; ++i)
                    std::copy(whole.data() + i * ldo, whole.data() + i * ldo + Q, plane + i * Q);
            }
        });
        KS_WINOGRAD_STAGE(2);
    }

    ConvProblem pr_;
    int m_, alpha_;
    std::vector<LaneCoefficient> bt_, at_;
    std::int64_t tilesH_, tilesW_, tiles_, T_, padRows_, padCols_;
    std::vector<float> V_, M_;
};

}  // namespace ks::conv::detail
