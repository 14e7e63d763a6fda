#include "study/runtime_study.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <sstream>
#include <stdexcept>

namespace ks::study {

namespace {

const double kNaN = std::nan("");

struct Row {
    std::string algorithm;
    AlgorithmTiming timing;
    double gflops = kNaN;
};

/// Called after each algorithm (for progress and cancellation).
using AfterEach = std::function<void()>;

/// Every selected algorithm timed on `shapes`, fastest first, those that did not run last.
std::vector<Row> findRows(const RuntimeFind& f, const ProblemShapes& shapes, const AfterEach& afterEach) {
    const OperationImpl& op = f.operation.impl();
    op.validate(shapes);
    std::vector<Row> rows;
    for (const auto& name : f.operation.resolve(f.algorithms)) {
        Row row{name, op.time(f.operation.algorithm(name), shapes, f)};
        if (row.timing.status == "ok") {
            row.gflops = op.flops(shapes) / row.timing.medianSeconds * 1e-9;
        } else {
            row.timing.medianSeconds = row.timing.workspaceBytes = row.timing.maxAbsError = kNaN;
            row.timing.minSeconds = row.timing.maxSeconds = kNaN;
        }
        rows.push_back(std::move(row));
        afterEach();
    }
    std::stable_sort(rows.begin(), rows.end(), [](const Row& x, const Row& y) {
        const bool xok = x.timing.status == "ok", yok = y.timing.status == "ok";
        if (xok != yok) return xok;
        return xok && x.timing.medianSeconds < y.timing.medianSeconds;
    });
    return rows;
}

void appendKey(std::ostringstream& out, const RuntimeFind& f) {
    out << f.operation.id() << '|';
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

std::string RuntimeFind::describe() const {
    std::ostringstream out;
    if (operation.id() == Operation::Matmul.id())
        out << "float32 (" << m << "×" << k << ")·(" << k << "×" << n << "), svd rank " << svdRank << ", log formats "
            << numeric::formatName(logFormat);
    else
        out << "float32 conv " << conv.toString();
    out << "; data uniform [−1, 1] seed " << seed << "; " << describeTiming(timing);
    return out.str();
}

std::string RuntimeScaling::describe() const {
    std::ostringstream out;
    out << base.describe() << "; sizes";
    for (std::size_t i = 0; i < sizes.size(); ++i) out << (i ? ", " : " ") << sizes[i];
    return out.str();
}

Table runRuntimeFind(const RuntimeFind& f, const Progress& progress) {
    const double total = double(f.operation.resolve(f.algorithms).size());
    double done = 0;
    progress.step(0, total);
    const std::vector<Row> rows = findRows(f, f.shapes(), [&] { progress.step(++done, total); });
    Table table({"index", "median_ms", "gflops", "workspace_bytes", "max_abs_error", "min_ms", "max_ms"},
                {"operation", "algorithm", "status", "note"});
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const AlgorithmTiming& t = rows[i].timing;
        table.addRow({i, t.medianSeconds * 1e3, rows[i].gflops, t.workspaceBytes, t.maxAbsError, t.minSeconds * 1e3,
                      t.maxSeconds * 1e3, f.operation.id(), rows[i].algorithm, t.status, t.note});
    }
    return table;
}

std::optional<std::size_t> fastestWithinError(const Table& find, double tolerance) {
    const auto& ms = find.numbers("median_ms");
    const auto& error = find.numbers("max_abs_error");
    const auto& status = find.labels("status");
    std::optional<std::size_t> best;
    for (std::size_t r = 0; r < find.rowCount(); ++r) {
        if (status[r] != "ok" || !(error[r] <= tolerance) || !std::isfinite(ms[r])) continue;
        if (!best || ms[r] < ms[*best]) best = r;
    }
    return best;
}

Table runRuntimeScaling(const RuntimeScaling& s, const Progress& progress) {
    if (s.sizes.empty()) throw std::invalid_argument("runtime vs size: no sizes given");
    for (auto size : s.sizes)
        if (size < 1) throw std::invalid_argument("runtime vs size: sizes must be positive, got " + std::to_string(size));
    const std::vector<std::string> names = s.base.operation.resolve(s.base.algorithms);
    const double total = double(names.size() * s.sizes.size());
    double done = 0;
    progress.step(0, total);
    Table table({"size", "median_ms", "gflops"}, {"operation", "algorithm", "status"});
    const std::string op = s.base.operation.id();
    for (auto size : s.sizes) {
        ProblemShapes shapes = s.base.shapes();
        if (auto reason = s.base.operation.impl().scaleTo(shapes, size)) {
            for (const auto& name : names) table.addRow({size, kNaN, kNaN, op, name, *reason});
            done += double(names.size());
            progress.step(done, total);
            continue;
        }
        for (const Row& r : findRows(s.base, shapes, [&] { progress.step(++done, total); }))
            table.addRow({size, r.timing.medianSeconds * 1e3, r.gflops, op, r.algorithm, r.timing.status});
    }
    return table;
}

ChartSpec runtimeFindChart(const RuntimeFind& f) {
    ChartSpec spec;
    spec.caption = f.describe();
    spec.id = "runtime-find-" + f.operation.id();
    spec.title = f.operation.label() + " " + f.operation.impl().describe(f.shapes()) + ": time per algorithm, fastest on top (median; whiskers: fastest and slowest repeat)";
    spec.xColumn = "index";
    spec.yColumn = "median_ms";
    spec.seriesColumn = "algorithm";
    spec.xLabel = "algorithm";
    spec.yLabel = "time (ms)";
    spec.yLogIfWide = true;
    spec.yBounds.min = 0.0;  // a time: bars stand on zero, the axis never below it
    spec.bars = true;
    spec.yLowColumn = "min_ms";
    spec.yHighColumn = "max_ms";
    spec.colorKeys = f.operation.resolve({});  // registry order: one colour per algorithm, whatever ran
    return spec;
}

ChartSpec runtimeScalingChart(const RuntimeScaling& s) {
    const OperationImpl& op = s.base.operation.impl();
    ChartSpec spec;
    spec.id = "runtime-scaling-" + s.base.operation.id();
    spec.caption = s.describe();
    spec.title = op.scalingTitle(s.base.shapes());
    spec.xColumn = "size";
    spec.yColumn = "median_ms";
    spec.seriesColumn = "algorithm";
    spec.xLabel = op.sizeLabel();
    spec.yLabel = "time (ms)";
    spec.xLog = true;
    spec.yLog = true;
    spec.highlightSeries = s.base.operation.everydayAlgorithm();
    spec.colorKeys = s.base.operation.resolve({});
    return spec;
}

}  // namespace ks::study
