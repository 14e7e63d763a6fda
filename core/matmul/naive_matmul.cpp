// naive: the reference every other method is tested against.
#include "matmul/naive_matmul.hpp"

#include <memory>
#include <optional>

#include "matmul/algorithms.hpp"
#include "matmul/emulated_gemm.hpp"
#include "numeric/arithmetic.hpp"

namespace ks::matmul {

namespace {

class NaiveMatmul final : public MatmulAlgorithm {
public:
    std::string name() const override { return "naive"; }
    std::string description() const override {
        return "reference loops: each C(i,j) summed in order over k, one rounding per multiply and per add "
               "in the chosen arithmetic (native float32 or emulated formats)";
    }
    bool elementwise() const override { return true; }
    std::optional<std::string> supports(const MatmulProblem&, const MatmulOptions& options) const override {
        if (options.logFormat) return "a log format is for the log-domain methods (log, lns-*)";
        return std::nullopt;
    }
    std::size_t workspaceBytes(const MatmulProblem&, const MatmulOptions&) const override { return 0; }

protected:
    MatmulReport doRun(const MatmulProblem& p, std::span<const float> a, std::span<const float> b, std::span<float> c,
                     const MatmulOptions& options) const override {
        if (options.compute.native) {
            numeric::NativeArithmetic<float> arith;
            naiveMatmul(arith, p.m, p.k, p.n, a.data(), b.data(), c.data());
        } else {
            return emulatedProduct(EmulatedOrder::RoundedProducts, p, a, b, c, options);
        }
        return {};
    }
};

}  // namespace

std::unique_ptr<MatmulAlgorithm> makeNaiveMatmul() { return std::make_unique<NaiveMatmul>(); }

}  // namespace ks::matmul
