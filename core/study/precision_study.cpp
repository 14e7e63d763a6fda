#include "study/precision_study.hpp"

#include "base/timing_gate.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>
#include <mutex>
#include <sstream>

#include "base/parallel.hpp"
#include "base/statistics.hpp"
#include "numeric/error_metrics.hpp"
#include "numeric/format_family.hpp"
#include "numeric/scaled_format.hpp"

namespace ks::study {

using numeric::ComputeSpec;
using numeric::Format;
using numeric::FormatKind;

ComputeSpec computeSpecFor(const Format& format, Accumulation accumulation, numeric::Rounding rounding) {
    return accumulation == Accumulation::InFormat ? ComputeSpec::uniform(format, rounding)
                                                  : ComputeSpec::mixed(format, Format::fp32(), rounding);
}

ComputeSpec PrecisionSweep::specFor(const Format& format) const { return computeSpecFor(format, accumulation, rounding); }

void PrecisionSweep::setLayer(const conv::ConvProblem& layer) {
    conv = layer;
    m = layer.K;
    k = layer.C * layer.R * layer.S;
    n = layer.P() * layer.Q();
}

std::string PrecisionSweep::key() const {
    std::ostringstream out;
    out << operation.id() << '|';
    for (const auto& name : methods) out << name << ',';
    out << '|' << family << '|';
    for (const auto& spec : specs) out << numeric::computeSpecName(spec) << ',';
    out << '|' << firstPosition << '|' << lastPosition << '|' << int(accumulation) << '|'
        << int(rounding) << '|' << distributionName(distribution) << '|' << trials << '|' << seed << '|'
        << conv.toString() << '|' << m << 'x' << k << 'x' << n << '|' << shard.toString() << '|' << int(scalePlacement);
    return out.str();
}

std::string PrecisionSweep::describe() const {
    std::ostringstream out;
    const bool blockScaled = specs.empty() && precisionFamily(family).blockScaled;
    if (blockScaled)
        out << (scalePlacement == numeric::ScalePlacement::TransformedTiles
                    ? "blocks along the reduction axis on Winograd's tiles and the FFT's spectra (the others: operands)"
                    : "operands block-scaled along the reduction axis")
            << ", products and sums in fp32; rounding " << numeric::roundingName(rounding);
    else if (specs.empty())
        out << (accumulation == Accumulation::Fp32 ? "storage and products in the format, sums in fp32"
                                                   : "everything in the format")
            << "; rounding " << numeric::roundingName(rounding);
    else
        out << "each specification as named (storage/products/sums:mode:acc=model)";
    out << "; inputs " << distributionName(distribution) << "; "
        << trials << " trial" << (trials == 1 ? "" : "s") << ", seed " << seed << "; ";
    if (operation.id() == Operation::Matmul.id()) out << "(" << m << "×" << k << ")·(" << k << "×" << n << ")";
    else out << "conv " << conv.toString();
    return out.str();
}

namespace {

PrecisionFamily familyOf(const numeric::FormatFamily& f) {
    PrecisionFamily p;
    p.id = f.id();
    p.label = f.label();
    p.first = f.first();
    p.last = f.last();
    p.defaultPosition = f.defaultPosition();
    p.presets = f.presets();
    switch (f.varies()) {
        case numeric::FormatFamily::Varies::MantissaBits: p.positionLabel = "mantissa bits"; break;
        case numeric::FormatFamily::Varies::FixedWordBits: p.positionLabel = "word bits"; break;
        case numeric::FormatFamily::Varies::LogFractionBits: p.positionLabel = "log fraction bits"; break;
        case numeric::FormatFamily::Varies::IntBits: p.positionLabel = "integer bits"; break;
    }
    return p;
}

}  // namespace

const std::vector<PrecisionFamily>& precisionFamilyChoices() {
    static const std::vector<PrecisionFamily> choices = [] {
        std::vector<PrecisionFamily> out;
        for (const numeric::FormatFamily* f : precisionFamilies()) out.push_back(familyOf(*f));
        for (const char* id : {"mxfp8-e4m3", "mxfp8-e5m2", "mxfp6-e3m2", "mxfp6-e2m3", "mxfp4", "mxint8", "nvfp4"}) {
            const numeric::ScaledFormat f = *numeric::parseScaledFormat(id);
            PrecisionFamily p;
            p.id = id;
            p.label = std::string(id) + ", block size 1…1024";
            p.first = 0;
            p.last = 10;
            p.defaultPosition = f.blockSize == 16 ? 4 : 5;
            p.positionLabel = "log2 block size";
            p.presets = {{p.defaultPosition, f.scheme == numeric::ScaleScheme::Nvfp4 ? "NVFP4 (16)" : "OCP MX (32)"}};
            p.blockScaled = true;
            out.push_back(p);
        }
        return out;
    }();
    return choices;
}

PrecisionFamily precisionFamily(std::string_view id) {
    std::string ids;
    for (const auto& f : precisionFamilyChoices()) {
        if (f.id == id) return f;
        ids += (ids.empty() ? "" : ", ") + f.id;
    }
    for (const auto& f : numeric::standardFamilies())
        if (f.id() == id) return familyOf(f);
    throw std::invalid_argument("unknown format family '" + std::string(id) + "' (expected one of " + ids + ")");
}

namespace {

/// A block-scaled family's format at a position: block size 2^position.
numeric::ScaledFormat scaledAt(std::string_view familyId, int position) {
    const PrecisionFamily family = precisionFamily(familyId);
    if (position < family.first || position > family.last)
        throw std::out_of_range("format family '" + family.id + "': position " + std::to_string(position) + " is outside " +
                                std::to_string(family.first) + "…" + std::to_string(family.last));
    numeric::ScaledFormat f = *numeric::parseScaledFormat(family.id);
    f.reach = numeric::ScaleReach::Block;
    f.blockSize = 1 << position;
    return f;
}

}  // namespace

std::string describeFamilyPosition(std::string_view familyId, int position) {
    const PrecisionFamily family = precisionFamily(familyId);
    if (family.blockScaled) {
        const numeric::ScaledFormat f = scaledAt(familyId, position);
        return numeric::scaledFormatName(f) + ": " + numeric::describe(f) + "; products and sums in fp32";
    }
    const numeric::FormatFamily& formats = numeric::standardFamily(familyId);
    const Format format = formats.at(position);
    std::string name = numeric::formatName(format);
    for (const auto& p : formats.presets())
        if (p.position == position && p.name != name) name += " (" + p.name + ")";
    return name + ": " + numeric::describe(format);
}

const std::vector<LayerPreset>& precisionLayerPresets() {
    using conv::ConvProblem;
    static const std::vector<LayerPreset> presets = {
        {"ResNet 3×3, 64×56×56 → 64", ConvProblem::layer(1, 64, 56, 56, 64, 3, 1, 1)},
        {"ResNet 3×3, 128×28×28 → 128", ConvProblem::layer(1, 128, 28, 28, 128, 3, 1, 1)},
        {"ResNet 3×3, 256×14×14 → 256", ConvProblem::layer(1, 256, 14, 14, 256, 3, 1, 1)},
        {"digit CNN conv1, 1×28×28 → 8", ConvProblem::layer(1, 1, 28, 28, 8, 3, 1, 1)},
        {"digit CNN conv2, 8×14×14 → 16", ConvProblem::layer(1, 8, 14, 14, 16, 3, 1, 1)},
        {"digit MLP fc1, 784 → 512 (1×1)", ConvProblem::layer(1, 784, 1, 1, 512, 1)},
    };
    return presets;
}

std::optional<std::string> precisionRefusal(const Format& format) {
    if (format.kind == FormatKind::ScaledInt && format.scale == 0.0)
        return "per-tensor integer formats need a scale for every intermediate; sweep int with a fixed scale";
    return std::nullopt;
}

std::vector<const numeric::FormatFamily*> precisionFamilies() {
    std::vector<const numeric::FormatFamily*> families;
    for (const auto& family : numeric::standardFamilies())
        if (!precisionRefusal(family.at(family.first()))) families.push_back(&family);
    return families;
}

namespace {

/// The operands of one trial and the double-precision result they should give.
Operands makeTrial(const PrecisionSweep& s, int t) {
    const std::uint64_t seed = s.seed * 1000003ull + static_cast<std::uint64_t>(t) * 2;
    // Weights are signed whatever the data: images and activations get uniform [-1, 1] filters.
    const bool signedData = s.distribution == Distribution::Normal || s.distribution == Distribution::Uniform;
    const Distribution weightDistribution = signedData ? s.distribution : Distribution::Uniform;
    const OperationImpl& op = s.operation.impl();
    const auto [aShape, bShape] = op.operandShapes(s.shapes());
    Operands trial;
    trial.a = makeInput(s.distribution, aShape, seed);
    trial.b = makeInput(weightDistribution, bShape, seed + 1);
    trial.exact = op.exact(s.shapes(), trial.a, trial.b);
    return trial;
}

/// The snapshot's trial, kept between calls: a slider step changes the format only, and the operands and
/// their double-precision result take most of a step's time on a real layer (ResNet 64×56×56 at fp16 on
/// 2 cores: ~40 ms, against 7–45 ms for the emulated run itself).
std::shared_ptr<const Operands> snapshotTrial(const PrecisionSweep& s) {
    static std::mutex mutex;
    static std::string lastKey;
    static std::shared_ptr<const Operands> last;
    std::ostringstream key;
    key << s.operation.id() << '|' << distributionName(s.distribution) << '|' << s.seed << '|' << s.conv.toString()
        << '|' << s.m << 'x' << s.k << 'x' << s.n;
    {
        const std::lock_guard lock(mutex);
        if (last && lastKey == key.str()) return last;
    }
    auto trial = std::make_shared<const Operands>(makeTrial(s, 0));  // outside the lock: it takes a while
    const std::lock_guard lock(mutex);
    lastKey = key.str();
    last = trial;
    return trial;
}

/// One point of the sweep: a family's format with the sweep's arithmetic, or a listed specification.
struct SweepPoint {
    int position = 0;
    ComputeSpec spec;
    Format format;      ///< the stored operands' (element-wise) format
    std::string label;  ///< the table's `format`
    double bits = 0;
};

SweepPoint sweepPoint(const PrecisionSweep& s, int position) {
    SweepPoint p;
    p.position = position;
    if (s.specs.empty() && precisionFamily(s.family).blockScaled) {
        p.spec = ComputeSpec::scaled(scaledAt(s.family, position), Format::fp32(), s.rounding);
        p.spec.scalePlacement = s.scalePlacement;
        p.format = p.spec.storage;
        p.label = numeric::scaledFormatName(*p.spec.scaledStorage);
        p.bits = numeric::bitsPerElement(*p.spec.scaledStorage);
        return p;
    }
    if (s.specs.empty()) {
        p.format = numeric::standardFamily(s.family).at(position);
        p.spec = s.specFor(p.format);
        p.label = numeric::formatName(p.format);
        p.bits = numeric::bitWidth(p.format);
        return p;
    }
    if (position < 0 || position >= int(s.specs.size()))
        throw std::out_of_range("precision sweep: no specification at position " + std::to_string(position));
    p.spec = s.specs[std::size_t(position)];
    p.format = p.spec.storage;
    p.label = numeric::computeSpecName(p.spec);
    p.bits = p.spec.scaledStorage ? numeric::bitsPerElement(*p.spec.scaledStorage) : numeric::bitWidth(p.spec.storage);
    return p;
}

/// Why `algorithm` cannot run at a point, or nothing.
std::optional<std::string> refusal(const PrecisionSweep& s, const Algorithm& algorithm, const SweepPoint& point) {
    if (!point.spec.scaledStorage)
        if (auto reason = precisionRefusal(point.format)) return reason;
    return s.operation.impl().supports(algorithm, s.shapes(), point.spec, point.format);
}

TensorD runOnce(const PrecisionSweep& s, const Algorithm& algorithm, const SweepPoint& point, const Operands& trial) {
    return s.operation.impl().emulate(algorithm, s.shapes(), point.spec, point.format, s.engine, trial.a, trial.b);
}

}  // namespace

Table runPrecisionSweep(const PrecisionSweep& s, const Progress& progress) {
    if (s.trials < 1) throw std::invalid_argument("trials must be at least 1");
    s.operation.impl().validate(s.shapes());
    int first = 0, last = int(s.specs.size()) - 1;
    if (s.specs.empty()) {
        const PrecisionFamily family = precisionFamily(s.family);
        first = s.firstPosition < 0 ? family.first : std::max(s.firstPosition, family.first);
        last = s.lastPosition < 0 ? family.last : std::min(s.lastPosition, family.last);
        if (first > last) throw std::invalid_argument("empty position range for family " + s.family);
    }
    std::vector<const Algorithm*> methods;
    for (const auto& name : s.operation.resolve(s.methods)) methods.push_back(&s.operation.algorithm(name));

    std::vector<Operands> trials;
    for (int t = 0; t < s.trials; ++t) trials.push_back(makeTrial(s, t));

    struct Point {
        std::size_t method;
        int position;
        std::string status = "ok";
        std::vector<numeric::ErrorMetrics> metrics;
    };
    std::vector<Point> points;
    const std::size_t total = methods.size() * std::size_t(last - first + 1);
    for (std::size_t m = 0; m < methods.size(); ++m)
        for (int p = first; p <= last; ++p)
            if (s.shard.owns(m * std::size_t(last - first + 1) + std::size_t(p - first), total)) points.push_back({m, p, "ok", {}});

    std::atomic<std::size_t> done{0};
    parallelForEach(
        std::int64_t(points.size()),
        [&](std::int64_t i) {
            const SharedComputeScope heavy;  // no timing elsewhere in the process runs beside this point
            Point& point = points[std::size_t(i)];
            const SweepPoint at = sweepPoint(s, point.position);
            const Algorithm& method = *methods[point.method];
            if (auto reason = refusal(s, method, at)) {
                point.status = *reason;
            } else {
                for (const Operands& trial : trials) {
                    progress.check();
                    const TensorD out = runOnce(s, method, at, trial);
                    point.metrics.push_back(numeric::errorMetrics(out.span(), trial.exact.span()));
                }
            }
            progress.step(double(++done), double(points.size()));
        },
        s.threads);

    Table table({"position", "bits", "rel_error_median", "rel_error_p10", "rel_error_p90", "max_abs_error_median",
                 "mean_abs_error_median", "nonfinite", "trials"},
                {"operation", "method", "family", "format", "status"});
    for (const Point& point : points) {
        const SweepPoint at = sweepPoint(s, point.position);
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
        table.addRow({point.position, at.bits, median(rel), quantile(rel, 0.1), quantile(rel, 0.9),
                      median(maxAbs), median(meanAbs), nonFinite, int(point.metrics.size()), s.operation.id(),
                      methods[point.method]->name(), s.familyId(), at.label, point.status});
    }
    return table;
}

ChartSpec precisionChart(const PrecisionSweep& s, std::optional<int> currentPosition) {
    ChartSpec spec;
    if (!s.specs.empty()) {
        // One tick per specification, named; the lines join specifications, not a growing width.
        spec.id = "precision-" + s.operation.id() + "-specs";
        spec.title = s.operation.label() + ": error by compute specification";
        spec.xColumn = "position";
        spec.yColumn = "rel_error_median";
        spec.seriesColumn = "method";
        spec.xLabel = "compute specification";
        spec.yLabel = "relative error";
        spec.yLog = true;
        spec.xIntegers = true;
        spec.caption = s.describe();
        spec.highlightSeries = s.operation.reference().name();
        spec.colorKeys = s.operation.resolve({});
        for (std::size_t i = 0; i < s.specs.size(); ++i)
            spec.xMarkers.push_back({double(i), numeric::computeSpecName(s.specs[i])});
        if (currentPosition) spec.currentX = double(*currentPosition);
        return spec;
    }
    const PrecisionFamily family = precisionFamily(s.family);
    spec.id = "precision-" + s.operation.id() + "-" + s.family;
    spec.title = s.operation.label() + (family.blockScaled ? ": error vs block size (" : ": error vs precision (") + family.label + ")";
    spec.xColumn = "position";
    spec.yColumn = "rel_error_median";
    spec.seriesColumn = "method";
    spec.xLabel = family.positionLabel;
    spec.yLabel = "relative error";
    spec.yLog = true;
    spec.xIntegers = true;
    spec.caption = s.describe();
    spec.highlightSeries = s.operation.reference().name();
    spec.colorKeys = s.operation.resolve({});  // registry order, as on Runtime
    for (const auto& p : family.presets) spec.xMarkers.push_back({double(p.position), p.name});
    if (currentPosition) spec.currentX = double(*currentPosition);
    return spec;
}

PrecisionSnapshot precisionSnapshot(const PrecisionSweep& s, const std::string& methodName, int position) {
    const SweepPoint at = sweepPoint(s, position);
    const Algorithm& method = s.operation.algorithm(methodName);
    PrecisionSnapshot snap;
    if (auto reason = refusal(s, method, at)) {
        snap.status = *reason;
        return snap;
    }
    const std::shared_ptr<const Operands> cached = snapshotTrial(s);
    const Operands& trial = *cached;
    const TensorD out = runOnce(s, method, at, trial);
    const OperationImpl& op = s.operation.impl();
    snap.input = op.inputPicture(s.shapes(), trial.a);
    snap.output = op.outputPicture(s.shapes(), out);
    snap.reference = op.outputPicture(s.shapes(), trial.exact);
    snap.error = snap.output;
    for (std::size_t i = 0; i < snap.error.size(); ++i) snap.error[i] -= snap.reference[i];
    return snap;
}

}  // namespace ks::study
