#include "conv/conv_gemm.hpp"

#include <Eigen/Core>
#include <algorithm>

namespace ks::conv::detail {

void gemmSerial(std::int64_t M, std::int64_t N, std::int64_t K, const float* A, std::int64_t lda, const float* B,
                std::int64_t ldb, float* C, std::int64_t ldc) {
    for (std::int64_t i = 0; i < M; ++i) std::fill(C + i * ldc, C + i * ldc + N, 0.0f);
    if (M == 0 || N == 0 || K == 0) return;
    using Index = Eigen::Index;
    // The kernel Eigen's own product uses, called without its parallel dispatcher (info = nullptr).
    Eigen::internal::gemm_blocking_space<Eigen::RowMajor, float, float, Eigen::Dynamic, Eigen::Dynamic, Eigen::Dynamic,
                                         1, false>
        blocking(M, N, K, 1, true);
    Eigen::internal::general_matrix_matrix_product<Index, float, Eigen::RowMajor, false, float, Eigen::RowMajor, false,
                                                   Eigen::RowMajor, 1>::run(M, N, K, A, lda, B, ldb, C, 1, ldc, 1.0f,
                                                                            blocking, nullptr);
}

}  // namespace ks::conv::detail
