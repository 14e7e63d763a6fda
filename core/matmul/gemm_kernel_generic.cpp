// Portable micro-kernels of sgemm (contract: gemm_kernel.hpp), used when the compiler does not
// target AVX2 + FMA (e.g. KS_NATIVE=OFF). Plain C++ over a local MR×NR tile: the fixed trip counts
// let the compiler keep the tile in vector registers for whatever SIMD the target has.
#if !(defined(__AVX2__) && defined(__FMA__))

#include "matmul/gemm_kernel.hpp"

namespace ks::matmul::kernel {

namespace {

template <int MR, int NR>
void genericKernel(std::int64_t k, const float* a, std::int64_t rowStride, std::int64_t colStride, const float* b,
                   float* c, std::int64_t ldc, bool accumulate, const TileEpilogue* post) {
    float acc[MR][NR] = {};
    for (std::int64_t p = 0; p < k; ++p) {
        const float* bRow = b + p * NR;
        for (int i = 0; i < MR; ++i) {
            const float ai = a[i * rowStride + p * colStride];
            for (int j = 0; j < NR; ++j) acc[i][j] += ai * bRow[j];
        }
    }
    for (int i = 0; i < MR; ++i) {
        float* row = c + i * ldc;
        for (int j = 0; j < NR; ++j) {
            float v = accumulate ? row[j] + acc[i][j] : acc[i][j];
            if (post && post->bias) v += post->bias[j];
            if (post && post->relu && v < 0.0f) v = 0.0f;  // NaN stays NaN
            row[j] = v;
        }
    }
}

void genericDot(std::int64_t k, const float* const* aRows, const float* const* btRows, float* out) {
    for (int i = 0; i < kDotRows; ++i)
        for (int j = 0; j < kDotColumns; ++j) {
            float sum = 0.0f;
            for (std::int64_t p = 0; p < k; ++p) sum += aRows[i][p] * btRows[j][p];
            out[i * kDotColumns + j] = sum;
        }
}

template <int MR>
void genericPackRows(std::int64_t k, const float* a, std::int64_t lda, float* out) {
    for (std::int64_t p = 0; p < k; ++p)
        for (int i = 0; i < MR; ++i) out[p * MR + i] = a[i * lda + p];
}

}  // namespace

const DotKernel& dotKernel() {
    static const DotKernel kernel{"generic dot 4x3", &genericDot};
    return kernel;
}

const GemmKernel& wideKernel() {
    static const GemmKernel kernel{"generic 4x16", 4, 16, &genericKernel<4, 16>, &genericPackRows<4>};
    return kernel;
}

const GemmKernel& narrowKernel() {
    static const GemmKernel kernel{"generic 4x8", 4, 8, &genericKernel<4, 8>, &genericPackRows<4>};
    return kernel;
}

}  // namespace ks::matmul::kernel

#endif
