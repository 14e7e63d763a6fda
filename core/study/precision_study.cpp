#include "study/precision_study.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <mutex>
#include <sstream>
#include <thread>

#include <Eigen/Core>

#include "conv/conv_registry.hpp"
#include "matmul/matmul_registry.hpp"
#include "numeric/error_metrics.hpp"
#include "numeric/format_family.hpp"

namespace ks::study {

using numeric::ComputeSpec;
using numeric::Format;
using numeric::FormatKind;

ComputeSpec PrecisionSweep::specFor(const Format& format) const {
    return accumulation == Accumulation::InFormat ? ComputeSpec::uniform(format, rounding)
                                                  : ComputeSpec::mixed(format, Format::fp32(), rounding);
}

std::string PrecisionSweep::key() const {
    std::ostringstream out;
    out << (operation == Operation::Conv ? "conv" : "matmul") << '|';
    for (const auto& name : methods) out << name << ',';
    out << '|' << family << '|' << firstPosition << '|' << lastPosition << '|' << int(accumulation) << '|'
      << int(rounding) << '|' << distributionName(distribution) << '|' << trials << '|' << seed << '|'
      << conv.toString() << '|' << m << 'x' << k << 'x' << n;
    return out.str();
}

namespace {

double quantile(std::vector<double> v, double q) {
    v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return std::isnan(x); }), v.end());
    if (v.empty()) return std::nan("");
    std::sort(v.begin(), v.end());
    const double pos = q * double(v.size() - 1);
    const auto lo = static_cast<std::size_t>(std::floor(pos));
    const auto hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (pos - double(lo)) * (v[hi] - v[lo]);
}

/// The operands of one trial and the double-precision direct result they should give.
struct Trial {
    TensorD a, b;  // conv: input, weight; matmul: A, B
    TensorD reference;
};

Trial makeTrial(const PrecisionSweep& s, int t) {
    Trial trial;
    const std::uint64_t seed = s.seed * 1000003ull + static_cast<std::uint64_t>(t) * 2;
    // Weights are signed whatever the data: images and activations get uniform [-1, 1] filters.
    const bool signedData = s.distribution == Distribution::Normal || s.distribution == Distribution::Uniform;
    const Distribution weightDistribution = signedData ? s.distribution : Distribution::Uniform;
    if (s.operation == Operation::Conv) {
        trial.a = makeInput(s.distribution, s.conv.inputShape(), seed);
        trial.b = makeInput(weightDistribution, s.conv.weightShape(), seed + 1);
        trial.reference = TensorD(s.conv.outputShape());
        conv::convAlgorithm("direct").run(s.conv, trial.a.data(), trial.b.data(), nullptr, trial.reference.data());
    } else {
        trial.a = makeInput(s.distribution, {s.m, s.k}, seed);
        trial.b = makeInput(weightDistribution, {s.k, s.n}, seed + 1);
        using Matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
        trial.reference = TensorD({s.m, s.n});
        Eigen::Map<Matrix>(trial.reference.data(), s.m, s.n) =
            Eigen::Map<const Matrix>(trial.a.data(), s.m, s.k) * Eigen::Map<const Matrix>(trial.b.data(), s.k, s.n);
    }
    return trial;
}

/// Why `method` cannot run at `format`, or empty.
std::string unsupportedReason(const PrecisionSweep& s, const std::string& method, const Format& format) {
    if (format.kind == FormatKind::ScaledInt && format.scale == 0.0)
        return "per-tensor integer formats need a scale for every intermediate; sweep int with a fixed scale";
    if (s.operation == Operation::Conv) {
        if (auto reason = conv::convAlgorithm(method).supports(s.conv)) return *reason;
        return {};
    }
    matmul::MatmulOptions options;
    options.compute = s.specFor(format);
    if (format.kind == FormatKind::Log) options.logFormat = format;
    return matmul::matmulMethod(method).supports(matmul::MatmulProblem{s.m, s.k, s.n, {}, {}}, options);
}

/// The method's output at `format` for one trial.
TensorD runOnce(const PrecisionSweep& s, const std::string& method, const Format& format, const Trial& trial) {
    const ComputeSpec spec = s.specFor(format);
    if (s.operation == Operation::Conv) {
        TensorD out(s.conv.outputShape());
        numeric::EmulatedArithmetic arithmetic(spec);
        conv::convAlgorithm(method).run(s.conv, trial.a.data(), trial.b.data(), nullptr, out.data(), arithmetic);
        return out;
    }
    matmul::MatmulOptions options;
    options.compute = spec;
    if (format.kind == FormatKind::Log) options.logFormat = format;
    const TensorF c = matmul::matmul(trial.a.cast<float>(), trial.b.cast<float>(), method, options);
    return c.cast<double>();
}

std::vector<std::string> resolveMethods(const PrecisionSweep& s) {
    std::vector<std::string> names = s.methods;
    if (names.empty()) {
        if (s.operation == Operation::Conv)
            for (const auto* a : conv::convAlgorithms()) names.push_back(a->name());
        else
            names = matmul::matmulMethodNames();
    }
    for (auto& n : names) {  // canonical names; unknown ones throw with the list of valid names
        if (s.operation == Operation::Conv) n = conv::convAlgorithm(n).name();
        else n = matmul::matmulMethod(n).name();
    }
    return names;
}

}  // namespace

Table runPrecisionSweep(const PrecisionSweep& s, const Progress& progress) {
    if (s.trials < 1) throw std::invalid_argument("trials must be at least 1");
    if (s.operation == Operation::Conv) s.conv.validate();
    else matmul::MatmulProblem{s.m, s.k, s.n, {}, {}}.validate();
    const numeric::FormatFamily& family = numeric::standardFamily(s.family);
    const int first = s.firstPosition < 0 ? family.first() : std::max(s.firstPosition, family.first());
    const int last = s.lastPosition < 0 ? family.last() : std::min(s.lastPosition, family.last());
    if (first > last) throw std::invalid_argument("empty position range for family " + s.family);
    const std::vector<std::string> methods = resolveMethods(s);

    std::vector<Trial> trials;
    for (int t = 0; t < s.trials; ++t) trials.push_back(makeTrial(s, t));

    struct Point {
        std::size_t method;
        int position;
        std::string status = "ok";
        std::vector<numeric::ErrorMetrics> metrics;
    };
    std::vector<Point> points;
    for (std::size_t m = 0; m < methods.size(); ++m)
        for (int p = first; p <= last; ++p) points.push_back({m, p, "ok", {}});

    std::atomic<std::size_t> next{0}, done{0};
    std::exception_ptr failure;
    std::mutex failureMutex;
    auto worker = [&] {
        try {
            for (std::size_t i = next++; i < points.size(); i = next++) {
                Point& point = points[i];
                const Format format = family.at(point.position);
                const std::string& method = methods[point.method];
                if (std::string reason = unsupportedReason(s, method, format); !reason.empty()) {
                    point.status = reason;
                } else {
                    for (const Trial& trial : trials) {
                        progress.check();
                        const TensorD out = runOnce(s, method, format, trial);
                        point.metrics.push_back(numeric::errorMetrics(out.span(), trial.reference.span()));
                    }
                }
                progress.step(double(++done), double(points.size()));
            }
        } catch (...) {
            std::lock_guard lock(failureMutex);
            if (!failure) failure = std::current_exception();
            next = points.size();  // the others stop at their next point
        }
    };
    const int threads = s.threads > 0 ? s.threads : std::max(1, int(std::thread::hardware_concurrency()));
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
    if (failure) std::rethrow_exception(failure);

    Table table({"position", "bits", "rel_error_median", "rel_error_p10", "rel_error_p90", "max_abs_error_median",
                 "mean_abs_error_median", "nonfinite", "trials"},
                {"operation", "method", "family", "format", "status"});
    const std::string operation = s.operation == Operation::Conv ? "conv" : "matmul";
    for (const Point& point : points) {
        const Format format = family.at(point.position);
        std::vector<double> rel, maxAbs, meanAbs;
        double nonFinite = 0;
        for (const auto& m : point.metrics) {
            // A trial whose outputs all overflowed has no finite error to report.
            const bool any = m.count > 0;
            rel.push_back(any ? m.relativeFrobenius : std::nan(""));
            maxAbs.push_back(any ? m.maxAbs : std::nan(""));
            meanAbs.push_back(any ? m.meanAbs : std::nan(""));
            nonFinite += double(m.nonFinite);
        }
        table.addRow({point.position, numeric::bitWidth(format), quantile(rel, 0.5), quantile(rel, 0.1), quantile(rel, 0.9),
                      quantile(maxAbs, 0.5), quantile(meanAbs, 0.5), nonFinite, int(point.metrics.size()), operation,
                      methods[point.method], s.family, numeric::formatName(format), point.status});
    }
    return table;
}

ChartSpec precisionChart(const PrecisionSweep& s, std::optional<int> currentPosition) {
    const numeric::FormatFamily& family = numeric::standardFamily(s.family);
    const bool isConv = s.operation == Operation::Conv;
    ChartSpec spec;
    spec.id = std::string("precision-") + (isConv ? "conv" : "matmul") + "-" + s.family;
    spec.title = std::string(isConv ? "Convolution" : "Matrix multiply") + ": error vs precision (" + family.label() + ")";
    spec.xColumn = "position";
    spec.yColumn = "rel_error_median";
    spec.seriesColumn = "method";
    switch (family.varies()) {
    case numeric::FormatFamily::Varies::MantissaBits: spec.xLabel = "mantissa bits"; break;
    case numeric::FormatFamily::Varies::FixedWordBits: spec.xLabel = "word bits"; break;
    case numeric::FormatFamily::Varies::LogFractionBits: spec.xLabel = "log fraction bits"; break;
    case numeric::FormatFamily::Varies::IntBits: spec.xLabel = "integer bits"; break;
    }
    spec.yLabel = "relative error";
    spec.yLog = true;
    spec.highlightSeries = isConv ? "direct" : "naive";
    for (const auto& p : family.presets()) spec.xMarkers.push_back({double(p.position), p.name});
    if (currentPosition) spec.currentX = double(*currentPosition);
    return spec;
}

PrecisionSnapshot precisionSnapshot(const PrecisionSweep& s, const std::string& method, int position) {
    const numeric::FormatFamily& family = numeric::standardFamily(s.family);
    const Format format = family.at(position);
    const Trial trial = makeTrial(s, 0);
    PrecisionSnapshot snap;
    const std::string canonical = s.operation == Operation::Conv ? conv::convAlgorithm(method).name()
                                                                 : matmul::matmulMethod(method).name();
    if (std::string reason = unsupportedReason(s, canonical, format); !reason.empty()) {
        snap.status = reason;
        return snap;
    }
    const TensorD out = runOnce(s, canonical, format, trial);
    auto plane = [](const TensorD& t, std::int64_t h, std::int64_t w) {
        TensorD p({h, w});
        std::copy(t.data(), t.data() + h * w, p.data());  // first image, first channel
        return p;
    };
    if (s.operation == Operation::Conv) {
        snap.input = plane(trial.a, s.conv.H, s.conv.W);
        snap.output = plane(out, s.conv.P(), s.conv.Q());
        snap.reference = plane(trial.reference, s.conv.P(), s.conv.Q());
    } else {
        snap.input = trial.a;
        snap.output = out;
        snap.reference = trial.reference;
    }
    snap.error = snap.output;
    for (std::size_t i = 0; i < snap.error.size(); ++i) snap.error[i] -= snap.reference[i];
    return snap;
}

}  // namespace ks::study
