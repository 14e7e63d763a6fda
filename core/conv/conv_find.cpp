#include "conv/conv_find.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <random>

#include "conv/conv_registry.hpp"

namespace ks::conv {

namespace {

struct ProblemData {
    std::vector<double> x, w, b, reference;
    std::vector<float> xf, wf, bf;
};

ProblemData makeData(const ConvProblem& p, std::uint64_t seed) {
    ProblemData d;
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> uniform(-1.0, 1.0);
    // drawn in float so that the float32 run and the double reference see identical operands
    const auto fill = [&](std::int64_t n, std::vector<double>& v, std::vector<float>& f) {
        f.resize(static_cast<std::size_t>(n));
        v.resize(f.size());
        for (std::size_t i = 0; i < f.size(); ++i) v[i] = f[i] = static_cast<float>(uniform(rng));
    };
    fill(p.inputCount(), d.x, d.xf);
    fill(p.weightCount(), d.w, d.wf);
    fill(p.K, d.b, d.bf);
    d.reference.resize(static_cast<std::size_t>(p.outputCount()));
    convAlgorithm("direct").run(p, d.x.data(), d.w.data(), d.b.data(), d.reference.data());
    return d;
}

template <class T>
double maxAbsDifference(const std::vector<T>& a, const std::vector<double>& reference) {
    double worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const double e = std::fabs(static_cast<double>(a[i]) - reference[i]);
        if (!(e <= worst)) worst = e;  // NaN propagates as the worst
    }
    return worst;
}

std::vector<const ConvAlgorithm*> selected(const ConvFindOptions& options) {
    if (options.algorithms.empty()) return convAlgorithms();
    std::vector<const ConvAlgorithm*> list;
    for (const auto& name : options.algorithms) {
        const ConvAlgorithm* a = &convAlgorithm(name);
        if (std::find(list.begin(), list.end(), a) == list.end()) list.push_back(a);
    }
    return list;
}

std::vector<ConvFindResult> timeAll(const ConvProblem& problem, const ConvFindOptions& options, const ProblemData& d) {
    std::vector<ConvFindResult> supported, unsupported;
    std::vector<float> y(static_cast<std::size_t>(problem.outputCount()));
    for (const ConvAlgorithm* algo : selected(options)) {
        ConvFindResult r;
        r.algorithm = algo->name();
        if ((r.unsupported = algo->supports(problem))) {
            unsupported.push_back(std::move(r));
            continue;
        }
        r.workspaceBytes = algo->workspaceBytes(problem);
        TimingResult t;
        std::clock_t cpuStart = std::clock();
        if (options.includePlan) {
            t = measure([&] { algo->run(problem, d.xf.data(), d.wf.data(), d.bf.data(), y.data()); }, options.timing);
        } else {
            auto plan = algo->plan(problem, d.wf.data());
            cpuStart = std::clock();  // the plan (and FFTW's measured planning) is not part of a call
            t = measure([&] { plan->execute(d.xf.data(), d.bf.data(), y.data()); }, options.timing);
        }
        r.cpuSecondsPerCall = double(std::clock() - cpuStart) / CLOCKS_PER_SEC /
                              double(t.repeats + options.timing.warmupRuns);
        r.medianSeconds = t.medianSeconds;
        r.minSeconds = t.minSeconds;
        r.maxSeconds = t.maxSeconds;
        r.gflops = problem.flops() / t.medianSeconds * 1e-9;
        r.maxAbsError = maxAbsDifference(y, d.reference);
        supported.push_back(std::move(r));
    }
    std::stable_sort(supported.begin(), supported.end(),
                     [](const auto& a, const auto& b) { return a.medianSeconds < b.medianSeconds; });
    supported.insert(supported.end(), unsupported.begin(), unsupported.end());
    return supported;
}

}  // namespace

std::vector<ConvFindResult> findConvAlgorithms(const ConvProblem& problem, const ConvFindOptions& options) {
    problem.validate();
    const ProblemData d = makeData(problem, options.seed);
    return timeAll(problem, options, d);
}

std::optional<ConvChoice> chooseConvAlgorithm(const ConvProblem& problem, const numeric::ComputeSpec& spec,
                                              double tolerance, const ConvFindOptions& options,
                                              std::vector<ConvFindResult>* results) {
    problem.validate();
    const ProblemData d = makeData(problem, options.seed);
    auto timings = timeAll(problem, options, d);
    if (!spec.native) {
        std::vector<double> y(static_cast<std::size_t>(problem.outputCount()));
        for (auto& r : timings) {
            if (r.unsupported) continue;
            convAlgorithm(r.algorithm).runEmulated(problem, d.x.data(), d.w.data(), d.b.data(), y.data(), spec);
            r.maxAbsError = maxAbsDifference(y, d.reference);
        }
    }
    std::optional<ConvChoice> choice;
    for (const auto& r : timings)  // sorted fastest first
        if (!r.unsupported && r.maxAbsError <= tolerance) {
            choice = ConvChoice{r.algorithm, r.medianSeconds, r.maxAbsError};
            break;
        }
    if (results) *results = std::move(timings);
    return choice;
}

}  // namespace ks::conv
