// AVX2 + FMA micro-kernels of sgemm (contract: gemm_kernel.hpp). The C tile lives in ymm registers
// for the whole k loop: per k, NV vector loads of B, one broadcast of A per row, MR·NV FMAs.
// Zen 3 has two 4-cycle FMA pipes, so ≥ 8 independent accumulators are needed to keep them busy:
//  - wide 6×16: 12 accumulators (6 rows × 2 vectors), the classic shape for 16 ymm registers;
//  - narrow 12×8: one vector per row, so twelve rows for twelve accumulators. Per k, one load of B
//    and twelve broadcasts feed twelve FMAs (Zen 3 issues three loads per cycle, so the FMAs stay
//    the limit). It replaced a 6×8 tile with two interleaved k chains and the dot-product kernel
//    for n ≤ 8: on the rank-8 factored layer's X·L (500×784·784×8, A in place, one thread, best
//    of 1000) 84 GFLOP/s against 76 and 73.
// The k loop is written once over an "A access" policy, instantiated for the three layouts the
// driver passes (packed sliver, row-major A in place, anything else). With the strides known at
// compile time and the loop unrolled ×4, every A and B address is a constant offset from two
// pointers: the loop is then FMAs and loads only, 93 GFLOP/s of a 98 GFLOP/s core in L1, against
// 72 GFLOP/s with run-time strides (measured on Zen 3 with the kernel alone, kc = 256).
#if defined(__AVX2__) && defined(__FMA__)

#include <immintrin.h>

#include "matmul/gemm_kernel.hpp"

namespace ks::matmul::kernel {

namespace {

constexpr int kMr = 6;         ///< rows of the wide tile
constexpr int kNarrowMr = 12;  ///< rows of the narrow tile

// A(i, p) broadcast to a vector, for the three layouts of the sliver.
template <int MR>
struct PackedA {  // packed by the driver: rowStride 1, colStride MR
    const float* a;
    __m256 operator()(int i, std::int64_t p) const { return _mm256_broadcast_ss(a + p * MR + i); }
};
struct RowMajorA {  // a row-major A read in place: rowStride lda, colStride 1
    const float* a;
    std::int64_t lda;
    __m256 operator()(int i, std::int64_t p) const { return _mm256_broadcast_ss(a + i * lda + p); }
};
struct StridedA {  // anything else (a transposed A read in place)
    const float* a;
    std::int64_t rowStride, colStride;
    __m256 operator()(int i, std::int64_t p) const { return _mm256_broadcast_ss(a + i * rowStride + p * colStride); }
};

/// Calls body(access) with the cheapest access policy for the strides (MR: the tile's rows).
template <int MR, class Body>
inline void withAccess(const float* a, std::int64_t rowStride, std::int64_t colStride, Body&& body) {
    if (rowStride == 1 && colStride == MR) body(PackedA<MR>{a});
    else if (colStride == 1) body(RowMajorA{a, rowStride});
    else body(StridedA{a, rowStride, colStride});
}

/// The C tile is needed only after the k loop: start fetching it now (two lines per row: a 16-float
/// row need not be 64-byte aligned), so that its cache misses overlap the multiply-adds.
template <int MR>
inline void prefetchTile(const float* c, std::int64_t ldc, int width) {
    for (int i = 0; i < MR; ++i) {
        _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + width - 1), _MM_HINT_T0);
    }
}

/// The value stored at c: the product, plus C when accumulating, then the epilogue (bias: the
/// tile's 8 columns at this vector).
inline __m256 finish(const float* c, __m256 value, bool accumulate, const TileEpilogue* post, const float* bias) {
    if (accumulate) value = _mm256_add_ps(_mm256_loadu_ps(c), value);
    if (post) {
        if (bias) value = _mm256_add_ps(value, _mm256_loadu_ps(bias));
        // max(0, v) returns its second operand for NaN: a NaN stays NaN, as in PyTorch's relu.
        if (post->relu) value = _mm256_max_ps(_mm256_setzero_ps(), value);
    }
    return value;
}

// Named accumulators rather than an array: GCC does not keep an array of __m256 in registers and
// would store all twelve to the stack on every k step (half the speed).

template <class A>
inline void loop6x16(std::int64_t k, A a, const float* b, float* c, std::int64_t ldc, bool accumulate,
                     const TileEpilogue* post) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
#pragma GCC unroll 4
    for (std::int64_t p = 0; p < k; ++p) {
        const __m256 b0 = _mm256_loadu_ps(b + p * 16), b1 = _mm256_loadu_ps(b + p * 16 + 8);
        __m256 av = a(0, p);
        c00 = _mm256_fmadd_ps(av, b0, c00);
        c01 = _mm256_fmadd_ps(av, b1, c01);
        av = a(1, p);
        c10 = _mm256_fmadd_ps(av, b0, c10);
        c11 = _mm256_fmadd_ps(av, b1, c11);
        av = a(2, p);
        c20 = _mm256_fmadd_ps(av, b0, c20);
        c21 = _mm256_fmadd_ps(av, b1, c21);
        av = a(3, p);
        c30 = _mm256_fmadd_ps(av, b0, c30);
        c31 = _mm256_fmadd_ps(av, b1, c31);
        av = a(4, p);
        c40 = _mm256_fmadd_ps(av, b0, c40);
        c41 = _mm256_fmadd_ps(av, b1, c41);
        av = a(5, p);
        c50 = _mm256_fmadd_ps(av, b0, c50);
        c51 = _mm256_fmadd_ps(av, b1, c51);
    }
    // Row by row, straight-line: an array of the accumulators would go through the stack.
    const float* bias = post ? post->bias : nullptr;
    const float* bias8 = bias ? bias + 8 : nullptr;
    const auto storeRow = [&](float* row, __m256 left, __m256 right) {
        _mm256_storeu_ps(row, finish(row, left, accumulate, post, bias));
        _mm256_storeu_ps(row + 8, finish(row + 8, right, accumulate, post, bias8));
    };
    storeRow(c, c00, c01);
    storeRow(c + ldc, c10, c11);
    storeRow(c + 2 * ldc, c20, c21);
    storeRow(c + 3 * ldc, c30, c31);
    storeRow(c + 4 * ldc, c40, c41);
    storeRow(c + 5 * ldc, c50, c51);
}

template <class A>
inline void loop12x8(std::int64_t k, A a, const float* b, float* c, std::int64_t ldc, bool accumulate,
                     const TileEpilogue* post) {
    __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
    __m256 c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
#pragma GCC unroll 4
    for (std::int64_t p = 0; p < k; ++p) {
        const __m256 bv = _mm256_loadu_ps(b + p * 8);
        c0 = _mm256_fmadd_ps(a(0, p), bv, c0);
        c1 = _mm256_fmadd_ps(a(1, p), bv, c1);
        c2 = _mm256_fmadd_ps(a(2, p), bv, c2);
        c3 = _mm256_fmadd_ps(a(3, p), bv, c3);
        c4 = _mm256_fmadd_ps(a(4, p), bv, c4);
        c5 = _mm256_fmadd_ps(a(5, p), bv, c5);
        c6 = _mm256_fmadd_ps(a(6, p), bv, c6);
        c7 = _mm256_fmadd_ps(a(7, p), bv, c7);
        c8 = _mm256_fmadd_ps(a(8, p), bv, c8);
        c9 = _mm256_fmadd_ps(a(9, p), bv, c9);
        c10 = _mm256_fmadd_ps(a(10, p), bv, c10);
        c11 = _mm256_fmadd_ps(a(11, p), bv, c11);
    }
    const float* bias = post ? post->bias : nullptr;
    const auto storeRow = [&](int i, __m256 value) {
        float* row = c + i * ldc;
        _mm256_storeu_ps(row, finish(row, value, accumulate, post, bias));
    };
    storeRow(0, c0);
    storeRow(1, c1);
    storeRow(2, c2);
    storeRow(3, c3);
    storeRow(4, c4);
    storeRow(5, c5);
    storeRow(6, c6);
    storeRow(7, c7);
    storeRow(8, c8);
    storeRow(9, c9);
    storeRow(10, c10);
    storeRow(11, c11);
}

void kernel6x16(std::int64_t k, const float* a, std::int64_t rowStride, std::int64_t colStride, const float* b,
                float* c, std::int64_t ldc, bool accumulate, const TileEpilogue* post) {
    prefetchTile<kMr>(c, ldc, 16);
    withAccess<kMr>(a, rowStride, colStride, [&](auto access) { loop6x16(k, access, b, c, ldc, accumulate, post); });
}

void kernel12x8(std::int64_t k, const float* a, std::int64_t rowStride, std::int64_t colStride, const float* b,
                float* c, std::int64_t ldc, bool accumulate, const TileEpilogue* post) {
    prefetchTile<kNarrowMr>(c, ldc, 8);
    withAccess<kNarrowMr>(a, rowStride, colStride,
                          [&](auto access) { loop12x8(k, access, b, c, ldc, accumulate, post); });
}

/// Σ of each of four vectors, as the four lanes of one.
inline __m128 sum4(__m256 v0, __m256 v1, __m256 v2, __m256 v3) {
    const __m256 s01 = _mm256_hadd_ps(v0, v1), s23 = _mm256_hadd_ps(v2, v3);
    const __m256 s = _mm256_hadd_ps(s01, s23);  // lanes: (v0 v1 v2 v3) of the low half, then of the high
    return _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
}

/// 4×3 dot products along k, 8 products per FMA; the k % 8 tail through masked loads. Registers:
/// 12 accumulators, the 3 vectors of Bᵀ, and one of A at a time: all 16 (a 3×4 tile needs 17
/// and spills an accumulator to the stack on every step, at half the speed).
void dot4x3(std::int64_t k, const float* const* aRows, const float* const* btRows, float* out) {
    const float *a0 = aRows[0], *a1 = aRows[1], *a2 = aRows[2], *a3 = aRows[3];
    const float *b0 = btRows[0], *b1 = btRows[1], *b2 = btRows[2];
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
    __m256 c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00;
    auto step = [&](auto load, std::int64_t p) {
        const __m256 y0 = load(b0 + p), y1 = load(b1 + p), y2 = load(b2 + p);
        __m256 x = load(a0 + p);
        c00 = _mm256_fmadd_ps(x, y0, c00);
        c01 = _mm256_fmadd_ps(x, y1, c01);
        c02 = _mm256_fmadd_ps(x, y2, c02);
        x = load(a1 + p);
        c10 = _mm256_fmadd_ps(x, y0, c10);
        c11 = _mm256_fmadd_ps(x, y1, c11);
        c12 = _mm256_fmadd_ps(x, y2, c12);
        x = load(a2 + p);
        c20 = _mm256_fmadd_ps(x, y0, c20);
        c21 = _mm256_fmadd_ps(x, y1, c21);
        c22 = _mm256_fmadd_ps(x, y2, c22);
        x = load(a3 + p);
        c30 = _mm256_fmadd_ps(x, y0, c30);
        c31 = _mm256_fmadd_ps(x, y1, c31);
        c32 = _mm256_fmadd_ps(x, y2, c32);
    };
    const auto full = [](const float* q) { return _mm256_loadu_ps(q); };
    std::int64_t p = 0;
#pragma GCC unroll 2
    for (; p + 8 <= k; p += 8) step(full, p);
    if (p < k) {  // lanes ≥ k - p are not read (masked loads do not fault) and count as zero
        const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(k - p)),
                                                _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        step([mask](const float* q) { return _mm256_maskload_ps(q, mask); }, p);
    }
    const __m256 zero = _mm256_setzero_ps();  // the fourth column of each sum4 (not stored)
    alignas(16) float row[4];
    const __m256 sums[4][3] = {{c00, c01, c02}, {c10, c11, c12}, {c20, c21, c22}, {c30, c31, c32}};
    for (int i = 0; i < 4; ++i) {
        _mm_store_ps(row, sum4(sums[i][0], sums[i][1], sums[i][2], zero));
        out[i * 3] = row[0];
        out[i * 3 + 1] = row[1];
        out[i * 3 + 2] = row[2];
    }
}

/// Six rows of A into six consecutive rows of a packed sliver MR rows high (A(i, p) at
/// out[p·MR + i]), 8 columns at a time: an 8×8 transpose in registers (rows 6 and 7 are
/// don't-cares) turns 6 row loads into 8 columns of the sliver, 6 floats each. About 3× faster
/// than the scalar gather, which took 7 % of the dense digit MLP.
template <int MR>
void packSixRows(std::int64_t k, const float* a, std::int64_t lda, float* out) {
    const float* r0 = a;
    const float* r1 = a + lda;
    const float* r2 = a + 2 * lda;
    const float* r3 = a + 3 * lda;
    const float* r4 = a + 4 * lda;
    const float* r5 = a + 5 * lda;
    std::int64_t p = 0;
    for (; p + 8 <= k; p += 8, out += 8 * MR) {
        const __m256 x0 = _mm256_loadu_ps(r0 + p), x1 = _mm256_loadu_ps(r1 + p), x2 = _mm256_loadu_ps(r2 + p);
        const __m256 x3 = _mm256_loadu_ps(r3 + p), x4 = _mm256_loadu_ps(r4 + p), x5 = _mm256_loadu_ps(r5 + p);
        const __m256 zero = _mm256_setzero_ps();
        // Interleave pairs of rows, then pairs of pairs: t·q holds rows 0–3 (q = a) or 4–7 (q = b) of
        // columns {0, 1, 4, 5} / {2, 3, 6, 7}; the 128-bit halves then give whole columns.
        const __m256 u01l = _mm256_unpacklo_ps(x0, x1), u01h = _mm256_unpackhi_ps(x0, x1);
        const __m256 u23l = _mm256_unpacklo_ps(x2, x3), u23h = _mm256_unpackhi_ps(x2, x3);
        const __m256 u45l = _mm256_unpacklo_ps(x4, x5), u45h = _mm256_unpackhi_ps(x4, x5);
        const __m256 u67l = zero, u67h = zero;
        const __m256 c0a = _mm256_shuffle_ps(u01l, u23l, 0x44), c1a = _mm256_shuffle_ps(u01l, u23l, 0xEE);
        const __m256 c2a = _mm256_shuffle_ps(u01h, u23h, 0x44), c3a = _mm256_shuffle_ps(u01h, u23h, 0xEE);
        const __m256 c0b = _mm256_shuffle_ps(u45l, u67l, 0x44), c1b = _mm256_shuffle_ps(u45l, u67l, 0xEE);
        const __m256 c2b = _mm256_shuffle_ps(u45h, u67h, 0x44), c3b = _mm256_shuffle_ps(u45h, u67h, 0xEE);
        // Column c (c < 4) is the low halves of (c·a, c·b), column c + 4 their high halves; rows 0–3
        // come from ·a, rows 4–5 from the low two floats of ·b.
        const __m256 cols[4][2] = {{c0a, c0b}, {c1a, c1b}, {c2a, c2b}, {c3a, c3b}};
        for (int c = 0; c < 4; ++c) {
            float* lo = out + c * MR;
            float* hi = out + (c + 4) * MR;
            _mm_storeu_ps(lo, _mm256_castps256_ps128(cols[c][0]));
            _mm_storel_pi(reinterpret_cast<__m64*>(lo + 4), _mm256_castps256_ps128(cols[c][1]));
            _mm_storeu_ps(hi, _mm256_extractf128_ps(cols[c][0], 1));
            _mm_storel_pi(reinterpret_cast<__m64*>(hi + 4), _mm256_extractf128_ps(cols[c][1], 1));
        }
    }
    for (; p < k; ++p, out += kMr) {
        out[0] = r0[p];
        out[1] = r1[p];
        out[2] = r2[p];
        out[3] = r3[p];
        out[4] = r4[p];
        out[5] = r5[p];
    }
}

void packRows6(std::int64_t k, const float* a, std::int64_t lda, float* out) { packSixRows<kMr>(k, a, lda, out); }

void packRows12(std::int64_t k, const float* a, std::int64_t lda, float* out) {
    packSixRows<kNarrowMr>(k, a, lda, out);
    packSixRows<kNarrowMr>(k, a + 6 * lda, lda, out + 6);
}

}  // namespace

const DotKernel& dotKernel() {
    static const DotKernel kernel{"avx2-fma dot 4x3", &dot4x3};
    return kernel;
}

const GemmKernel& wideKernel() {
    static const GemmKernel kernel{"avx2-fma 6x16", kMr, 16, &kernel6x16, &packRows6};
    return kernel;
}

const GemmKernel& narrowKernel() {
    static const GemmKernel kernel{"avx2-fma 12x8", kNarrowMr, 8, &kernel12x8, &packRows12};
    return kernel;
}

}  // namespace ks::matmul::kernel

#endif
