// dense: sgemm (our packed GEMM, gemm.cpp, kernels dispatched per instruction set) for native float32; under emulation, fused multiply-adds in the accumulation format.
#include "matmul/dense_matmul.hpp"

#include <memory>
#include <optional>
#include <Eigen/Core>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "base/parallel.hpp"
#include "matmul/gemm.hpp"
#include "matmul/algorithms.hpp"
#include "matmul/emulated_gemm.hpp"
#include "matmul/naive_matmul.hpp"
#include "numeric/arithmetic.hpp"

namespace ks::matmul {

using RowMajorF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

namespace {

DenseThreading g_threading = DenseThreading::Split;

}  // namespace

DenseThreading denseThreading() { return g_threading; }
void setDenseThreading(DenseThreading threading) { g_threading = threading; }

void denseGemm(std::int64_t m, std::int64_t k, std::int64_t n, const float* a, const float* b, float* c) {
    if (g_threading == DenseThreading::Eigen) {
        Eigen::Map<RowMajorF>(c, m, n).noalias() = Eigen::Map<const RowMajorF>(a, m, k) * Eigen::Map<const RowMajorF>(b, k, n);
        return;
    }
    sgemm(Trans::No, Trans::No, m, n, k, a, k, b, n, c, n, false, 0);
}

namespace {

class DenseMatmul final : public MatmulAlgorithm {
public:
    std::string name() const override { return "dense"; }
    std::string description() const override {
        return "packed, cache-blocked float32 GEMM (sgemm: AVX2+FMA micro-kernel when built for it) on " +
               std::to_string(threadCount()) + " thread(s) (C split in one block of rows per thread); with an emulated compute spec, a fused multiply-add per term rounded to the "
               "accumulation format (operands rounded to storage)";
    }
    bool shownByDefault() const override { return false; }
    std::optional<std::string> supports(const MatmulProblem&, const MatmulOptions& options) const override {
        if (options.logFormat) return "a log format is for the log-domain methods (log, lns-*)";
        return std::nullopt;
    }
    std::size_t workspaceBytes(const MatmulProblem&, const MatmulOptions&) const override {
        return 0;  // sgemm's packing buffers are its own, per thread (bounded by its cache blocking)
    }

protected:
    MatmulReport doRun(const MatmulProblem& p, std::span<const float> a, std::span<const float> b, std::span<float> c,
                     const MatmulOptions& options) const override {
        if (options.compute.native) {
            denseGemm(p.m, p.k, p.n, a.data(), b.data(), c.data());
        } else {
            return emulatedProduct(EmulatedOrder::FusedMultiplyAdd, p, a, b, c, options);
        }
        return {};
    }
};

}  // namespace

std::unique_ptr<MatmulAlgorithm> makeDenseMatmul() { return std::make_unique<DenseMatmul>(); }

}  // namespace ks::matmul
