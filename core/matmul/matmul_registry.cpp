#include "matmul/matmul_registry.hpp"

#include <stdexcept>

#include "matmul/methods.hpp"

namespace ks::matmul {

void MatmulMethod::checkRun(const MatmulProblem& problem, std::span<const float> a, std::span<const float> b,
                            std::span<float> c, const MatmulOptions& options) const {
    problem.validate();
    auto check = [](const char* what, std::size_t have, std::int64_t rows, std::int64_t cols) {
        if (static_cast<std::int64_t>(have) != rows * cols)
            throw std::invalid_argument(std::string("matmul: ") + what + " has " + std::to_string(have) +
                                        " elements, the problem needs " + std::to_string(rows) + "×" +
                                        std::to_string(cols));
    };
    check("A", a.size(), problem.m, problem.k);
    check("B", b.size(), problem.k, problem.n);
    check("C", c.size(), problem.m, problem.n);
    if (const std::string reason = supports(problem, options); !reason.empty())
        throw std::invalid_argument("matmul method '" + name() + "' cannot run " + problem.toString() + ": " +
                                    reason);
}

const std::vector<const MatmulMethod*>& matmulMethods() {
    static const std::vector<const MatmulMethod*> methods = {
        &naiveMethod(), &denseMethod(), &svdMethod(), &logMethod(), &lnsSequentialMethod(), &lnsBinnedMethod(),
    };
    return methods;
}

std::vector<std::string> matmulMethodNames() {
    std::vector<std::string> names;
    for (const auto* m : matmulMethods()) names.push_back(m->name());
    return names;
}

const MatmulMethod& matmulMethod(const std::string& name) {
    for (const auto* m : matmulMethods())
        if (m->name() == name) return *m;
    std::string known;
    for (const auto& n : matmulMethodNames()) known += (known.empty() ? "" : ", ") + n;
    throw std::invalid_argument("unknown matmul method '" + name + "' (known: " + known + ")");
}

TensorF matmul(const TensorF& a, const TensorF& b, const std::string& method, const MatmulOptions& options,
               std::optional<std::int64_t> rankA, std::optional<std::int64_t> rankB, MatmulReport* report) {
    const MatmulMethod& impl = matmulMethod(method);
    const MatmulProblem problem = MatmulProblem::fromShapes(a.shape(), b.shape(), rankA, rankB);
    TensorF c({problem.m, problem.n});
    MatmulReport r = impl.run(problem, a.span(), b.span(), c.span(), options);
    if (report) *report = std::move(r);
    return c;
}

}  // namespace ks::matmul
