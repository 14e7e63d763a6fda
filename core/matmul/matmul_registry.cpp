#include "matmul/matmul_registry.hpp"

#include <stdexcept>
#include <vector>

#include "matmul/algorithms.hpp"
#include "numeric/modelled_dot.hpp"

namespace ks::matmul {

void MatmulAlgorithm::check(const MatmulProblem& problem, const MatmulOptions& options) const {
    problem.validate();
    if ((problem.rankA || problem.rankB) && !lowRank())
        throw std::invalid_argument("matmul algorithm '" + name() +
                                    "' computes with the operands exactly; ranks are for a low-rank algorithm (svd)");
    if (auto reason = numeric::accumulatorRefusal(options.compute))
        throw std::invalid_argument("matmul algorithm '" + name() + "' cannot run " + numeric::computeSpecName(options.compute) +
                                    ": " + *reason);
    if (auto reason = supports(problem, options))
        throw std::invalid_argument("matmul algorithm '" + name() + "' cannot run " + problem.toString() + ": " +
                                    *reason);
}

namespace {

void checkOperand(const char* what, std::size_t have, std::int64_t rows, std::int64_t cols) {
    if (static_cast<std::int64_t>(have) != rows * cols)
        throw std::invalid_argument(std::string("matmul: ") + what + " has " + std::to_string(have) +
                                    " elements, the problem needs " + std::to_string(rows) + "×" +
                                    std::to_string(cols));
}

/// The default plan: B kept as given, every execute() a whole run.
class RunPerCall final : public MatmulPlan {
public:
    RunPerCall(const MatmulAlgorithm& algorithm, const MatmulProblem& problem, std::span<const float> b,
               const MatmulOptions& options)
        : algorithm_(algorithm), problem_(problem), b_(b), options_(options) {}
    MatmulReport execute(const float* a, float* c) override {
        return algorithm_.run(problem_, {a, std::size_t(problem_.m * problem_.k)}, b_,
                              {c, std::size_t(problem_.m * problem_.n)}, options_);
    }
    std::size_t workspaceBytes() const override { return algorithm_.workspaceBytes(problem_, options_); }

private:
    const MatmulAlgorithm& algorithm_;
    MatmulProblem problem_;
    std::span<const float> b_;
    MatmulOptions options_;
};

}  // namespace

MatmulReport MatmulAlgorithm::run(const MatmulProblem& problem, std::span<const float> a, std::span<const float> b,
                                  std::span<float> c, const MatmulOptions& options) const {
    problem.validate();
    checkOperand("A", a.size(), problem.m, problem.k);
    checkOperand("B", b.size(), problem.k, problem.n);
    checkOperand("C", c.size(), problem.m, problem.n);
    check(problem, options);
    if (!options.compute.scaledStorage) return doRun(problem, a, b, c, options);
    // A scaled storage format: both operands quantised along K (A's rows, B's columns) once, here, for every
    // algorithm that takes an emulated spec; the kernels then run the element-wise rest.
    std::vector<float> qa(a.begin(), a.end()), qb(b.begin(), b.end());
    numeric::quantizeOperand(options.compute, std::span<float>(qa), {problem.m, problem.k, 1});
    numeric::quantizeOperand(options.compute, std::span<float>(qb), {1, problem.k, problem.n});
    MatmulOptions elementwise = options;
    elementwise.compute = options.compute.elementwise();
    return doRun(problem, qa, qb, c, elementwise);
}

std::unique_ptr<MatmulPlan> MatmulAlgorithm::plan(const MatmulProblem& problem, std::span<const float> b,
                                                  const MatmulOptions& options) const {
    problem.validate();
    checkOperand("B", b.size(), problem.k, problem.n);
    check(problem, options);
    if (options.compute.scaledStorage) return MatmulAlgorithm::doPlan(problem, b, options);  // run() quantises
    return doPlan(problem, b, options);
}

std::unique_ptr<MatmulPlan> MatmulAlgorithm::doPlan(const MatmulProblem& problem, std::span<const float> b,
                                                    const MatmulOptions& options) const {
    return std::make_unique<RunPerCall>(*this, problem, b, options);
}

const Registry<MatmulAlgorithm>& matmulRegistry() {
    static const Registry<MatmulAlgorithm> registry = [] {
        std::vector<std::unique_ptr<const MatmulAlgorithm>> algorithms;
        algorithms.push_back(makeNaiveMatmul());  // the reference, first
        algorithms.push_back(makeDenseMatmul());
        algorithms.push_back(makeSvdMatmul());
        algorithms.push_back(makeLogMatmul());
        algorithms.push_back(makeLnsSequentialMatmul());
        algorithms.push_back(makeLnsBinnedMatmul());
        return Registry<MatmulAlgorithm>("matmul algorithm", std::move(algorithms));
    }();
    return registry;
}

TensorF matmul(const TensorF& a, const TensorF& b, const std::string& algorithm, const MatmulOptions& options,
               std::optional<std::int64_t> rankA, std::optional<std::int64_t> rankB, MatmulReport* report) {
    const MatmulAlgorithm& impl = matmulAlgorithm(algorithm);
    const MatmulProblem problem = MatmulProblem::fromShapes(a.shape(), b.shape(), rankA, rankB);
    TensorF c({problem.m, problem.n});
    MatmulReport r = impl.run(problem, a.span(), b.span(), c.span(), options);
    if (report) *report = std::move(r);
    return c;
}

}  // namespace ks::matmul
