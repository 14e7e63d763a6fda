// AVX2 + FMA micro-kernels of sgemm (contract: gemm_kernel.hpp). The C tile lives in ymm registers
// for the whole k loop: per k, NV vector loads of B, one broadcast of A per row, MR·NV FMAs.
// Zen 3 has two 4-cycle FMA pipes, so ≥ 8 independent accumulators are needed to keep them busy:
//  - wide 6×16: 12 accumulators (6 rows × 2 vectors), the classic shape for 16 ymm registers;
//  - narrow 6×8: one vector per row is only 6 accumulators, so k is split into two interleaved
//    chains (even and odd p), 12 accumulators summed at the end.
#if defined(__AVX2__) && defined(__FMA__)

#include <immintrin.h>

#include "matmul/gemm_kernel.hpp"

namespace ks::matmul::kernel {

namespace {

// Named accumulators rather than an array: GCC does not keep an array of __m256 in registers and
// would store all twelve to the stack on every k step (half the speed).

/// The C tile is needed only after the k loop: start fetching it now (two lines per row: a 16-float
/// row need not be 64-byte aligned), so that its cache misses overlap the multiply-adds.
inline void prefetchTile(const float* c, std::int64_t ldc, int width) {
    for (int i = 0; i < 6; ++i) {
        _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + width - 1), _MM_HINT_T0);
    }
}

inline __m256 addTo(const float* c, __m256 value, bool accumulate) {
    return accumulate ? _mm256_add_ps(_mm256_loadu_ps(c), value) : value;
}

void kernel6x16(std::int64_t k, const float* a, std::int64_t rowStride, std::int64_t colStride, const float* b,
                float* c, std::int64_t ldc, bool accumulate) {
    prefetchTile(c, ldc, 16);
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    const float* a0 = a;
    const float* a1 = a + rowStride;
    const float* a2 = a + 2 * rowStride;
    const float* a3 = a + 3 * rowStride;
    const float* a4 = a + 4 * rowStride;
    const float* a5 = a + 5 * rowStride;
    std::int64_t offset = 0;  // p·colStride
    for (std::int64_t p = 0; p < k; ++p, offset += colStride, b += 16) {
        const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        __m256 av = _mm256_broadcast_ss(a0 + offset);
        c00 = _mm256_fmadd_ps(av, b0, c00);
        c01 = _mm256_fmadd_ps(av, b1, c01);
        av = _mm256_broadcast_ss(a1 + offset);
        c10 = _mm256_fmadd_ps(av, b0, c10);
        c11 = _mm256_fmadd_ps(av, b1, c11);
        av = _mm256_broadcast_ss(a2 + offset);
        c20 = _mm256_fmadd_ps(av, b0, c20);
        c21 = _mm256_fmadd_ps(av, b1, c21);
        av = _mm256_broadcast_ss(a3 + offset);
        c30 = _mm256_fmadd_ps(av, b0, c30);
        c31 = _mm256_fmadd_ps(av, b1, c31);
        av = _mm256_broadcast_ss(a4 + offset);
        c40 = _mm256_fmadd_ps(av, b0, c40);
        c41 = _mm256_fmadd_ps(av, b1, c41);
        av = _mm256_broadcast_ss(a5 + offset);
        c50 = _mm256_fmadd_ps(av, b0, c50);
        c51 = _mm256_fmadd_ps(av, b1, c51);
    }
    const __m256 rows[6][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    for (int i = 0; i < 6; ++i, c += ldc) {
        _mm256_storeu_ps(c, addTo(c, rows[i][0], accumulate));
        _mm256_storeu_ps(c + 8, addTo(c + 8, rows[i][1], accumulate));
    }
}

void kernel6x8(std::int64_t k, const float* a, std::int64_t rowStride, std::int64_t colStride, const float* b,
               float* c, std::int64_t ldc, bool accumulate) {
    prefetchTile(c, ldc, 8);
    // e: even p, o: odd p (two independent chains per row).
    __m256 e0 = _mm256_setzero_ps(), e1 = e0, e2 = e0, e3 = e0, e4 = e0, e5 = e0;
    __m256 o0 = e0, o1 = e0, o2 = e0, o3 = e0, o4 = e0, o5 = e0;
    const float* a0 = a;
    const float* a1 = a + rowStride;
    const float* a2 = a + 2 * rowStride;
    const float* a3 = a + 3 * rowStride;
    const float* a4 = a + 4 * rowStride;
    const float* a5 = a + 5 * rowStride;
    std::int64_t offset = 0;
    std::int64_t p = 0;
    for (; p + 2 <= k; p += 2, offset += 2 * colStride, b += 16) {
        const __m256 be = _mm256_loadu_ps(b), bo = _mm256_loadu_ps(b + 8);
        const std::int64_t next = offset + colStride;
        e0 = _mm256_fmadd_ps(_mm256_broadcast_ss(a0 + offset), be, e0);
        o0 = _mm256_fmadd_ps(_mm256_broadcast_ss(a0 + next), bo, o0);
        e1 = _mm256_fmadd_ps(_mm256_broadcast_ss(a1 + offset), be, e1);
        o1 = _mm256_fmadd_ps(_mm256_broadcast_ss(a1 + next), bo, o1);
        e2 = _mm256_fmadd_ps(_mm256_broadcast_ss(a2 + offset), be, e2);
        o2 = _mm256_fmadd_ps(_mm256_broadcast_ss(a2 + next), bo, o2);
        e3 = _mm256_fmadd_ps(_mm256_broadcast_ss(a3 + offset), be, e3);
        o3 = _mm256_fmadd_ps(_mm256_broadcast_ss(a3 + next), bo, o3);
        e4 = _mm256_fmadd_ps(_mm256_broadcast_ss(a4 + offset), be, e4);
        o4 = _mm256_fmadd_ps(_mm256_broadcast_ss(a4 + next), bo, o4);
        e5 = _mm256_fmadd_ps(_mm256_broadcast_ss(a5 + offset), be, e5);
        o5 = _mm256_fmadd_ps(_mm256_broadcast_ss(a5 + next), bo, o5);
    }
    if (p < k) {
        const __m256 be = _mm256_loadu_ps(b);
        e0 = _mm256_fmadd_ps(_mm256_broadcast_ss(a0 + offset), be, e0);
        e1 = _mm256_fmadd_ps(_mm256_broadcast_ss(a1 + offset), be, e1);
        e2 = _mm256_fmadd_ps(_mm256_broadcast_ss(a2 + offset), be, e2);
        e3 = _mm256_fmadd_ps(_mm256_broadcast_ss(a3 + offset), be, e3);
        e4 = _mm256_fmadd_ps(_mm256_broadcast_ss(a4 + offset), be, e4);
        e5 = _mm256_fmadd_ps(_mm256_broadcast_ss(a5 + offset), be, e5);
    }
    const __m256 rows[6] = {_mm256_add_ps(e0, o0), _mm256_add_ps(e1, o1), _mm256_add_ps(e2, o2),
                            _mm256_add_ps(e3, o3), _mm256_add_ps(e4, o4), _mm256_add_ps(e5, o5)};
    for (int i = 0; i < 6; ++i, c += ldc) _mm256_storeu_ps(c, addTo(c, rows[i], accumulate));
}

}  // namespace

const GemmKernel& wideKernel() {
    static const GemmKernel kernel{"avx2-fma 6x16", 6, 16, &kernel6x16};
    return kernel;
}

const GemmKernel& narrowKernel() {
    static const GemmKernel kernel{"avx2-fma 6x8 (2 k-chains)", 6, 8, &kernel6x8};
    return kernel;
}

}  // namespace ks::matmul::kernel

#endif
