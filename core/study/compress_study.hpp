#pragma once
// Part 5 of the assignment: compress the trained MLP by low-rank factorisation of its layers and
// measure what it costs (accuracy) and what it buys (parameters, FLOPs, measured inference time).
//
// Each Linear layer's weight is factored once by an exact SVD (nn::ModelFactorisation); every rank
// of every setting is a truncation of those factors, so a sweep of a dozen ranks takes seconds.
// A factored layer runs as two GEMMs, y = (x·V_r)·(Σ_r·U_rᵀ) + b, and the whole test set is timed
// (warm-up, then the median of repeats: ks::measure), the SVD excluded.
//
// Table columns (stable; documented in README.md), one row per setting:
//   setting            label (the last column): "rank 16", "fc1=44,fc2=20", "energy 0.90", "dense"
//   rank_<layer>       the rank of each Linear layer in the model's order (rank_fc1, rank_fc2, rank_fc3
//                      for the seed's MLP); min(in, out) when the layer stays dense
//   params             parameters kept (weights and biases)
//   compression_ratio  params / parameters of the dense network (nn::Model::compressionRatio)
//   flop_ratio         FLOPs per sample / the dense network's
//   energy_kept        the smallest share of squared singular values kept by any layer (1 = exact)
//   accuracy           share of test digits classified correctly (0..1)
//   median_ms          inference of the whole test set, median of repeats, milliseconds
//   ms_per_image       median_ms / test_digits
//   test_digits        how many test digits were classified and timed
//   fine_tune_epochs   epochs of fine-tuning of the factors after truncation (0: none)
//   pareto             1 if no other setting is at least as fast and at least as accurate and better
//                      in one of the two (the runtime-vs-accuracy Pareto front), else 0
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/progress.hpp"
#include "base/timing.hpp"
#include "io/mnist.hpp"
#include "nn/low_rank.hpp"
#include "nn/model.hpp"
#include "numeric/compute_spec.hpp"
#include "study/chart_spec.hpp"
#include "study/shard.hpp"
#include "study/table.hpp"

namespace ks::study {

using LayerRanks = std::map<std::string, std::int64_t>;

enum class CompressionMode {
    SharedRank,     ///< one rank for every layer (each capped at min(in, out): fc3 at min(r, 10))
    PerLayerRanks,  ///< explicit ranks per layer
    Energy,         ///< per layer, the smallest rank keeping a share of the squared singular values
};

struct CompressSweep {
    CompressionMode mode = CompressionMode::SharedRank;
    std::vector<std::int64_t> sharedRanks = {2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 256, 512};
    std::vector<LayerRanks> layerRanks;                                    ///< PerLayerRanks
    std::vector<double> energies = {0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99};  ///< Energy, in (0, 1]
    bool includeDense = true;  ///< add the uncompressed network as the row "dense"
    int fineTuneEpochs = 0;    ///< fine-tune the factors of each setting on the training digits
    std::uint64_t fineTuneSeed = 1;
    /// Adadelta's initial learning rate for fine-tuning (the seed's recipe trains from scratch at 1.0;
    /// from pretrained factors that large a step can undo them at the higher ranks).
    double fineTuneLearningRate = 1.0;
    numeric::ComputeSpec compute;  ///< inference arithmetic (native float32 by default)
    int threads = 0;               ///< inference threads (0: every core)
    std::string convAlgorithm = nn::InferenceOptions{}.convAlgorithm;  ///< of the Conv2d layers, if any
    TimingOptions timing{1, 3, 50, 0.05};
    bool measureTime = true;  ///< false: median_ms and ms_per_image are NaN (tests, emulated quick looks)
    /// Classify only this many test digits, a stratified subset (io::stratifiedTestMask); 0: all.
    /// Emulated arithmetic is ~1000× slower than float32, so the GUI looks at a subset there.
    std::size_t maxTestDigits = 0;
    /// The slice of the settings (in order) to run. A shard's pareto column is its own rows' front: mark the
    /// joined table's again with markParetoFront.
    Shard shard;

    /// A key identifying the sweep (with the study's own key, for caches).
    std::string key() const;
    /// Its parameters in words, for captions: the settings swept, the arithmetic, digits, fine-tuning, timing.
    std::string describe() const;
};

/// The setting's name in a kept-energy sweep: "energy 0.90", "energy 0.990" (the table's `setting` label).
std::string energySettingName(double energy);

/// One evaluated setting.
struct CompressionPoint {
    std::string setting;
    LayerRanks ranks;  ///< every Linear layer, dense ones at min(in, out)
    std::int64_t params = 0;
    double compressionRatio = 1, flopRatio = 1, energyKept = 1;
    double accuracy = 0;
    double medianMs = 0;
    std::size_t testDigits = 0;  ///< how many were classified and timed
    int fineTuneEpochs = 0;
};

/// A dense model and its test digits (and training digits, for fine-tuning), with each layer's SVD
/// done once. Immutable after construction: safe to share between threads.
class CompressionStudy {
public:
    /// `train` may be empty (then fine-tuning is refused with a clear message).
    CompressionStudy(nn::Model dense, io::DigitSet test, io::DigitSet train = {}, std::string key = "custom");
    /// The embedded pretrained weights and the embedded 8,000 / 2,000 split.
    static std::shared_ptr<const CompressionStudy> embedded();

    const nn::Model& dense() const { return factorisation_.dense(); }
    const nn::ModelFactorisation& factorisation() const { return factorisation_; }
    const io::DigitSet& testDigits() const { return test_; }
    const nn::MatrixF& testInputs() const { return testInputs_; }
    const std::string& key() const { return key_; }
    /// Names of the Linear layers, in order, and each one's full rank min(in, out).
    const std::vector<std::string>& layerNames() const { return layerNames_; }
    std::int64_t fullRank(const std::string& layer) const;

    /// Every layer at `rank`, capped at its full rank.
    LayerRanks sharedRanks(std::int64_t rank) const;
    /// Per layer, the smallest rank keeping at least `energy` of Σσ².
    LayerRanks energyRanks(double energy) const;
    /// Share of Σσ² a layer keeps at a rank.
    double energyKept(const std::string& layer, std::int64_t rank) const;
    /// The model at these ranks (missing layers: dense). ModelError for unknown layers or ranks < 1.
    nn::Model compressed(const LayerRanks& ranks) const;

    /// Evaluate one setting: prepare (truncate, optionally fine-tune), then measure.
    CompressionPoint evaluate(const std::string& setting, const LayerRanks& ranks, const CompressSweep& options,
                              const Progress& progress = {}) const;
    /// The model of a setting: truncated to `ranks`, then fine-tuned if `options.fineTuneEpochs` > 0.
    nn::Model prepare(const LayerRanks& ranks, const CompressSweep& options, const Progress& progress = {}) const;
    /// Classify the test digits (or options.maxTestDigits of them) with `model` and time it.
    /// The point's fineTuneEpochs is taken from `options`.
    CompressionPoint measure(const std::string& setting, const nn::Model& model, const CompressSweep& options) const;
    /// Predicted class of each test digit for a model, or of the digits at `indices` (for the digit grid).
    /// Inference as `options` says: arithmetic, threads and convolution algorithm.
    std::vector<std::uint8_t> predictions(const nn::Model& model, const CompressSweep& options = {}) const;
    std::vector<std::uint8_t> predictions(const nn::Model& model, const std::vector<std::size_t>& indices,
                                          const CompressSweep& options = {}) const;
    /// `count` test digits, each class its share, spread through the set (the digit grid's sample).
    std::vector<std::size_t> sampleIndices(std::size_t count) const;
    const io::DigitSet& trainDigits() const { return train_; }

    /// The settings a sweep evaluates, in order (label, ranks).
    std::vector<std::pair<std::string, LayerRanks>> settings(const CompressSweep& sweep) const;
    /// Run the sweep: progress in settings (and fine-tuning batches), Cancelled when asked to stop.
    Table run(const CompressSweep& sweep, const Progress& progress = {}) const;
    /// The table of already evaluated points (pareto column computed here).
    Table tableOf(const std::vector<CompressionPoint>& points) const;

private:
    nn::ModelFactorisation factorisation_;
    io::DigitSet test_, train_;
    nn::MatrixF testInputs_;
    std::string key_;
    std::vector<std::string> layerNames_;
};

/// Compression ratio and FLOP ratio of `dense` with these ranks, without building the model (for a
/// slider's marker): a Linear layer at r < min(in, out) keeps r·(in + out) weights, else all.
double compressionRatioOf(const nn::Model& dense, const LayerRanks& ranks);
double flopRatioOf(const nn::Model& dense, const LayerRanks& ranks);

/// Indices of the non-dominated points for (time lower is better, accuracy higher is better):
/// a point is dominated when another is at least as fast and at least as accurate, and strictly
/// better in one. Points with a NaN coordinate are never on the front.
std::vector<bool> paretoFront(const std::vector<double>& times, const std::vector<double>& accuracies);
/// Sets a sweep table's pareto column from its median_ms and accuracy columns.
void markParetoFront(Table& sweepTable);

/// Charts of a sweep's table. `currentRatio` / `currentMs` mark the GUI's current setting.
/// `caption`: the network and CompressSweep::describe(), drawn under the title and written in the CSV.
ChartSpec compressionAccuracyChart(std::optional<double> currentRatio = std::nullopt, const std::string& caption = {});
ChartSpec compressionRuntimeChart(std::optional<double> currentRatio = std::nullopt, const std::string& caption = {});
/// Runtime (x) vs accuracy (y) needs its own table: the series column "series" holds "settings"
/// (every row, in the sweep's order), "pareto front" (the front, by runtime) and, when given,
/// "current" (one point). Columns: series, setting, median_ms, accuracy.
struct ParetoChart {
    Table table;
    ChartSpec spec;
};
struct CurrentPoint {
    double medianMs = 0;
    double accuracy = 0;
};
ParetoChart runtimeAccuracyChart(const Table& sweepTable, std::optional<CurrentPoint> current = std::nullopt,
                                 const std::string& caption = {});

/// "native", "bf16", "fp16", "fp16/fp32", "e4m3/fp32": the compute specifications the GUI offers.
std::vector<std::string> networkComputeChoices();

}  // namespace ks::study
