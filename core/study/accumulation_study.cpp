#include "study/accumulation_study.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <random>
#include <sstream>
#include <stdexcept>

#include "base/parallel.hpp"
#include "base/statistics.hpp"
#include "base/timing_gate.hpp"
#include "numeric/modelled_dot.hpp"
#include "numeric/round.hpp"
#include "numeric/scaled_format.hpp"

namespace ks::study {

namespace {

constexpr int kMinBits = 3, kMaxBits = 24;

/// The operands' storage: a scaled format or an element-wise one (std::invalid_argument naming it otherwise).
struct OperandFormat {
    std::optional<numeric::ScaledFormat> scaled;
    numeric::Format element = numeric::Format::fp32();
};

OperandFormat operandFormat(const std::string& name) {
    OperandFormat f;
    try {
        f.scaled = numeric::parseScaledFormat(name);
        if (!f.scaled) f.element = numeric::parseFormat(name);
    } catch (const numeric::FormatError& e) {
        throw std::invalid_argument(std::string("accumulation study: operand format: ") + e.what());
    }
    if (!f.scaled && f.element.kind != numeric::FormatKind::Float)
        throw std::invalid_argument("accumulation study: the operands must be a float format or a scaled one, not " + name);
    return f;
}

void store(std::vector<double>& v, const OperandFormat& f) {
    if (f.scaled) numeric::quantizeScaled(std::span<double>(v), {1, std::int64_t(v.size()), 1}, *f.scaled);
    else numeric::roundInPlace(std::span<double>(v), f.element);
}

/// Σ x_i with Neumaier's compensation: the reference sum of the exact products.
double compensatedSum(const std::vector<double>& terms, std::size_t count) {
    double s = 0, c = 0;
    for (std::size_t i = 0; i < count; ++i) {
        const double t = s + terms[i];
        c += std::fabs(s) >= std::fabs(terms[i]) ? (s - t) + terms[i] : (terms[i] - t) + s;
        s = t;
    }
    return s + c;
}

struct DotData {
    std::vector<double> a, b, products;
};

/// Dot product d's stored operands, `length` long (the same stream for every length: shorter ones are prefixes).
DotData makeDot(const AccumulationSweep& s, const OperandFormat& f, int d, int length) {
    std::mt19937_64 rng(s.seed * 1000003ull + std::uint64_t(d));
    std::uniform_real_distribution<double> u(s.positive ? 0.0 : -1.0, 1.0);
    DotData data;
    data.a.resize(std::size_t(length));
    data.b.resize(std::size_t(length));
    for (int i = 0; i < length; ++i) data.a[std::size_t(i)] = u(rng), data.b[std::size_t(i)] = u(rng);
    store(data.a, f);
    store(data.b, f);
    data.products.resize(std::size_t(length));
    for (int i = 0; i < length; ++i) data.products[std::size_t(i)] = data.a[std::size_t(i)] * data.b[std::size_t(i)];  // exact
    return data;
}

void checkSweep(const AccumulationSweep& s) {
    operandFormat(s.operand);
    if (s.dots < 1) throw std::invalid_argument("accumulation study: dots must be at least 1");
    if (s.accumulatorBits < kMinBits || s.accumulatorBits > kMaxBits)
        throw std::invalid_argument("accumulation study: accumulator bits " + std::to_string(s.accumulatorBits) + " outside 3…24");
    if (s.length < 1 || s.groupSize < 1 || s.groupSize > 64 || s.promoteEvery < 1 || s.blockSize < 1)
        throw std::invalid_argument("accumulation study: length, block size and promotion interval must be at least 1, "
                                    "the group size 1…64");
    for (int x : s.sweptValues()) {
        const bool bad = (s.axis == AccumulationAxis::AccumulatorBits && (x < kMinBits || x > kMaxBits)) ||
                         (s.axis == AccumulationAxis::GroupSize && (x < 1 || x > 64)) || x < 1 ||
                         (s.axis == AccumulationAxis::Length && x > (1 << 22));
        if (bad)
            throw std::invalid_argument("accumulation study: " + accumulationAxisLabel(s.axis) + " " + std::to_string(x) +
                                        " is out of range");
    }
    for (const auto& m : s.models)
        if (std::find(accumulationModels().begin(), accumulationModels().end(), m) == accumulationModels().end())
            throw std::invalid_argument("accumulation study: unknown model '" + m + "'");
}

int lengthAt(const AccumulationSweep& s, int x) { return s.axis == AccumulationAxis::Length ? x : s.length; }

}  // namespace

std::string accumulationAxisLabel(AccumulationAxis axis) {
    switch (axis) {
        case AccumulationAxis::AccumulatorBits: return "accumulator bits";
        case AccumulationAxis::Length: return "length";
        case AccumulationAxis::GroupSize: return "group size";
        case AccumulationAxis::PromoteInterval: return "promotion interval";
    }
    return {};
}

const std::vector<std::string>& accumulationModels() {
    static const std::vector<std::string> models = {"sequential", "pairwise", "blocked", "kahan", "tensor core",
                                                    "tensor core, promoted"};
    return models;
}

std::vector<int> AccumulationSweep::defaultValues() const {
    switch (axis) {
        case AccumulationAxis::AccumulatorBits: {
            std::vector<int> v;
            for (int b = 4; b <= 24; ++b) v.push_back(b);
            return v;
        }
        case AccumulationAxis::Length: return {16, 64, 256, 1024, 4096, 16384};
        case AccumulationAxis::GroupSize: return {1, 2, 4, 8, 16, 32, 64};
        case AccumulationAxis::PromoteInterval: return {16, 32, 64, 128, 256, 512, 1024, 4096};
    }
    return {};
}

numeric::ComputeSpec AccumulationSweep::specFor(const std::string& model, int x) const {
    const int bits = axis == AccumulationAxis::AccumulatorBits ? x : accumulatorBits;
    const int group = axis == AccumulationAxis::GroupSize ? x : groupSize;
    const int promote = axis == AccumulationAxis::PromoteInterval ? x : promoteEvery;
    const OperandFormat f = operandFormat(operand);
    const numeric::Format sums = numeric::Format::floating(8, bits - 1);
    numeric::ComputeSpec spec = f.scaled ? numeric::ComputeSpec::scaled(*f.scaled, sums) : numeric::ComputeSpec::mixed(f.element, sums);
    spec.product = numeric::Format::fp64();  // exact products: the error is the sums'
    numeric::AccumulatorModel& m = spec.accumulation;
    if (model == "pairwise") m.order = numeric::SummationOrder::Pairwise;
    else if (model == "blocked") m.order = numeric::SummationOrder::Blocked, m.blockSize = blockSize;
    else if (model == "kahan") m.order = numeric::SummationOrder::Kahan;
    else if (model == "tensor core" || model == "tensor core, promoted") {
        m.order = numeric::SummationOrder::TensorCore;
        m.groupSize = group;
        m.alignedBits = bits;
        if (model == "tensor core, promoted") m.promoteEvery = promote;
    } else if (model != "sequential") {
        throw std::invalid_argument("accumulation study: unknown model '" + model + "'");
    }
    return spec;
}

std::string AccumulationSweep::key() const {
    std::ostringstream out;
    out << operand << '|' << int(axis) << '|';
    for (int v : sweptValues()) out << v << ',';
    out << '|' << accumulatorBits << '|' << length << '|' << groupSize << '|' << promoteEvery << '|' << blockSize << '|';
    for (const auto& m : models) out << m << ',';
    out << '|' << positive << '|' << dots << '|' << seed << '|' << shard.toString();
    return out.str();
}

std::string AccumulationSweep::describe(bool oneDot) const {
    std::ostringstream out;
    out << "operands " << operand << ", products exact; ";
    // The swept parameter is the chart's x axis; the swamping picture is of one setting, so it names them all.
    if (oneDot || axis != AccumulationAxis::AccumulatorBits)
        out << "accumulator " << accumulatorBits << " bits (e8m" << accumulatorBits - 1 << "); ";
    if (oneDot || axis != AccumulationAxis::Length) out << "length " << length << "; ";
    if (oneDot || axis != AccumulationAxis::GroupSize) out << "tensor-core groups of " << groupSize << "; ";
    if (oneDot || axis != AccumulationAxis::PromoteInterval) out << "promotion every " << promoteEvery << "; ";
    out << "blocked " << blockSize << "; inputs U[" << (positive ? "0" : "−1") << ", 1); ";
    if (oneDot) out << "the first dot product";
    else out << dots << " dot products";
    out << ", seed " << seed;
    return out.str();
}

Table runAccumulationSweep(const AccumulationSweep& s, const Progress& progress) {
    checkSweep(s);
    const OperandFormat f = operandFormat(s.operand);
    const std::vector<int> xs = s.sweptValues();
    int longest = 0;
    for (int x : xs) longest = std::max(longest, lengthAt(s, x));
    std::vector<DotData> data;
    for (int d = 0; d < s.dots; ++d) data.push_back(makeDot(s, f, d, longest));

    struct Point {
        int x;
        std::string model;
        std::vector<double> errors;
    };
    std::vector<Point> points;
    for (std::size_t m = 0; m < s.models.size(); ++m)
        for (std::size_t v = 0; v < xs.size(); ++v)
            if (s.shard.owns(m * xs.size() + v, s.models.size() * xs.size())) points.push_back({xs[v], s.models[m], {}});
    std::atomic<std::size_t> done{0};
    parallelForEach(std::int64_t(points.size()), [&](std::int64_t i) {
        const SharedComputeScope heavy;
        Point& p = points[std::size_t(i)];
        progress.check();
        const numeric::ModelledDot dot(s.specFor(p.model, p.x).elementwise());
        const int k = lengthAt(s, p.x);
        for (const DotData& d : data) {
            const double exact = compensatedSum(d.products, std::size_t(k));
            const double got = dot(0.0, d.a.data(), 1, d.b.data(), 1, k);
            p.errors.push_back(exact != 0 ? std::fabs(got - exact) / std::fabs(exact) : std::fabs(got));
        }
        progress.step(double(++done), double(points.size()));
    });
    Table table({"x", "rel_error_median", "rel_error_p10", "rel_error_p90", "dots"}, {"model", "spec"});
    for (const Point& p : points)
        table.addRow({p.x, median(p.errors), quantile(p.errors, 0.1), quantile(p.errors, 0.9), int(p.errors.size()), p.model,
                      numeric::computeSpecName(s.specFor(p.model, p.x))});
    return table;
}

ChartSpec accumulationChart(const AccumulationSweep& s) {
    ChartSpec spec;
    const std::string axis = accumulationAxisLabel(s.axis);
    spec.id = "accumulation-" + std::string(axis == "accumulator bits" ? "bits" : axis == "length" ? "length"
                                            : axis == "group size"     ? "group"
                                                                       : "promotion");
    spec.title = "Accumulation: error vs " + axis + " (" + s.operand + " operands)";
    spec.caption = s.describe();
    spec.xColumn = "x";
    spec.yColumn = "rel_error_median";
    spec.seriesColumn = "model";
    spec.xLabel = axis;
    spec.yLabel = "relative error of the dot product";
    spec.yLog = true;
    spec.xLog = s.axis != AccumulationAxis::AccumulatorBits;
    spec.xIntegers = s.axis == AccumulationAxis::AccumulatorBits;
    spec.colorKeys = accumulationModels();
    spec.highlightSeries = "sequential";
    if (s.axis == AccumulationAxis::AccumulatorBits) {
        spec.xMarkers.push_back({8.0, "bf16"});
        spec.xMarkers.push_back({14.0, "FP22 (Hopper FP8)"});
        spec.xMarkers.push_back({24.0, "fp32"});
    }
    return spec;
}

Table runSwamping(const AccumulationSweep& s, const Progress& progress) {
    checkSweep(s);
    const OperandFormat f = operandFormat(s.operand);
    const DotData d = makeDot(s, f, 0, s.length);
    // About 60 positions, evenly spaced on a log scale.
    std::vector<int> ks;
    for (double k = 1; k < s.length * 1.0001; k *= 1.12) {
        const int rounded = int(std::lround(k));
        if (ks.empty() || rounded != ks.back()) ks.push_back(std::min(rounded, s.length));
    }
    if (ks.back() != s.length) ks.push_back(s.length);
    // The swept parameter at its fixed value: this picture is of one setting.
    const int fixedX = s.axis == AccumulationAxis::AccumulatorBits ? s.accumulatorBits
                       : s.axis == AccumulationAxis::Length        ? s.length
                       : s.axis == AccumulationAxis::GroupSize     ? s.groupSize
                                                                   : s.promoteEvery;
    Table table({"k", "rel_error"}, {"model"});
    for (std::size_t m = 0; m < s.models.size(); ++m) {
        progress.check();
        const SharedComputeScope heavy;
        const numeric::ModelledDot dot(s.specFor(s.models[m], fixedX).elementwise());
        for (int k : ks) {
            const double exact = compensatedSum(d.products, std::size_t(k));
            const double got = dot(0.0, d.a.data(), 1, d.b.data(), 1, k);
            table.addRow({k, exact != 0 ? std::fabs(got - exact) / std::fabs(exact) : std::fabs(got), s.models[m]});
        }
        progress.step(double(m + 1), double(s.models.size()));
    }
    return table;
}

ChartSpec swampingChart(const AccumulationSweep& s) {
    ChartSpec spec;
    spec.id = "accumulation-swamping";
    spec.title = "Where the error comes from: the running sum's error after k products";
    spec.caption = s.describe(true);
    spec.xColumn = "k";
    spec.yColumn = "rel_error";
    spec.seriesColumn = "model";
    spec.xLabel = "products summed (k)";
    spec.yLabel = "relative error of the running sum";
    spec.xLog = true;
    spec.yLog = true;
    spec.colorKeys = accumulationModels();
    spec.highlightSeries = "sequential";
    return spec;
}

}  // namespace ks::study
