// naive: the reference every other method is tested against.
#include "matmul/naive_matmul.hpp"

#include "matmul/methods.hpp"
#include "numeric/arithmetic.hpp"

namespace ks::matmul {

namespace {

class NaiveMethod final : public MatmulMethod {
public:
    std::string name() const override { return "naive"; }
    std::string description() const override {
        return "reference loops: each C(i,j) summed in order over k, one rounding per multiply and per add "
               "in the chosen arithmetic (native float32 or emulated formats)";
    }
    std::string supports(const MatmulProblem&, const MatmulOptions& options) const override {
        if (options.logFormat) return "a log format is for the log-domain methods (log, lns-*)";
        return {};
    }
    std::int64_t workspaceBytes(const MatmulProblem&, const MatmulOptions&) const override { return 0; }
    MatmulReport run(const MatmulProblem& p, std::span<const float> a, std::span<const float> b, std::span<float> c,
                     const MatmulOptions& options) const override {
        checkRun(p, a, b, c, options);
        if (options.compute.native) {
            numeric::NativeArithmetic<float> arith;
            naiveMatmul(arith, p.m, p.k, p.n, a.data(), b.data(), c.data());
        } else {
            numeric::EmulatedArithmetic arith(options.compute);
            naiveMatmul(arith, p.m, p.k, p.n, a.data(), b.data(), c.data());
        }
        return {};
    }
};

}  // namespace

const MatmulMethod& naiveMethod() {
    static const NaiveMethod method;
    return method;
}

}  // namespace ks::matmul
