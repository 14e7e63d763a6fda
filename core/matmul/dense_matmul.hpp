#pragma once
// Eigen's blocked GEMM on float32 row-major matrices, on several threads.
#include <cstdint>
#include <functional>

namespace ks::matmul {

enum class DenseThreading : std::uint8_t {
    /// C split into one contiguous block of rows (or columns, when wider than tall) per thread, each a
    /// single-threaded Eigen GEMM: the threads never wait for each other until the end.
    Split,
    /// Eigen's own OpenMP GEMM (threads share packed panels of B but synchronise per panel).
    Eigen,
};

/// C (m×n) = A (m×k) · B (k×n), row-major, leading dimensions equal to the column counts.
void denseGemm(std::int64_t m, std::int64_t k, std::int64_t n, const float* a, const float* b, float* c);

/// Single-threaded C = A·B with leading dimensions (row-major): Eigen's blocked kernel called without
/// its parallel dispatcher, so that it can run inside our own threads.
void serialGemm(std::int64_t m, std::int64_t k, std::int64_t n, const float* a, std::int64_t lda, const float* b,
                std::int64_t ldb, float* c, std::int64_t ldc);

/// Threads of the float32 products (dense, and the factored products of svd); default: OpenMP's maximum.
int denseThreads();
void setDenseThreads(int threads);  ///< ≥ 1
DenseThreading denseThreading();
void setDenseThreading(DenseThreading threading);

/// fn(begin, end) on disjoint blocks covering [0, count), one per thread (blocks of at least `grain`).
/// fn should call serialGemm, not Eigen's product expressions (those would start their own team).
void parallelBlocks(std::int64_t count, std::int64_t grain, const std::function<void(std::int64_t, std::int64_t)>& fn);

}  // namespace ks::matmul
