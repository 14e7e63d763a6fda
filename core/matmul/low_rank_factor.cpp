// The one translation unit that instantiates Eigen's SVD (BDCSVD<MatrixXd>: ≈ 20 s to compile).
#include "matmul/low_rank_factor.hpp"

#include "base/parallel.hpp"
#include "matmul/dense_matmul.hpp"
#include "matmul/gemm.hpp"

#include <Eigen/Dense>
#include <Eigen/SVD>
#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>
#include <string>

namespace ks::matmul {

namespace {

using RowMajorF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowMajorD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

void checkInput(std::span<const float> a, std::int64_t rows, std::int64_t cols) {
    if (rows <= 0 || cols <= 0)
        throw std::invalid_argument("low-rank factor: dimensions must be positive, got " + std::to_string(rows) +
                                    "×" + std::to_string(cols));
    if (static_cast<std::int64_t>(a.size()) != rows * cols)
        throw std::invalid_argument("low-rank factor: matrix has " + std::to_string(a.size()) + " elements, " +
                                    std::to_string(rows) + "×" + std::to_string(cols) + " needs " +
                                    std::to_string(rows * cols));
    for (float v : a)
        if (!std::isfinite(v)) throw std::invalid_argument("low-rank factor: the matrix holds a NaN or infinity");
}

Eigen::MatrixXd toDouble(std::span<const float> a, std::int64_t rows, std::int64_t cols) {
    return Eigen::Map<const RowMajorF>(a.data(), rows, cols).cast<double>();
}

/// Orthonormal basis of the columns of y (thin Householder QR).
Eigen::MatrixXd orthonormalBasis(const Eigen::MatrixXd& y) {
    Eigen::HouseholderQR<Eigen::MatrixXd> qr(y);
    return qr.householderQ() * Eigen::MatrixXd::Identity(y.rows(), y.cols());
}

}  // namespace

LowRankFactor LowRankFactor::truncatedSvd(std::span<const float> a, std::int64_t rows, std::int64_t cols,
                                          std::optional<std::int64_t> rank) {
    checkInput(a, rows, cols);
    if (rank && *rank <= 0) throw std::invalid_argument("low-rank factor: rank must be positive");
    const std::int64_t full = std::min(rows, cols);
    const std::int64_t r = rank ? std::min(*rank, full) : full;

    Eigen::BDCSVD<Eigen::MatrixXd> svd(toDouble(a, rows, cols), Eigen::ComputeThinU | Eigen::ComputeThinV);
    LowRankFactor f;
    f.rows_ = rows;
    f.cols_ = cols;
    f.rank_ = r;
    f.exact_ = true;
    const Eigen::VectorXd& sigma = svd.singularValues();
    f.singularValues_.assign(sigma.data(), sigma.data() + sigma.size());
    const RowMajorD left = svd.matrixU().leftCols(r) * sigma.head(r).asDiagonal();
    const RowMajorD right = svd.matrixV().leftCols(r).transpose();
    f.setFactors(left.data(), right.data());
    return f;
}

LowRankFactor LowRankFactor::randomizedSvd(std::span<const float> a, std::int64_t rows, std::int64_t cols,
                                           std::int64_t rank, int oversampling, int powerIterations,
                                           std::uint64_t seed) {
    checkInput(a, rows, cols);
    if (rank <= 0) throw std::invalid_argument("randomized SVD: rank must be positive");
    if (oversampling < 0 || powerIterations < 0)
        throw std::invalid_argument("randomized SVD: oversampling and power iterations must be ≥ 0");
    const std::int64_t full = std::min(rows, cols);
    const std::int64_t r = std::min(rank, full);
    const std::int64_t sketch = std::min<std::int64_t>(r + oversampling, full);

    const Eigen::MatrixXd A = toDouble(a, rows, cols);
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> normal;
    Eigen::MatrixXd omega(cols, sketch);
    for (Eigen::Index j = 0; j < omega.cols(); ++j)
        for (Eigen::Index i = 0; i < omega.rows(); ++i) omega(i, j) = normal(rng);

    Eigen::MatrixXd q = orthonormalBasis(A * omega);
    // Power iterations sharpen the decay of the spectrum (σ_i^(2q+1)); re-orthonormalising after each
    // product keeps the small singular directions from being lost to rounding.
    for (int it = 0; it < powerIterations; ++it) {
        const Eigen::MatrixXd z = orthonormalBasis(A.transpose() * q);
        q = orthonormalBasis(A * z);
    }
    const Eigen::MatrixXd small = q.transpose() * A;  // sketch×cols
    Eigen::BDCSVD<Eigen::MatrixXd> svd(small, Eigen::ComputeThinU | Eigen::ComputeThinV);

    LowRankFactor f;
    f.rows_ = rows;
    f.cols_ = cols;
    f.rank_ = r;
    f.exact_ = false;
    const Eigen::VectorXd sigma = svd.singularValues().head(r);
    f.singularValues_.assign(sigma.data(), sigma.data() + sigma.size());
    const RowMajorD left = (q * svd.matrixU().leftCols(r)) * sigma.asDiagonal();
    const RowMajorD right = svd.matrixV().leftCols(r).transpose();
    f.setFactors(left.data(), right.data());
    return f;
}

void LowRankFactor::setFactors(const double* left, const double* right) {
    left_.assign(left, left + rows_ * rank_);
    right_.assign(right, right + rank_ * cols_);
    leftPacked_ = PackedB(Trans::No, rows_, rank_, left_.data(), rank_);
    rightPacked_ = PackedB(Trans::No, rank_, cols_, right_.data(), cols_);
}

double LowRankFactor::predictedFrobeniusError() const {
    if (!exact_) throw std::logic_error("predicted error needs the exact singular values (truncatedSvd)");
    double tail = 0;
    for (std::size_t i = static_cast<std::size_t>(rank_); i < singularValues_.size(); ++i)
        tail += singularValues_[i] * singularValues_[i];
    return std::sqrt(tail);
}

std::vector<float> LowRankFactor::reconstruct() const {
    std::vector<float> out(static_cast<std::size_t>(rows_ * cols_));
    denseGemm(rows_, rank_, cols_, left_.data(), right_.data(), out.data());
    return out;
}

void LowRankFactor::multiplyFromLeft(const float* x, std::int64_t xRows, float* out, std::span<float> workspace) const {
    std::vector<float> own;
    if (workspace.empty()) {
        own.resize(static_cast<std::size_t>(xRows * rank_));
        workspace = own;
    }
    if (static_cast<std::int64_t>(workspace.size()) < xRows * rank_)
        throw std::invalid_argument("low-rank product: workspace too small");
    // Each piece of rows goes through both products on one thread: no synchronisation between them.
    // Pieces of 96 rows (whole slivers of the kernels' 6 and 12) of at least ~1 MFLOP at rank 8.
    const bool serial = flopsFromLeft(xRows) < 2.0e6;
    float* t = workspace.data();
    parallelClaims(xRows, serial ? xRows : 96, [&](std::int64_t r0, std::int64_t r1) {
        sgemmPacked(r1 - r0, x + r0 * rows_, rows_, leftPacked_, t + r0 * rank_, rank_);
        sgemmPacked(r1 - r0, t + r0 * rank_, rank_, rightPacked_, out + r0 * cols_, cols_);
    });
}

void LowRankFactor::multiplyFromRight(const float* y, std::int64_t yCols, float* out, std::span<float> workspace) const {
    std::vector<float> own;
    if (workspace.empty()) {
        own.resize(static_cast<std::size_t>(rank_ * yCols));
        workspace = own;
    }
    if (static_cast<std::int64_t>(workspace.size()) < rank_ * yCols)
        throw std::invalid_argument("low-rank product: workspace too small");
    denseGemm(rank_, cols_, yCols, right_.data(), y, workspace.data());
    denseGemm(rows_, rank_, yCols, left_.data(), workspace.data(), out);
}

}  // namespace ks::matmul
