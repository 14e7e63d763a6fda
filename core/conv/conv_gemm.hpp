#pragma once
// Single-threaded float32 GEMM for the convolution algorithms: they run many independent GEMMs on
// their own threads, so each is matmul::sgemm on the calling thread only (threads = 1).
#include <cstdint>

namespace ks::conv::detail {

/// C = A·B with row-major A (M×K, leading dimension lda), B (K×N, ldb), C (M×N, ldc).
void gemmSerial(std::int64_t M, std::int64_t N, std::int64_t K, const float* A, std::int64_t lda, const float* B,
                std::int64_t ldb, float* C, std::int64_t ldc);

}  // namespace ks::conv::detail
