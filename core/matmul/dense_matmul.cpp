// dense: Eigen's GEMM for native float32; under emulation, fused multiply-adds in the accumulation format.
#include "matmul/dense_matmul.hpp"

#include <Eigen/Core>
#include <omp.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "matmul/methods.hpp"
#include "matmul/naive_matmul.hpp"
#include "numeric/arithmetic.hpp"

namespace ks::matmul {

using RowMajorF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

namespace {

int g_threads = 0;  // 0: not set, OpenMP's maximum
DenseThreading g_threading = DenseThreading::Split;

/// Below this much work a single thread is faster than waking a second one.
constexpr double kMinParallelFlops = 2.0e6;

}  // namespace

int denseThreads() { return g_threads > 0 ? g_threads : omp_get_max_threads(); }

void setDenseThreads(int threads) {
    if (threads < 1) throw std::invalid_argument("dense: threads must be ≥ 1, got " + std::to_string(threads));
    g_threads = threads;
    Eigen::setNbThreads(threads);
}

DenseThreading denseThreading() { return g_threading; }
void setDenseThreading(DenseThreading threading) { g_threading = threading; }

void parallelBlocks(std::int64_t count, std::int64_t grain, const std::function<void(std::int64_t, std::int64_t)>& fn) {
    const std::int64_t blocks = std::max<std::int64_t>(1, std::min<std::int64_t>(denseThreads(), count / std::max<std::int64_t>(grain, 1)));
    if (blocks == 1) return fn(0, count);
#pragma omp parallel for num_threads(static_cast<int>(blocks)) schedule(static, 1)
    for (std::int64_t block = 0; block < blocks; ++block) {
        const std::int64_t begin = count * block / blocks, end = count * (block + 1) / blocks;
        fn(begin, end);
    }
}

void serialGemm(std::int64_t m, std::int64_t k, std::int64_t n, const float* a, std::int64_t lda, const float* b,
                std::int64_t ldb, float* c, std::int64_t ldc) {
    for (std::int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    if (m == 0 || n == 0 || k == 0) return;
    using Index = Eigen::Index;
    Eigen::internal::gemm_blocking_space<Eigen::RowMajor, float, float, Eigen::Dynamic, Eigen::Dynamic, Eigen::Dynamic, 1,
                                         false>
        blocking(m, n, k, 1, true);
    Eigen::internal::general_matrix_matrix_product<Index, float, Eigen::RowMajor, false, float, Eigen::RowMajor, false,
                                                   Eigen::RowMajor, 1>::run(m, n, k, a, lda, b, ldb, c, 1, ldc, 1.0f,
                                                                            blocking, nullptr);
}

void denseGemm(std::int64_t m, std::int64_t k, std::int64_t n, const float* a, const float* b, float* c) {
    if (g_threading == DenseThreading::Eigen) {
        Eigen::Map<RowMajorF>(c, m, n).noalias() = Eigen::Map<const RowMajorF>(a, m, k) * Eigen::Map<const RowMajorF>(b, k, n);
        return;
    }
    const bool serial = 2.0 * double(m) * double(k) * double(n) < kMinParallelFlops;
    if (m >= n) {  // rows of A and C per thread; every thread reads all of B
        parallelBlocks(m, serial ? m : 8, [&](std::int64_t r0, std::int64_t r1) {
            serialGemm(r1 - r0, k, n, a + r0 * k, k, b, n, c + r0 * n, n);
        });
    } else {  // columns of B and C per thread
        parallelBlocks(n, serial ? n : 8, [&](std::int64_t c0, std::int64_t c1) {
            serialGemm(m, k, c1 - c0, a, k, b + c0, n, c + c0, n);
        });
    }
}

namespace {

class DenseMethod final : public MatmulMethod {
public:
    std::string name() const override { return "dense"; }
    std::string description() const override {
        return "Eigen's blocked, vectorised GEMM in float32 on " + std::to_string(denseThreads()) +
               " thread(s) (C split in one block of rows per thread); with an emulated compute spec, a fused multiply-add per term rounded to the "
               "accumulation format (operands rounded to storage)";
    }
    std::string supports(const MatmulProblem&, const MatmulOptions& options) const override {
        if (options.logFormat) return "a log format is for the log-domain methods (log, lns-*)";
        return {};
    }
    std::int64_t workspaceBytes(const MatmulProblem&, const MatmulOptions&) const override {
        return 0;  // Eigen's packing buffers are its own (bounded by its cache-blocking sizes)
    }
    MatmulReport run(const MatmulProblem& p, std::span<const float> a, std::span<const float> b, std::span<float> c,
                     const MatmulOptions& options) const override {
        checkRun(p, a, b, c, options);
        if (options.compute.native) {
            denseGemm(p.m, p.k, p.n, a.data(), b.data(), c.data());
        } else {
            numeric::EmulatedArithmetic arith(options.compute);
            fmaMatmul(arith, p.m, p.k, p.n, a.data(), b.data(), c.data());
        }
        return {};
    }
};

}  // namespace

const MatmulMethod& denseMethod() {
    static const DenseMethod method;
    return method;
}

}  // namespace ks::matmul
