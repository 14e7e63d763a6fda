// dense: sgemm (our packed AVX2 GEMM, gemm.cpp) for native float32; under emulation, fused multiply-adds in the accumulation format.
#include "matmul/dense_matmul.hpp"

#include <Eigen/Core>
#include <omp.h>

#include <algorithm>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string>

#include "base/block_claims.hpp"
#include "matmul/gemm.hpp"
#include "matmul/methods.hpp"
#include "matmul/naive_matmul.hpp"
#include "numeric/arithmetic.hpp"

namespace ks::matmul {

using RowMajorF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

namespace {

int g_threads = 0;  // 0: not set, OpenMP's maximum
DenseThreading g_threading = DenseThreading::Split;

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
    if (count <= 0) return;
    grain = std::max<std::int64_t>(grain, 1);
    const std::int64_t blocks = std::max<std::int64_t>(1, std::min<std::int64_t>(denseThreads(), count / grain));
    if (blocks == 1) return fn(0, count);  // whole, on the calling thread
    // Each thread its own block in pieces of `grain`, then what is left of the others' (BlockClaims).
    BlockClaims claims(count, static_cast<int>(blocks), grain);
    // An exception escaping an OpenMP region would end the program: the first one is rethrown here.
    std::exception_ptr error;
    std::mutex mutex;
#pragma omp parallel for num_threads(static_cast<int>(blocks)) schedule(static, 1)
    for (int own = 0; own < static_cast<int>(blocks); ++own) {
        try {
            claims.run(own, fn);
        } catch (...) {
            const std::lock_guard<std::mutex> lock(mutex);
            if (!error) error = std::current_exception();
        }
    }
    if (error) std::rethrow_exception(error);
}

void denseGemm(std::int64_t m, std::int64_t k, std::int64_t n, const float* a, const float* b, float* c) {
    if (g_threading == DenseThreading::Eigen) {
        Eigen::Map<RowMajorF>(c, m, n).noalias() = Eigen::Map<const RowMajorF>(a, m, k) * Eigen::Map<const RowMajorF>(b, k, n);
        return;
    }
    sgemm(Trans::No, Trans::No, m, n, k, a, k, b, n, c, n, false, 0);
}

namespace {

class DenseMethod final : public MatmulMethod {
public:
    std::string name() const override { return "dense"; }
    std::string description() const override {
        return "packed, cache-blocked float32 GEMM (sgemm: AVX2+FMA micro-kernel when built for it) on " +
               std::to_string(denseThreads()) + " thread(s) (C split in one block of rows per thread); with an emulated compute spec, a fused multiply-add per term rounded to the "
               "accumulation format (operands rounded to storage)";
    }
    std::string supports(const MatmulProblem&, const MatmulOptions& options) const override {
        if (options.logFormat) return "a log format is for the log-domain methods (log, lns-*)";
        return {};
    }
    std::int64_t workspaceBytes(const MatmulProblem&, const MatmulOptions&) const override {
        return 0;  // sgemm's packing buffers are its own, per thread (bounded by its cache blocking)
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
