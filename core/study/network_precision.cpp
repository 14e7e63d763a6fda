#include "study/network_precision.hpp"

#include <algorithm>

#include "conv/conv_registry.hpp"
#include "numeric/lane_rounding.hpp"

namespace ks::study {

numeric::Format FormatSetting::format() const { return numeric::standardFamily(family).at(position); }

numeric::ComputeSpec FormatSetting::spec() const { return computeSpecFor(format(), accumulation, rounding); }

std::string FormatSetting::key() const {
    return family + ":" + std::to_string(position) + (accumulation == Accumulation::Fp32 ? "/fp32" : "") + ":" +
           numeric::roundingName(rounding);
}

std::vector<const numeric::FormatFamily*> networkFamilies() {
    std::vector<const numeric::FormatFamily*> out;
    for (const auto& family : numeric::standardFamilies()) out.push_back(&family);
    return out;
}

std::size_t liveTestDigits(const nn::Model& model, const numeric::ComputeSpec& requested, const std::string& convAlgorithm,
                           std::size_t subset) {
    if (requested.native) return 0;
    // A scaled storage format is quantised before the kernels, which run the element-wise rest.
    const numeric::ComputeSpec spec = requested.elementwise();
    // tf32's layers take float32 lanes where their stored operands' range allows (the digit MLP's always do).
    const auto order = numeric::EmulatedOrder::RoundedProducts;
    if (numeric::laneRefusal(spec, order) && !numeric::laneRefusalDependsOnData(spec, order)) return subset;
    const bool hasConvolutions = std::any_of(model.layers().begin(), model.layers().end(), [](const nn::Layer& l) {
        return l.kind == nn::LayerKind::Conv2d;
    });
    if (!hasConvolutions) return 0;
    // The conv layers on float32 lanes too (the digit CNN: 2,000 digits in about 0.2 s on 2 cores).
    return conv::convAlgorithm(convAlgorithm).fastEmulationPath(spec).starts_with("float32") ? 0 : subset;
}

Table formatAccuracySweep(const CompressionStudy& study, const nn::Model& model, const FormatSetting& setting,
                          const CompressSweep& options, const Progress& progress) {
    const numeric::FormatFamily& family = numeric::standardFamily(setting.family);
    Table table({"position", "bits", "accuracy", "median_ms", "test_digits"}, {"family", "format"});
    const int count = family.last() - family.first() + 1;
    for (int position = family.first(); position <= family.last(); ++position) {
        progress.step(position - family.first(), count);
        FormatSetting at = setting;
        at.position = position;
        CompressSweep o = options;
        o.compute = at.spec();
        o.maxTestDigits = liveTestDigits(model, o.compute, options.convAlgorithm, options.maxTestDigits);
        const numeric::Format format = at.format();
        const CompressionPoint p = study.measure(at.key(), model, o);
        table.addRow({double(position), double(numeric::bitWidth(format)), p.accuracy, p.medianMs, double(p.testDigits),
                      family.id(), numeric::formatName(format)});
    }
    progress.step(count, count);
    return table;
}

ChartSpec formatAccuracyChart(const numeric::FormatFamily& family, std::optional<double> current) {
    ChartSpec s;
    s.id = "network-accuracy-bits";
    s.title = "Accuracy vs format (" + family.label() + ")";
    s.xColumn = "position";
    s.yColumn = "accuracy";
    s.xLabel = family.varies() == numeric::FormatFamily::Varies::MantissaBits ? "mantissa bits" : "bits";
    s.yLabel = "test accuracy";
    s.yBounds = {0.0, 1.0};
    s.xIntegers = true;
    for (const auto& preset : family.presets()) s.xMarkers.push_back({double(preset.position), preset.name});
    s.currentX = current;
    return s;
}

Table specAccuracySweep(const CompressionStudy& study, const nn::Model& model, const std::vector<numeric::ComputeSpec>& specs,
                        const CompressSweep& options, const Progress& progress) {
    Table table({"position", "bits", "accuracy", "error_rate", "median_ms", "test_digits"}, {"spec"});
    const auto [first, last] = options.shard.slice(specs.size());
    for (std::size_t i = first; i < last; ++i) {
        progress.step(double(i - first), double(last - first));
        CompressSweep o = options;
        o.compute = specs[i];
        o.shard = {};
        const std::string name = numeric::computeSpecName(specs[i]);
        const CompressionPoint p = study.measure("spec " + name, model, o);
        const double bits = specs[i].native              ? 32.0
                            : specs[i].scaledStorage ? numeric::bitsPerElement(*specs[i].scaledStorage)
                                                     : double(numeric::bitWidth(specs[i].storage));
        table.addRow({double(i), bits, p.accuracy, 1 - p.accuracy, p.medianMs, double(p.testDigits), name});
    }
    progress.step(double(last - first), double(last - first));
    return table;
}

ChartSpec specAccuracyChart() {
    ChartSpec s;
    s.id = "network-accuracy-specs";
    s.title = "Digit network: test error by compute specification";
    s.bars = true;
    s.xColumn = "position";
    s.seriesColumn = "spec";
    // The error rate, not the accuracy: bars of 96.5 % and 96.0 % look alike, of 3.5 % and 4.0 % they do not.
    s.yColumn = "error_rate";
    s.xLabel = "compute specification";
    s.yLabel = "test error (share misclassified)";
    s.yBounds = {0.0, 1.0};
    return s;
}

}  // namespace ks::study
