#pragma once
// The dense float32 product (sgemm, gemm.hpp) and the thread settings of every float32 product.
#include <cstdint>
#include <functional>

namespace ks::matmul {

enum class DenseThreading : std::uint8_t {
    /// sgemm: C split into one contiguous block of rows (or columns, when wider than tall) per thread,
    /// each packing its own panels: the threads never wait for each other until the end.
    Split,
    /// Eigen's own OpenMP GEMM, kept as a baseline to compare sgemm with in one run (`bench matmul`).
    Eigen,
};

/// C (m×n) = A (m×k) · B (k×n), row-major, leading dimensions equal to the column counts, on
/// denseThreads() threads: sgemm, or Eigen's product under DenseThreading::Eigen.
void denseGemm(std::int64_t m, std::int64_t k, std::int64_t n, const float* a, const float* b, float* c);

/// Threads of the float32 products (dense, and the factored products of svd); default: OpenMP's maximum.
int denseThreads();
void setDenseThreads(int threads);  ///< ≥ 1
DenseThreading denseThreading();
void setDenseThreading(DenseThreading threading);

/// fn(begin, end) on disjoint, non-empty pieces covering [0, count), at most `grain` long, on up to
/// denseThreads() threads: each thread takes the pieces of its own block of [0, count) (blocks of at
/// least `grain`), then any left in the others' blocks. With one block, fn(0, count) once on the
/// calling thread. The first exception thrown is rethrown.
/// fn should call sgemm with threads = 1, not Eigen's product expressions (those would start their own team).
void parallelBlocks(std::int64_t count, std::int64_t grain, const std::function<void(std::int64_t, std::int64_t)>& fn);

}  // namespace ks::matmul
