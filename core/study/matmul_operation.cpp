// Matrix multiply as the studies see it: matmul::MatmulProblem, the matmul registry, plans timed with
// ks::measure.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <sstream>
#include <stdexcept>

#include <Eigen/Core>

#include "base/timing.hpp"
#include "matmul/matmul_registry.hpp"
#include "numeric/modelled_dot.hpp"
#include "study/operation.hpp"
#include "study/runtime_study.hpp"

namespace ks::study {

namespace {

using MatrixD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

const matmul::MatmulAlgorithm& asMatmul(const Algorithm& algorithm) {
    const auto* a = dynamic_cast<const matmul::MatmulAlgorithm*>(&algorithm);
    if (!a) throw std::logic_error("'" + algorithm.name() + "' is not a matrix-multiply algorithm");
    return *a;
}

matmul::MatmulProblem problemOf(const ProblemShapes& s) { return {s.m, s.k, s.n, std::nullopt, std::nullopt}; }

/// The options of an emulated run. A logarithmic format is the log-domain algorithms' own number format: they
/// take it as their LNS format and add as they define (log: products converted back and summed in float32, the
/// assignment's logmatmul; lns-sequential: Gaussian-logarithm additions in the format; lns-binned: integer bins),
/// so the compute specification stays native (sequential and binned refuse any other, and "everything in the
/// format" made log's sums LNS additions, another method's).
matmul::MatmulOptions emulatedOptions(const numeric::ComputeSpec& spec, const numeric::Format& format) {
    matmul::MatmulOptions options;
    options.compute = spec;
    if (format.kind == numeric::FormatKind::Log) {
        options.logFormat = format;
        options.compute = numeric::ComputeSpec{};
    }
    return options;
}

/// The first call is the warm-up and gives the output; a slow algorithm (≥ 0.2 s a call) is then timed
/// with a single repeat rather than five, so the page never waits for tens of seconds.
template <class Fn>
TimingResult timeAfterFirstRun(Fn&& fn, TimingOptions timing) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    const double first = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    timing.warmupRuns = std::max(0, timing.warmupRuns - 1);
    if (first >= 0.2) {
        timing.warmupRuns = 0;
        timing.minRepeats = 1;
        timing.minSeconds = 0;
    }
    return measure(fn, timing);
}

std::string formatCount(double x) {
    std::ostringstream out;
    out.precision(3);
    out << x;
    return out.str();
}

class MatmulOperation final : public OperationImpl {
public:
    MatmulOperation() {
        for (const matmul::MatmulAlgorithm* a : matmul::matmulAlgorithms()) algorithms_.push_back(a);
    }

    std::string id() const override { return "matmul"; }
    std::string label() const override { return "Matrix multiply"; }
    const std::vector<const Algorithm*>& algorithms() const override { return algorithms_; }
    const Algorithm& algorithm(std::string_view nameOrAlias) const override { return matmul::matmulAlgorithm(nameOrAlias); }
    std::string everydayAlgorithm() const override { return "dense"; }

    void validate(const ProblemShapes& shapes) const override { problemOf(shapes).validate(); }
    std::string describe(const ProblemShapes& shapes) const override { return problemOf(shapes).toString(); }
    std::string shapeSyntax() const override { return "M,K,N"; }
    std::optional<std::string> setShape(ProblemShapes& shapes, const std::vector<std::int64_t>& d) const override {
        if (d.size() != 3) return "matmul needs " + shapeSyntax();
        for (std::int64_t x : d)
            if (x < 1) return "matmul dimensions must be positive, got " + std::to_string(x);
        shapes.m = d[0], shapes.k = d[1], shapes.n = d[2];
        return std::nullopt;
    }
    std::pair<Shape, Shape> operandShapes(const ProblemShapes& s) const override { return {{s.m, s.k}, {s.k, s.n}}; }
    TensorD exact(const ProblemShapes& s, const TensorD& a, const TensorD& b) const override {
        // Eigen's double product: no code of ours between the operands and the reference.
        TensorD c({s.m, s.n});
        Eigen::Map<MatrixD>(c.data(), s.m, s.n) =
            Eigen::Map<const MatrixD>(a.data(), s.m, s.k) * Eigen::Map<const MatrixD>(b.data(), s.k, s.n);
        return c;
    }

    std::optional<std::string> supports(const Algorithm& algorithm, const ProblemShapes& shapes,
                                        const numeric::ComputeSpec& spec, const numeric::Format& format) const override {
        const matmul::MatmulOptions options = emulatedOptions(spec, format);
        if (auto reason = numeric::accumulatorRefusal(options.compute)) return reason;
        return asMatmul(algorithm).supports(problemOf(shapes), options);
    }
    TensorD emulate(const Algorithm& algorithm, const ProblemShapes& shapes, const numeric::ComputeSpec& spec,
                    const numeric::Format& format, numeric::EmulationEngine engine, const TensorD& a,
                    const TensorD& b) const override {
        const TensorF af = a.cast<float>(), bf = b.cast<float>();
        TensorF c({shapes.m, shapes.n});
        matmul::MatmulOptions options = emulatedOptions(spec, format);
        options.emulation = engine;
        asMatmul(algorithm).run(problemOf(shapes), af.span(), bf.span(), c.span(), options);
        return c.cast<double>();
    }
    TensorD inputPicture(const ProblemShapes&, const TensorD& a) const override { return a; }
    TensorD outputPicture(const ProblemShapes&, const TensorD& y) const override { return y; }

    AlgorithmTiming time(const Algorithm& algorithm, const ProblemShapes& shapes, const RuntimeFind& find) const override {
        const matmul::MatmulAlgorithm& method = asMatmul(algorithm);
        matmul::MatmulProblem problem = problemOf(shapes);
        matmul::MatmulOptions options;
        if (method.needsLogFormat()) options.logFormat = find.logFormat;
        if (method.lowRank() && find.svdRank > 0) {
            // B factored once beforehand (in the plan), as a layer's weights would be; only the product is timed.
            problem.rankB = std::min({find.svdRank, shapes.k, shapes.n});
            if (std::min(shapes.k, shapes.n) > 256) options.svd.algorithm = matmul::SvdAlgorithm::Randomized;
        }
        AlgorithmTiming timing;
        const double macs = double(shapes.m) * double(shapes.k) * double(shapes.n);
        if (auto reason = method.supports(problem, options)) {
            timing.status = *reason;
            return timing;
        }
        if (method.elementwise() && macs > find.maxElementwiseMacs) {
            timing.status = "skipped: " + formatCount(macs) + " multiply-adds one by one would take too long (limit " +
                            formatCount(find.maxElementwiseMacs) + "; choose a smaller shape)";
            return timing;
        }
        // Operands drawn in float so that the float32 run and the double reference see identical values.
        std::mt19937_64 rng(find.seed);
        std::uniform_real_distribution<double> uniform(-1.0, 1.0);
        TensorF a({shapes.m, shapes.k}), b({shapes.k, shapes.n}), c({shapes.m, shapes.n});
        for (float& x : a.storage()) x = static_cast<float>(uniform(rng));
        for (float& x : b.storage()) x = static_cast<float>(uniform(rng));

        const std::unique_ptr<matmul::MatmulPlan> plan = method.plan(problem, b.span(), options);
        matmul::MatmulReport report;
        const TimingResult t = timeAfterFirstRun([&] { report = plan->execute(a.data(), c.data()); }, find.timing);
        timing.medianSeconds = t.medianSeconds;
        timing.minSeconds = t.minSeconds;
        timing.maxSeconds = t.maxSeconds;
        timing.workspaceBytes = double(plan->workspaceBytes());
        timing.note = plan->note().empty() ? report.note : plan->note();
        timing.maxAbsError = maxAbsError(c, exact(shapes, a.cast<double>(), b.cast<double>()));
        return timing;
    }
    double flops(const ProblemShapes& shapes) const override { return problemOf(shapes).denseFlops(); }
    std::optional<std::string> scaleTo(ProblemShapes& shapes, std::int64_t side) const override {
        shapes.m = shapes.k = shapes.n = side;
        return std::nullopt;
    }
    std::string sizeLabel() const override { return "matrix side"; }
    std::vector<std::int64_t> defaultScalingSizes() const override { return {64, 128, 256}; }
    std::string scalingTitle(const ProblemShapes&) const override { return label() + ": median runtime vs size (square)"; }

private:
    static double maxAbsError(const TensorF& c, const TensorD& reference) {
        double worst = 0;
        for (std::size_t i = 0; i < c.size(); ++i) {
            const double e = std::fabs(double(c[i]) - reference[i]);
            if (!(e <= worst)) worst = e;  // NaN propagates as the worst
        }
        return worst;
    }

    std::vector<const Algorithm*> algorithms_;
};

}  // namespace

const OperationImpl& matmulOperationImpl() {
    static const MatmulOperation operation;
    return operation;
}

}  // namespace ks::study
