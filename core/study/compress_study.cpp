#include "study/compress_study.hpp"

#include "base/timing_gate.hpp"

#include <algorithm>
#include <chrono>
#include <atomic>
#include <cmath>
#include <iomanip>
#include <mutex>
#include <numeric>
#include <sstream>
#include <stdexcept>

#include "io/embedded_resources.hpp"
#include "io/weights.hpp"
#include "nn/trainer.hpp"

namespace ks::study {

std::string CompressSweep::key() const {
    std::ostringstream out;
    out << std::setprecision(17) << int(mode) << '|';
    for (auto r : sharedRanks) out << r << ',';
    out << '|';
    for (const auto& m : layerRanks) {
        for (const auto& [name, r] : m) out << name << '=' << r << ',';
        out << ';';
    }
    out << '|';
    for (double e : energies) out << e << ',';
    out << '|' << includeDense << '|' << fineTuneEpochs << '|' << fineTuneSeed << '|' << fineTuneLearningRate << '|' << numeric::computeSpecName(compute)
        << '|' << threads << '|' << measureTime << '|' << maxTestDigits << '|' << convAlgorithm << '|' << shard.toString();
    return out.str();
}

std::string energySettingName(double energy) {
    std::ostringstream label;
    label << "energy " << std::fixed << std::setprecision(energy >= 0.99 ? 3 : 2) << energy;
    return label.str();
}

std::string CompressSweep::describe() const {
    std::ostringstream out;
    switch (mode) {
        case CompressionMode::SharedRank: out << "one rank for every layer"; break;
        case CompressionMode::PerLayerRanks: out << "ranks per layer"; break;
        case CompressionMode::Energy: out << "per layer, the smallest rank keeping a share of Σσ²"; break;
    }
    out << "; inference " << numeric::computeSpecName(compute) << "; Conv2d layers, if any, by " << convAlgorithm << "; "
        << (maxTestDigits > 0 ? "at most " + std::to_string(maxTestDigits) + " test digits" : std::string("every test digit"))
        << "; fine-tuning " << fineTuneEpochs << " epoch" << (fineTuneEpochs == 1 ? "" : "s");
    if (measureTime) out << "; time " << (compute.native ? describeTiming(timing) : std::string("of the one emulated pass"));
    return out.str();
}

namespace {

/// A stratified subset (each class its share, spread through the class), as `eval --limit` takes.
io::DigitSet stratifiedSubset(const io::DigitSet& digits, std::size_t wanted) {
    if (wanted == 0 || wanted >= digits.count()) return digits;
    const std::vector<bool> mask = io::stratifiedTestMask(digits.labels, wanted);
    std::vector<std::size_t> indices;
    for (std::size_t i = 0; i < mask.size(); ++i)
        if (mask[i]) indices.push_back(i);
    return digits.subset(indices);
}

}  // namespace

CompressionStudy::CompressionStudy(nn::Model dense, io::DigitSet test, io::DigitSet train, std::string key)
    : factorisation_(dense), test_(std::move(test)), train_(std::move(train)), key_(std::move(key)) {
    if (test_.count() == 0) throw std::invalid_argument("compression study: no test digits");
    if (static_cast<std::int64_t>(test_.pixelsPerImage()) != factorisation_.dense().inputFeatures())
        throw std::invalid_argument("compression study: the model takes " +
                                    std::to_string(factorisation_.dense().inputFeatures()) +
                                    " inputs, the digits have " + std::to_string(test_.pixelsPerImage()) + " pixels");
    testInputs_ = nn::toMatrix(test_.normalisedImages());
    for (const auto& l : factorisation_.dense().layers())
        if (l.kind == nn::LayerKind::Linear) layerNames_.push_back(l.name);
}

std::shared_ptr<const CompressionStudy> CompressionStudy::embedded() {
    // Built once per process: the SVDs and the digit decoding are the expensive part.
    static std::mutex mutex;
    static std::shared_ptr<const CompressionStudy> study;
    std::lock_guard lock(mutex);
    if (!study) {
        const auto bytes = io::embeddedDefaultWeights();
        if (bytes.empty())
            throw std::runtime_error("this build has no embedded weights (resources/weights/mlp-default.safetensors)");
        nn::Model model = nn::Model::fromWeights(io::parseSafetensors(bytes, "embedded default weights"));
        io::DigitSplit split = io::embeddedSplit();
        study = std::make_shared<const CompressionStudy>(std::move(model), std::move(split.test), std::move(split.train),
                                                         "embedded");
    }
    return study;
}

std::int64_t CompressionStudy::fullRank(const std::string& layer) const {
    const nn::Layer* l = dense().find(layer);
    if (!l || !l->parametrised()) throw nn::ModelError("no Linear layer named '" + layer + "'");
    return l->rank();
}

LayerRanks CompressionStudy::sharedRanks(std::int64_t rank) const {
    if (rank < 1) throw std::invalid_argument("rank must be at least 1, got " + std::to_string(rank));
    LayerRanks ranks;
    for (const auto& name : layerNames_) ranks[name] = std::min(rank, fullRank(name));
    return ranks;
}

double CompressionStudy::energyKept(const std::string& layer, std::int64_t rank) const {
    const auto& s = factorisation_.singularValues(layer);
    double total = 0, kept = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        total += s[i] * s[i];
        if (static_cast<std::int64_t>(i) < rank) kept += s[i] * s[i];
    }
    return total > 0 ? kept / total : 1.0;
}

LayerRanks CompressionStudy::energyRanks(double energy) const {
    if (!(energy > 0 && energy <= 1)) throw std::invalid_argument("kept energy must be in (0, 1], got " + std::to_string(energy));
    LayerRanks ranks;
    for (const auto& name : layerNames_) ranks[name] = nn::rankKeepingEnergy(factorisation_.singularValues(name), energy);
    return ranks;
}

nn::Model CompressionStudy::compressed(const LayerRanks& ranks) const { return factorisation_.withRanks(ranks); }

namespace {

nn::InferenceOptions inferenceOptions(const CompressSweep& sweep) {
    nn::InferenceOptions options;
    options.threads = sweep.threads;
    options.convAlgorithm = sweep.convAlgorithm;
    return options;
}

std::vector<std::uint8_t> classesOf(const nn::MatrixF& logProbabilities) {
    std::vector<std::uint8_t> classes(static_cast<std::size_t>(logProbabilities.rows()));
    for (Eigen::Index r = 0; r < logProbabilities.rows(); ++r) {
        Eigen::Index best = 0;
        logProbabilities.row(r).maxCoeff(&best);
        classes[static_cast<std::size_t>(r)] = static_cast<std::uint8_t>(best);
    }
    return classes;
}

}  // namespace

std::vector<std::uint8_t> CompressionStudy::predictions(const nn::Model& model, const CompressSweep& options) const {
    return classesOf(model.forward(testInputs_, options.compute, inferenceOptions(options)));
}

std::vector<std::uint8_t> CompressionStudy::predictions(const nn::Model& model, const std::vector<std::size_t>& indices,
                                                        const CompressSweep& options) const {
    nn::MatrixF rows(static_cast<Eigen::Index>(indices.size()), testInputs_.cols());
    for (std::size_t i = 0; i < indices.size(); ++i) {
        if (indices[i] >= test_.count())
            throw std::out_of_range("test digit " + std::to_string(indices[i]) + " of " + std::to_string(test_.count()));
        rows.row(static_cast<Eigen::Index>(i)) = testInputs_.row(static_cast<Eigen::Index>(indices[i]));
    }
    return classesOf(model.forward(rows, options.compute, inferenceOptions(options)));
}

std::vector<std::size_t> CompressionStudy::sampleIndices(std::size_t count) const {
    const std::vector<bool> mask = io::stratifiedTestMask(test_.labels, std::min(count, test_.count()));
    std::vector<std::size_t> indices;
    for (std::size_t i = 0; i < mask.size(); ++i)
        if (mask[i]) indices.push_back(i);
    return indices;
}

namespace {

/// A parametrised layer's parameters (weights and biases) and FLOPs per sample.
struct LayerCost {
    double parameters = 0, flops = 0;
};

/// As the dense model has it (an already factored layer counts as the dense layer it replaces).
LayerCost denseCost(const nn::Layer& l) {
    const double bias = double(l.bias.size());
    if (l.kind == nn::LayerKind::LowRankLinear) {
        const double weights = double(l.inFeatures()) * double(l.outFeatures());
        return {weights + bias, 2.0 * weights};
    }
    return {double(l.weight.size()) + bias, l.flopsPerSample()};  // a conv layer's FLOPs scale with its output size
}

/// At the given ranks: a Linear layer below its full rank becomes two factors, r·(in + out) numbers.
LayerCost costAt(const nn::Layer& l, const LayerRanks& ranks) {
    const auto it = ranks.find(l.name);
    if (l.kind == nn::LayerKind::Linear && it != ranks.end() && it->second < l.rank()) {
        const double factors = double(it->second) * double(l.inFeatures() + l.outFeatures());
        return {factors + double(l.bias.size()), 2.0 * factors};
    }
    if (l.kind == nn::LayerKind::LowRankLinear)
        return {double(l.down.size() + l.up.size() + l.bias.size()), l.flopsPerSample()};
    return denseCost(l);
}

template <class Field>
double ratioOf(const nn::Model& dense, const LayerRanks& ranks, Field field) {
    double kept = 0, full = 0;
    for (const auto& l : dense.layers()) {
        if (!l.parametrised()) continue;
        kept += costAt(l, ranks).*field;
        full += denseCost(l).*field;
    }
    return full > 0 ? kept / full : 1.0;
}

}  // namespace

double compressionRatioOf(const nn::Model& dense, const LayerRanks& ranks) {
    return ratioOf(dense, ranks, &LayerCost::parameters);
}
double flopRatioOf(const nn::Model& dense, const LayerRanks& ranks) { return ratioOf(dense, ranks, &LayerCost::flops); }

nn::Model CompressionStudy::prepare(const LayerRanks& ranks, const CompressSweep& options, const Progress& progress) const {
    nn::Model model = compressed(ranks);
    if (options.fineTuneEpochs > 0) {
        if (train_.count() == 0) throw std::invalid_argument("fine-tuning needs training digits; this study has none");
        // The trainer polls an atomic flag; mirror the Progress's cancellation into it from its callback.
        std::atomic<bool> stop{false};
        nn::TrainOptions t;
        t.epochs = options.fineTuneEpochs;
        t.seed = options.fineTuneSeed;
        t.learningRate = options.fineTuneLearningRate;
        t.progressEvery = 10;
        t.cancel = &stop;
        t.progress = [&](const nn::TrainProgress&) {
            if (progress.cancelled()) stop = true;
        };
        const nn::MatrixF trainInputs = nn::toMatrix(train_.normalisedImages());
        const nn::TrainResult result = nn::train(model, trainInputs, train_.labels, t);
        if (result.cancelled) throw Cancelled();
    }
    progress.check();
    return model;
}

CompressionPoint CompressionStudy::evaluate(const std::string& setting, const LayerRanks& ranks,
                                            const CompressSweep& options, const Progress& progress) const {
    return measure(setting, prepare(ranks, options, progress), options);
}

CompressionPoint CompressionStudy::measure(const std::string& setting, const nn::Model& model,
                                           const CompressSweep& options) const {
    CompressionPoint p;
    p.setting = setting;
    p.fineTuneEpochs = options.fineTuneEpochs;
    for (const auto& l : model.layers())
        if (l.parametrised()) p.ranks[l.name] = l.rank();
    p.params = model.parameterCount();
    p.compressionRatio = model.compressionRatio();
    p.flopRatio = model.flopsPerSample() / dense().flopsPerSample();
    p.energyKept = 1;
    for (const auto& name : layerNames_) p.energyKept = std::min(p.energyKept, energyKept(name, p.ranks.at(name)));

    const io::DigitSet* digits = &test_;
    const nn::MatrixF* inputs = &testInputs_;
    io::DigitSet subset;
    nn::MatrixF subsetInputs;
    if (options.maxTestDigits > 0 && options.maxTestDigits < test_.count()) {
        subset = stratifiedSubset(test_, options.maxTestDigits);
        subsetInputs = nn::toMatrix(subset.normalisedImages());
        digits = &subset;
        inputs = &subsetInputs;
    }
    const nn::InferenceOptions inference = inferenceOptions(options);
    p.testDigits = digits->count();
    p.medianMs = std::nan("");
    if (!options.compute.native) {
        // Emulated arithmetic is slower than hardware: the one pass that gives the accuracy is timed too,
        // enough to compare settings with each other (and a bit-width slider step costs one pass); alone, as
        // every timing (base/timing_gate.hpp).
        const ExclusiveTimingScope alone;
        const auto start = std::chrono::steady_clock::now();
        const nn::MatrixF out = model.forward(*inputs, options.compute, inference);
        const std::chrono::duration<double, std::milli> elapsed = std::chrono::steady_clock::now() - start;
        p.accuracy = nn::accuracy(out, digits->labels);
        if (options.measureTime) p.medianMs = elapsed.count();
        return p;
    }
    {
        const SharedComputeScope heavy;
        const nn::MatrixF out = model.forward(*inputs, options.compute, inference);
        p.accuracy = nn::accuracy(out, digits->labels);
    }
    if (options.measureTime) {
        const TimingResult t = ks::measure([&] { (void)model.forward(*inputs, options.compute, inference); }, options.timing);
        p.medianMs = t.medianSeconds * 1e3;
    }
    return p;
}

std::vector<std::pair<std::string, LayerRanks>> CompressionStudy::settings(const CompressSweep& sweep) const {
    std::vector<std::pair<std::string, LayerRanks>> out;
    switch (sweep.mode) {
        case CompressionMode::SharedRank:
            for (auto r : sweep.sharedRanks) {
                // Past every layer's full rank a larger r is the same network again (a CNN's small
                // Linear layers reach it at 64): evaluate it once.
                LayerRanks ranks = sharedRanks(r);
                if (!out.empty() && out.back().second == ranks) continue;
                out.emplace_back("rank " + std::to_string(r), std::move(ranks));
            }
            break;
        case CompressionMode::PerLayerRanks:
            for (const auto& m : sweep.layerRanks) {
                LayerRanks ranks;
                for (const auto& name : layerNames_) ranks[name] = fullRank(name);
                std::string label;
                for (const auto& [name, r] : m) {
                    if (!std::count(layerNames_.begin(), layerNames_.end(), name))
                        throw std::invalid_argument("no Linear layer named '" + name + "'");
                    if (r < 1) throw std::invalid_argument(name + ": rank must be at least 1");
                    ranks[name] = std::min(r, fullRank(name));
                    label += (label.empty() ? "" : ",") + name + "=" + std::to_string(r);
                }
                out.emplace_back(label, ranks);
            }
            break;
        case CompressionMode::Energy:
            for (double e : sweep.energies) {
                out.emplace_back(energySettingName(e), energyRanks(e));
            }
            break;
    }
    if (sweep.includeDense) {
        LayerRanks full;
        for (const auto& name : layerNames_) full[name] = fullRank(name);
        out.emplace_back("dense", full);
    }
    return out;
}

Table CompressionStudy::run(const CompressSweep& sweep, const Progress& progress) const {
    const auto list = settings(sweep);
    const auto [first, last] = sweep.shard.slice(list.size());
    std::vector<CompressionPoint> points;
    for (std::size_t i = first; i < last; ++i) {
        progress.step(double(i - first), double(last - first));
        points.push_back(evaluate(list[i].first, list[i].second, sweep, progress));
    }
    progress.step(double(last - first), double(last - first));
    return tableOf(points);
}

Table CompressionStudy::tableOf(const std::vector<CompressionPoint>& points) const {
    std::vector<std::string> numeric;
    for (const auto& name : layerNames_) numeric.push_back("rank_" + name);
    for (const char* c : {"params", "compression_ratio", "flop_ratio", "energy_kept", "accuracy", "median_ms",
                          "ms_per_image", "test_digits", "fine_tune_epochs", "pareto"})
        numeric.emplace_back(c);
    Table table(numeric, {"setting"});
    std::vector<double> times, accuracies;
    for (const auto& p : points) times.push_back(p.medianMs), accuracies.push_back(p.accuracy);
    const std::vector<bool> front = paretoFront(times, accuracies);
    // Table::addRow takes cells in declaration order: numeric columns first, then labels.
    for (std::size_t i = 0; i < points.size(); ++i) {
        const auto& p = points[i];
        std::vector<Table::Cell> row;
        for (const auto& name : layerNames_) row.emplace_back(double(p.ranks.at(name)));
        row.emplace_back(double(p.params));
        row.emplace_back(p.compressionRatio);
        row.emplace_back(p.flopRatio);
        row.emplace_back(p.energyKept);
        row.emplace_back(p.accuracy);
        row.emplace_back(p.medianMs);
        row.emplace_back(p.medianMs / double(p.testDigits));
        row.emplace_back(double(p.testDigits));
        row.emplace_back(double(p.fineTuneEpochs));
        row.emplace_back(front[i] ? 1.0 : 0.0);
        row.emplace_back(p.setting);
        table.addRow(row);
    }
    return table;
}

void markParetoFront(Table& sweepTable) {
    const std::vector<bool> front = paretoFront(sweepTable.numbers("median_ms"), sweepTable.numbers("accuracy"));
    std::vector<double> marks;
    for (bool on : front) marks.push_back(on ? 1.0 : 0.0);
    sweepTable.setNumbers("pareto", std::move(marks));
}

std::vector<bool> paretoFront(const std::vector<double>& times, const std::vector<double>& accuracies) {
    if (times.size() != accuracies.size()) throw std::invalid_argument("paretoFront: sizes differ");
    const std::size_t n = times.size();
    std::vector<bool> front(n, false);
    for (std::size_t i = 0; i < n; ++i) {
        if (std::isnan(times[i]) || std::isnan(accuracies[i])) continue;
        bool dominated = false;
        for (std::size_t j = 0; j < n && !dominated; ++j) {
            if (j == i || std::isnan(times[j]) || std::isnan(accuracies[j])) continue;
            dominated = times[j] <= times[i] && accuracies[j] >= accuracies[i] &&
                        (times[j] < times[i] || accuracies[j] > accuracies[i]);
        }
        front[i] = !dominated;
    }
    return front;
}

ChartSpec compressionAccuracyChart(std::optional<double> currentRatio, const std::string& caption) {
    ChartSpec s;
    s.caption = caption;
    s.id = "compress-ratio-accuracy";
    s.title = "Accuracy vs compression ratio";
    s.xColumn = "compression_ratio";
    s.yColumn = "accuracy";
    s.xLabel = "compression ratio (parameters kept)";
    s.yLabel = "test accuracy";
    s.yBounds = {0.0, 1.0};
    s.xLog = true;
    s.currentX = currentRatio;
    return s;
}

ChartSpec compressionRuntimeChart(std::optional<double> currentRatio, const std::string& caption) {
    ChartSpec s;
    s.caption = caption;
    s.id = "compress-ratio-runtime";
    s.title = "Test-set inference time (median) vs compression ratio";
    s.xColumn = "compression_ratio";
    s.yColumn = "median_ms";
    s.xLabel = "compression ratio (parameters kept)";
    s.yLabel = "time (ms)";
    s.xLog = true;
    s.currentX = currentRatio;
    return s;
}

ParetoChart runtimeAccuracyChart(const Table& sweepTable, std::optional<CurrentPoint> current, const std::string& caption) {
    ParetoChart c;
    c.table = Table({"median_ms", "accuracy"}, {"series", "setting"});
    const auto& ms = sweepTable.numbers("median_ms");
    const auto& acc = sweepTable.numbers("accuracy");
    const auto& names = sweepTable.labels("setting");
    const auto& pareto = sweepTable.numbers("pareto");
    for (std::size_t i = 0; i < ms.size(); ++i) c.table.addRow({ms[i], acc[i], "settings", names[i]});
    std::vector<std::size_t> front;
    for (std::size_t i = 0; i < ms.size(); ++i)
        if (pareto[i] != 0) front.push_back(i);
    std::sort(front.begin(), front.end(), [&](auto a, auto b) { return ms[a] < ms[b]; });
    for (auto i : front) c.table.addRow({ms[i], acc[i], "pareto front", names[i]});
    if (current) c.table.addRow({current->medianMs, current->accuracy, "current", "current"});
    c.spec.id = "compress-runtime-accuracy";
    c.spec.caption = caption;
    c.spec.title = "Accuracy vs inference time (Pareto front)";
    c.spec.xColumn = "median_ms";
    c.spec.yColumn = "accuracy";
    c.spec.seriesColumn = "series";
    c.spec.xLabel = "test-set inference (ms, median)";
    c.spec.yLabel = "test accuracy";
    c.spec.yBounds = {0.0, 1.0};
    c.spec.highlightSeries = "pareto front";
    c.spec.scatterSeries = {"settings", "current"};
    if (current) c.spec.currentX = current->medianMs;
    return c;
}

std::vector<std::string> networkComputeChoices() {
    return {"native",          "bf16",       "fp16",         "fp16/fp32",  "e4m3/fp32",  "mxfp8-e4m3/fp32",
            "mxfp4/fp32",      "nvfp4/fp32", "volta-fp16-tc", "hopper-fp8", "hopper-fp8-promoted"};
}

}  // namespace ks::study
