// sgemm, first version: Eigen's blocked kernel called without its parallel dispatcher, split over
// rows of C by OpenMP. (To be replaced by our own packed AVX2 kernel.)
#include "matmul/gemm.hpp"

#include <Eigen/Core>

#include <algorithm>

#include "matmul/dense_matmul.hpp"

namespace ks::matmul {

namespace {

template <int LhsOrder, int RhsOrder>
void eigenSerial(std::int64_t m, std::int64_t n, std::int64_t k, const float* a, std::int64_t lda, const float* b,
                 std::int64_t ldb, float* c, std::int64_t ldc) {
    using Index = Eigen::Index;
    Eigen::internal::gemm_blocking_space<Eigen::RowMajor, float, float, Eigen::Dynamic, Eigen::Dynamic, Eigen::Dynamic,
                                         1, false>
        blocking(m, n, k, 1, true);
    Eigen::internal::general_matrix_matrix_product<Index, float, LhsOrder, false, float, RhsOrder, false,
                                                   Eigen::RowMajor, 1>::run(m, n, k, a, lda, b, ldb, c, 1, ldc, 1.0f,
                                                                            blocking, nullptr);
}

void serial(Trans ta, Trans tb, std::int64_t m, std::int64_t n, std::int64_t k, const float* a, std::int64_t lda,
            const float* b, std::int64_t ldb, float* c, std::int64_t ldc, bool accumulate) {
    if (!accumulate)
        for (std::int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    if (m == 0 || n == 0 || k == 0) return;
    constexpr int R = Eigen::RowMajor, C = Eigen::ColMajor;
    if (ta == Trans::No && tb == Trans::No) eigenSerial<R, R>(m, n, k, a, lda, b, ldb, c, ldc);
    if (ta == Trans::No && tb == Trans::Yes) eigenSerial<R, C>(m, n, k, a, lda, b, ldb, c, ldc);
    if (ta == Trans::Yes && tb == Trans::No) eigenSerial<C, R>(m, n, k, a, lda, b, ldb, c, ldc);
    if (ta == Trans::Yes && tb == Trans::Yes) eigenSerial<C, C>(m, n, k, a, lda, b, ldb, c, ldc);
}

}  // namespace

void sgemm(Trans transA, Trans transB, std::int64_t m, std::int64_t n, std::int64_t k, const float* a,
           std::int64_t lda, const float* b, std::int64_t ldb, float* c, std::int64_t ldc, bool accumulate,
           int threads) {
    if (threads == 1 || 2.0 * double(m) * double(n) * double(k) < 2.0e6) {
        serial(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
        return;
    }
    parallelBlocks(m, 8, [&](std::int64_t r0, std::int64_t r1) {
        const float* aBlock = transA == Trans::No ? a + r0 * lda : a + r0;
        serial(transA, transB, r1 - r0, n, k, aBlock, lda, b, ldb, c + r0 * ldc, ldc, accumulate);
    });
}

}  // namespace ks::matmul
