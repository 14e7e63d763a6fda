#pragma once
// The dense float32 product (sgemm, gemm.hpp), and which GEMM it runs on. (Its threads are those of
// every parallel loop: ks::threadCount(), base/parallel.hpp.)
#include <cstdint>

namespace ks::matmul {

enum class DenseThreading : std::uint8_t {
    /// sgemm: C split into one contiguous block of rows per thread, the threads sharing one packed
    /// B panel (or, when wider than tall, into blocks of columns, each packing its own part of B).
    Split,
    /// Eigen's own OpenMP GEMM, kept as a baseline to compare sgemm with in one run (`bench matmul`).
    Eigen,
};

/// C (m×n) = A (m×k) · B (k×n), row-major, leading dimensions equal to the column counts, on
/// threadCount() threads: sgemm, or Eigen's product under DenseThreading::Eigen.
void denseGemm(std::int64_t m, std::int64_t k, std::int64_t n, const float* a, const float* b, float* c);

DenseThreading denseThreading();
void setDenseThreading(DenseThreading threading);

}  // namespace ks::matmul
