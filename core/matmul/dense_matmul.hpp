#pragma once
// Eigen's blocked GEMM on float32 row-major matrices (multi-threaded through OpenMP).
#include <cstdint>

namespace ks::matmul {

/// C (m×n) = A (m×k) · B (k×n), row-major, leading dimensions equal to the column counts.
void denseGemm(std::int64_t m, std::int64_t k, std::int64_t n, const float* a, const float* b, float* c);

/// Threads Eigen's GEMM uses (OpenMP's maximum unless set).
int denseThreads();
/// Set the threads of every Eigen product (dense, and the factored products of svd); ≥ 1.
void setDenseThreads(int threads);

}  // namespace ks::matmul
