// svd: the assignment's low-rank product. The run() here factorises and multiplies; for timing the
// product alone, make LowRankFactor once and call factoredProduct (what `bench matmul` does).
#include "matmul/svd_matmul.hpp"

#include <memory>
#include <optional>
#include <algorithm>
#include <stdexcept>
#include <vector>

#include "matmul/dense_matmul.hpp"
#include "matmul/algorithms.hpp"

namespace ks::matmul {

void factoredProduct(std::int64_t m, std::int64_t k, std::int64_t n, const float* a, const LowRankFactor* factorA,
                     const float* b, const LowRankFactor* factorB, float* c) {
    if (factorA && (factorA->rows() != m || factorA->cols() != k))
        throw std::invalid_argument("factored product: A's factor does not have the shape of A");
    if (factorB && (factorB->rows() != k || factorB->cols() != n))
        throw std::invalid_argument("factored product: B's factor does not have the shape of B");
    if (!factorA && !factorB) return denseGemm(m, k, n, a, b, c);
    if (!factorA) return factorB->multiplyFromLeft(a, m, c);
    if (!factorB) return factorA->multiplyFromRight(b, n, c);

    // La (m×ra) · [Ra (ra×k) · Lb (k×rb)] · Rb (rb×n), the small middle first, then the cheaper side.
    const std::int64_t ra = factorA->rank(), rb = factorB->rank();
    std::vector<float> middle(static_cast<std::size_t>(ra * rb));
    denseGemm(ra, k, rb, factorA->right().data(), factorB->left().data(), middle.data());
    if (m * ra * rb + m * rb * n <= ra * rb * n + m * ra * n) {
        std::vector<float> t(static_cast<std::size_t>(m * rb));
        denseGemm(m, ra, rb, factorA->left().data(), middle.data(), t.data());
        denseGemm(m, rb, n, t.data(), factorB->right().data(), c);
    } else {
        std::vector<float> t(static_cast<std::size_t>(ra * n));
        denseGemm(ra, rb, n, middle.data(), factorB->right().data(), t.data());
        denseGemm(m, ra, n, factorA->left().data(), t.data(), c);
    }
}

namespace {

/// svd's plan: B factored once at rankB; every execute() is only the product A·L·R.
class FactoredB final : public MatmulPlan {
public:
    FactoredB(const MatmulProblem& problem, std::span<const float> b, const MatmulOptions& o)
        : problem_(problem), b_(b.data()), randomized_(o.svd.algorithm == SvdAlgorithm::Randomized) {
        if (!problem.rankB) return;
        factor_ = randomized_ ? LowRankFactor::randomizedSvd(b, problem.k, problem.n, *problem.rankB, o.svd.oversampling,
                                                             o.svd.powerIterations, o.svd.seed)
                              : LowRankFactor::truncatedSvd(b, problem.k, problem.n, *problem.rankB);
        workspace_.resize(std::size_t(problem.m * factor_->rank()));
    }
    MatmulReport execute(const float* a, float* c) override {
        if (factor_) factor_->multiplyFromLeft(a, problem_.m, c, workspace_);
        else denseGemm(problem_.m, problem_.k, problem_.n, a, b_, c);
        return {};
    }
    std::string note() const override {
        if (!factor_) return "no rank: B exactly";
        return "B at rank " + std::to_string(factor_->rank()) + (randomized_ ? " (randomized SVD" : " (SVD") +
               ", not timed)";
    }
    std::size_t workspaceBytes() const override {
        if (!factor_) return 0;
        return sizeof(float) * (workspace_.size() + factor_->left().size() + factor_->right().size());
    }

private:
    MatmulProblem problem_;
    const float* b_;
    bool randomized_;
    std::optional<LowRankFactor> factor_;
    std::vector<float> workspace_;
};

class SvdMatmul final : public MatmulAlgorithm {
public:
    std::string name() const override { return "svd"; }
    std::string description() const override {
        return "low-rank product: A and/or B replaced by its rank-r truncated SVD (U_r·Σ_r)·V_rᵀ "
               "(no rank: the matrix exactly; rank ≥ min(dims): reproduced); float32 products";
    }
    bool shownByDefault() const override { return false; }
    bool lowRank() const override { return true; }
    std::optional<std::string> supports(const MatmulProblem&, const MatmulOptions& options) const override {
        if (!options.compute.native)
            return "the low-rank product is a float32 method (the study is of rank, not precision); use "
                   "naive or dense for emulated arithmetic";
        if (options.logFormat) return "a log format is for the log-domain methods (log, lns-*)";
        return std::nullopt;
    }
    std::size_t workspaceBytes(const MatmulProblem& p, const MatmulOptions&) const override {
        // Factors (double during the SVD dominates): the matrix and its thin U, V in double.
        auto bytes = [](std::int64_t r, std::int64_t c) { return 8 * (r * c + r * std::min(r, c) + c * std::min(r, c)); };
        return (p.rankA ? bytes(p.m, p.k) : 0) + (p.rankB ? bytes(p.k, p.n) : 0);
    }
    double flops(const MatmulProblem& p) const override { return p.factoredFlops(); }

protected:
    MatmulReport doRun(const MatmulProblem& p, std::span<const float> a, std::span<const float> b, std::span<float> c,
                     const MatmulOptions& options) const override {
        auto factor = [&](std::span<const float> x, std::int64_t rows, std::int64_t cols, std::int64_t rank) {
            if (options.svd.algorithm == SvdAlgorithm::Randomized)
                return LowRankFactor::randomizedSvd(x, rows, cols, rank, options.svd.oversampling,
                                                    options.svd.powerIterations, options.svd.seed);
            return LowRankFactor::truncatedSvd(x, rows, cols, rank);
        };
        std::optional<LowRankFactor> fa, fb;
        MatmulReport report;
        if (p.rankA) {
            fa = factor(a, p.m, p.k, *p.rankA);
            report.note += "A at rank " + std::to_string(fa->rank()) + " ";
        }
        if (p.rankB) {
            fb = factor(b, p.k, p.n, *p.rankB);
            report.note += "B at rank " + std::to_string(fb->rank()) + " ";
        }
        factoredProduct(p.m, p.k, p.n, a.data(), fa ? &*fa : nullptr, b.data(), fb ? &*fb : nullptr, c.data());
        return report;
    }
    /// B factored once at rankB (as a layer's weights are), every execute() only the product.
    std::unique_ptr<MatmulPlan> doPlan(const MatmulProblem& p, std::span<const float> b,
                                       const MatmulOptions& options) const override {
        if (p.rankA) return MatmulAlgorithm::doPlan(p, b, options);  // A changes per call: nothing to prepare
        return std::make_unique<FactoredB>(p, b, options);
    }
};

}  // namespace

std::unique_ptr<MatmulAlgorithm> makeSvdMatmul() { return std::make_unique<SvdMatmul>(); }

}  // namespace ks::matmul
