#include "study/runtime_study.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <random>
#include <sstream>
#include <stdexcept>

#include <Eigen/Core>

#include "conv/conv_find.hpp"
#include "conv/conv_registry.hpp"
#include "matmul/low_rank_factor.hpp"
#include "matmul/matmul_registry.hpp"

namespace ks::study {

namespace {

const double kNaN = std::nan("");

struct Row {
    std::string algorithm;
    std::string status = "ok";
    std::string note;
    double medianSeconds = kNaN;
    double gflops = kNaN;
    double workspaceBytes = kNaN;
    double maxAbsError = kNaN;
};

/// Called after each algorithm (for progress and cancellation).
using AfterEach = std::function<void()>;

std::vector<std::string> convNames(const RuntimeFind& f) {
    std::vector<std::string> names;
    if (f.algorithms.empty())
        for (const auto* a : conv::convAlgorithms()) names.push_back(a->name());
    for (const auto& n : f.algorithms) {
        const std::string canonical = conv::convAlgorithm(n).name();
        if (std::find(names.begin(), names.end(), canonical) == names.end()) names.push_back(canonical);
    }
    return names;
}

std::vector<std::string> matmulNames(const RuntimeFind& f) {
    if (f.algorithms.empty()) return matmul::matmulMethodNames();
    std::vector<std::string> names;
    for (const auto& n : f.algorithms) {
        const std::string canonical = matmul::matmulMethod(n).name();
        if (std::find(names.begin(), names.end(), canonical) == names.end()) names.push_back(canonical);
    }
    return names;
}

std::vector<Row> findConv(const RuntimeFind& f, const AfterEach& afterEach) {
    f.conv.validate();
    std::vector<Row> rows;
    for (const auto& name : convNames(f)) {
        // One algorithm per call, so that a cancel takes effect between algorithms.
        conv::ConvFindOptions options;
        options.algorithms = {name};
        options.timing = f.timing;
        options.seed = f.seed;
        const conv::ConvFindResult r = conv::findConvAlgorithms(f.conv, options).front();
        Row row;
        row.algorithm = r.algorithm;
        if (r.unsupported) {
            row.status = *r.unsupported;
        } else {
            row.medianSeconds = r.medianSeconds;
            row.gflops = r.gflops;
            row.workspaceBytes = double(r.workspaceBytes);
            row.maxAbsError = r.maxAbsError;
        }
        rows.push_back(std::move(row));
        afterEach();
    }
    return rows;
}

std::vector<float> uniformFloats(std::size_t count, std::mt19937_64& rng) {
    std::uniform_real_distribution<double> uniform(-1.0, 1.0);
    std::vector<float> v(count);
    for (auto& x : v) x = static_cast<float>(uniform(rng));
    return v;
}

double maxAbsDifference(const std::vector<float>& c, const std::vector<double>& reference) {
    double worst = 0;
    for (std::size_t i = 0; i < c.size(); ++i) {
        const double e = std::fabs(double(c[i]) - reference[i]);
        if (!(e <= worst)) worst = e;  // NaN propagates as the worst
    }
    return worst;
}

bool isElementwise(const std::string& method) {
    return method == "naive" || method == "log" || method == "lns-sequential" || method == "lns-binned";
}

/// The first call is the warm-up and gives the output; a slow method (≥ 0.2 s a call) is then timed
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

std::vector<Row> findMatmul(const RuntimeFind& f, const AfterEach& afterEach) {
    const matmul::MatmulProblem dense{f.m, f.k, f.n, std::nullopt, std::nullopt};
    dense.validate();
    const std::vector<std::string> names = matmulNames(f);
    std::mt19937_64 rng(f.seed);
    const std::vector<float> a = uniformFloats(std::size_t(f.m * f.k), rng);
    const std::vector<float> b = uniformFloats(std::size_t(f.k * f.n), rng);
    std::vector<double> reference(std::size_t(f.m * f.n));
    {
        using Matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
        using MatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
        Eigen::Map<Matrix>(reference.data(), f.m, f.n) =
            Eigen::Map<const MatrixF>(a.data(), f.m, f.k).cast<double>() *
            Eigen::Map<const MatrixF>(b.data(), f.k, f.n).cast<double>();
    }
    const double macs = double(f.m) * double(f.k) * double(f.n);
    std::vector<float> c(std::size_t(f.m * f.n));
    std::vector<Row> rows;
    for (const auto& name : names) {
        const matmul::MatmulMethod& method = matmul::matmulMethod(name);
        Row row;
        row.algorithm = name;
        matmul::MatmulOptions options;
        if (name == "lns-sequential" || name == "lns-binned") {
            options.logFormat = f.logFormat;
            row.note = numeric::formatName(f.logFormat);
        } else if (name == "log") {
            row.note = "unquantised float32 logs";
        }
        if (const std::string reason = method.supports(dense, options); !reason.empty()) {
            row.status = reason;
        } else if (isElementwise(name) && macs > f.maxElementwiseMacs) {
            row.status = "skipped: " + formatCount(macs) + " multiply-adds one by one would take too long (limit " +
                         formatCount(f.maxElementwiseMacs) + "; choose a smaller shape)";
        } else if (name == "svd" && f.svdRank > 0) {
            // B factored once beforehand, as a layer's weights would be; only the product is timed.
            const bool randomized = std::min(f.k, f.n) > 256;
            const matmul::LowRankFactor factor =
                randomized ? matmul::LowRankFactor::randomizedSvd(b, f.k, f.n, f.svdRank)
                           : matmul::LowRankFactor::truncatedSvd(b, f.k, f.n, f.svdRank);
            std::vector<float> workspace(std::size_t(f.m * factor.rank()));
            const TimingResult t = timeAfterFirstRun(
                [&] { factor.multiplyFromLeft(a.data(), f.m, c.data(), workspace); }, f.timing);
            row.medianSeconds = t.medianSeconds;
            row.workspaceBytes = double(workspace.size() + factor.left().size() + factor.right().size()) * 4.0;
            row.maxAbsError = maxAbsDifference(c, reference);
            row.note = "B at rank " + std::to_string(factor.rank()) + (randomized ? " (randomized SVD" : " (SVD") +
                       ", not timed)";
        } else {
            const TimingResult t =
                timeAfterFirstRun([&] { method.run(dense, a, b, c, options); }, f.timing);
            row.medianSeconds = t.medianSeconds;
            row.workspaceBytes = double(method.workspaceBytes(dense, options));
            row.maxAbsError = maxAbsDifference(c, reference);
            if (name == "svd") row.note = "no rank: B exactly";
        }
        if (row.status == "ok") row.gflops = dense.denseFlops() / row.medianSeconds * 1e-9;
        rows.push_back(std::move(row));
        afterEach();
    }
    return rows;
}

std::vector<Row> findRows(const RuntimeFind& f, const AfterEach& afterEach) {
    std::vector<Row> rows = f.operation == Operation::Conv ? findConv(f, afterEach) : findMatmul(f, afterEach);
    std::stable_sort(rows.begin(), rows.end(), [](const Row& x, const Row& y) {
        const bool xok = x.status == "ok", yok = y.status == "ok";
        if (xok != yok) return xok;
        return xok && x.medianSeconds < y.medianSeconds;
    });
    return rows;
}

std::size_t algorithmCount(const RuntimeFind& f) {
    return f.operation == Operation::Conv ? convNames(f).size() : matmulNames(f).size();
}

const char* operationName(Operation op) { return op == Operation::Conv ? "conv" : "matmul"; }

void appendKey(std::ostringstream& out, const RuntimeFind& f) {
    out << operationName(f.operation) << '|';
    for (const auto& a : f.algorithms) out << a << ',';
    out << '|' << f.conv.toString() << '|' << f.m << 'x' << f.k << 'x' << f.n << '|' << f.svdRank << '|'
        << numeric::formatName(f.logFormat) << '|' << f.maxElementwiseMacs << '|' << f.timing.warmupRuns << ','
        << f.timing.minRepeats << ',' << f.timing.minSeconds << '|' << f.seed;
}

}  // namespace

std::string RuntimeFind::key() const {
    std::ostringstream out;
    appendKey(out, *this);
    return out.str();
}

std::string RuntimeScaling::key() const {
    std::ostringstream out;
    appendKey(out, base);
    out << "|sizes";
    for (auto s : sizes) out << ',' << s;
    return out.str();
}

Table runRuntimeFind(const RuntimeFind& f, const Progress& progress) {
    const double total = double(algorithmCount(f));
    double done = 0;
    progress.step(0, total);
    const std::vector<Row> rows = findRows(f, [&] { progress.step(++done, total); });
    Table table({"index", "median_ms", "gflops", "workspace_bytes", "max_abs_error"},
                {"operation", "algorithm", "status", "note"});
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const Row& r = rows[i];
        table.addRow({i, r.medianSeconds * 1e3, r.gflops, r.workspaceBytes, r.maxAbsError, operationName(f.operation),
                      r.algorithm, r.status, r.note});
    }
    return table;
}

Table runRuntimeScaling(const RuntimeScaling& s, const Progress& progress) {
    if (s.sizes.empty()) throw std::invalid_argument("runtime vs size: no sizes given");
    for (auto size : s.sizes)
        if (size < 1) throw std::invalid_argument("runtime vs size: sizes must be positive, got " + std::to_string(size));
    const std::size_t perSize = algorithmCount(s.base);
    const double total = double(perSize * s.sizes.size());
    double done = 0;
    progress.step(0, total);
    Table table({"size", "median_ms", "gflops"}, {"operation", "algorithm", "status"});
    const char* op = operationName(s.base.operation);
    for (auto size : s.sizes) {
        RuntimeFind f = s.base;
        if (f.operation == Operation::Conv) {
            if (size < f.conv.R || size < f.conv.S) {
                for (const auto& name : convNames(f))
                    table.addRow({size, kNaN, kNaN, op, name, "the kernel is larger than the image"});
                done += double(perSize);
                progress.step(done, total);
                continue;
            }
            f.conv = conv::ConvProblem::single(size, size, s.base.conv.R, s.base.conv.S);
        } else {
            f.m = f.k = f.n = size;
            f.svdRank = std::min(s.base.svdRank, size);
        }
        for (const Row& r : findRows(f, [&] { progress.step(++done, total); }))
            table.addRow({size, r.medianSeconds * 1e3, r.gflops, op, r.algorithm, r.status});
    }
    return table;
}

ChartSpec runtimeFindChart(const RuntimeFind& f) {
    ChartSpec spec;
    const bool isConv = f.operation == Operation::Conv;
    spec.id = std::string("runtime-find-") + operationName(f.operation);
    spec.title = isConv ? "Convolution " + f.conv.toString() + ": time per algorithm"
                        : "Matrix multiply (" + std::to_string(f.m) + "×" + std::to_string(f.k) + ")·(" +
                              std::to_string(f.k) + "×" + std::to_string(f.n) + "): time per method";
    spec.xColumn = "index";
    spec.yColumn = "median_ms";
    spec.seriesColumn = "algorithm";
    spec.xLabel = "algorithm (fastest first)";
    spec.yLabel = "median time (ms)";
    spec.yLog = true;
    spec.scatter = true;
    return spec;
}

ChartSpec runtimeScalingChart(const RuntimeScaling& s) {
    ChartSpec spec;
    const bool isConv = s.base.operation == Operation::Conv;
    spec.id = std::string("runtime-scaling-") + operationName(s.base.operation);
    spec.title = isConv ? "Convolution: runtime vs image size (one channel, " + std::to_string(s.base.conv.R) + "×" +
                              std::to_string(s.base.conv.S) + " kernel)"
                        : "Matrix multiply: runtime vs size (square)";
    spec.xColumn = "size";
    spec.yColumn = "median_ms";
    spec.seriesColumn = "algorithm";
    spec.xLabel = isConv ? "image side (pixels)" : "matrix side";
    spec.yLabel = "median time (ms)";
    spec.xLog = true;
    spec.yLog = true;
    spec.highlightSeries = isConv ? "direct" : "dense";
    return spec;
}

}  // namespace ks::study
