#include "conv/conv_gemm.hpp"

#include "matmul/gemm.hpp"

namespace ks::conv::detail {

void gemmSerial(std::int64_t M, std::int64_t N, std::int64_t K, const float* A, std::int64_t lda, const float* B,
                std::int64_t ldb, float* C, std::int64_t ldc) {
    matmul::sgemm(matmul::Trans::No, matmul::Trans::No, M, N, K, A, lda, B, ldb, C, ldc, false, 1);
}

}  // namespace ks::conv::detail
