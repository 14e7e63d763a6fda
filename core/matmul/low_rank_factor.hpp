#pragma once
// A matrix A (rows×cols) stored as a rank-r product A_r = L·R, with L = U_r·Σ_r (rows×r) and
// R = V_rᵀ (r×cols), from a truncated singular value decomposition. Made once (the expensive part),
// then used in products at r·(rows + cols) operations per row of the other operand instead of rows·cols.
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "matmul/gemm.hpp"

namespace ks::matmul {

class LowRankFactor {
public:
    /// Exact truncation (Eigen's divide-and-conquer SVD, in double). No rank, or a rank ≥ min(rows, cols),
    /// keeps every singular triple: the product reproduces A to rounding.
    static LowRankFactor truncatedSvd(std::span<const float> a, std::int64_t rows, std::int64_t cols,
                                      std::optional<std::int64_t> rank);
    /// Randomized range finder (Halko, Martinsson, Tropp 2011): Gaussian sketch with `oversampling` extra
    /// columns, `powerIterations` rounds of re-orthonormalised A·Aᵀ, then an exact SVD of the small
    /// (r + p)×cols projection. Cost O(rows·cols·(r + p)) instead of O(rows·cols·min(rows, cols)).
    static LowRankFactor randomizedSvd(std::span<const float> a, std::int64_t rows, std::int64_t cols,
                                       std::int64_t rank, int oversampling = 10, int powerIterations = 2,
                                       std::uint64_t seed = 1);

    std::int64_t rows() const { return rows_; }
    std::int64_t cols() const { return cols_; }
    std::int64_t rank() const { return rank_; }
    const std::vector<float>& left() const { return left_; }    ///< rows×rank, row-major, U_r·Σ_r
    const std::vector<float>& right() const { return right_; }  ///< rank×cols, row-major, V_rᵀ
    /// Exact: all min(rows, cols) singular values; randomized: the estimates of the first `rank`.
    const std::vector<double>& singularValues() const { return singularValues_; }
    /// Eckart–Young: ‖A − A_r‖_F = sqrt(Σ_{i ≥ r} σ_i²). Exact factorisations only (throws otherwise).
    double predictedFrobeniusError() const;
    bool exact() const { return exact_; }

    /// L·R as a dense rows×cols matrix.
    std::vector<float> reconstruct() const;

    /// out (xRows×cols) = X (xRows×rows) · A_r, computed as (X·L)·R. `workspace` needs
    /// xRows·rank floats (allocated if empty). 2·xRows·rank·(rows + cols) operations.
    void multiplyFromLeft(const float* x, std::int64_t xRows, float* out, std::span<float> workspace = {}) const;
    /// out (rows×yCols) = A_r · Y (cols×yCols), computed as L·(R·Y). `workspace` needs rank·yCols floats.
    void multiplyFromRight(const float* y, std::int64_t yCols, float* out, std::span<float> workspace = {}) const;

    double flopsFromLeft(std::int64_t xRows) const { return 2.0 * double(xRows) * double(rank_) * double(rows_ + cols_); }
    double flopsFromRight(std::int64_t yCols) const { return 2.0 * double(yCols) * double(rank_) * double(rows_ + cols_); }

private:
    /// left: rows×rank, right: rank×cols, row-major (rows_, cols_, rank_ already set).
    void setFactors(const double* left, const double* right);

    std::int64_t rows_ = 0, cols_ = 0, rank_ = 0;
    bool exact_ = true;
    std::vector<float> left_, right_;
    /// L and R packed once for sgemmPacked: X·L and T·R pack nothing per call (at rank 64, packing
    /// L again was 5 % of the product).
    PackedB leftPacked_, rightPacked_;
    std::vector<double> singularValues_;
};

}  // namespace ks::matmul
