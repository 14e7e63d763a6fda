#pragma once
// Single-threaded float32 GEMM through Eigen's blocked kernel. The convolution algorithms run many
// independent GEMMs on their own threads; Eigen's product expression would instead start an
// OpenMP team inside each (kscore links OpenMP for the matmul module), oversubscribing the cores.
#include <cstdint>

namespace ks::conv::detail {

/// C = A·B with row-major A (M×K, leading dimension lda), B (K×N, ldb), C (M×N, ldc).
void gemmSerial(std::int64_t M, std::int64_t N, std::int64_t K, const float* A, std::int64_t lda, const float* B,
                std::int64_t ldb, float* C, std::int64_t ldc);

}  // namespace ks::conv::detail
