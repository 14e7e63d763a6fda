// dense: Eigen's GEMM for native float32; under emulation, fused multiply-adds in the accumulation format.
#include "matmul/dense_matmul.hpp"

#include <Eigen/Core>
#include <stdexcept>
#include <string>

#include "matmul/methods.hpp"
#include "matmul/naive_matmul.hpp"
#include "numeric/arithmetic.hpp"

namespace ks::matmul {

using RowMajorF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

void denseGemm(std::int64_t m, std::int64_t k, std::int64_t n, const float* a, const float* b, float* c) {
    Eigen::Map<const RowMajorF> A(a, m, k);
    Eigen::Map<const RowMajorF> B(b, k, n);
    Eigen::Map<RowMajorF> C(c, m, n);
    C.noalias() = A * B;
}

int denseThreads() { return Eigen::nbThreads(); }

void setDenseThreads(int threads) {
    if (threads < 1) throw std::invalid_argument("dense: threads must be ≥ 1, got " + std::to_string(threads));
    Eigen::setNbThreads(threads);
}

namespace {

class DenseMethod final : public MatmulMethod {
public:
    std::string name() const override { return "dense"; }
    std::string description() const override {
        return "Eigen's blocked, vectorised GEMM in float32 on " + std::to_string(denseThreads()) +
               " thread(s); with an emulated compute spec, a fused multiply-add per term rounded to the "
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
