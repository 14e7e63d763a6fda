#pragma once
// Training in C++: the seed's recipe, for every layer kind (Linear, low-rank, Conv2d through
// im2col-style GEMMs on ks::matmul::sgemm, max-pool, ReLU). Mean negative log-likelihood of the log-softmax output,
// mini-batches of 64 drawn without replacement in a fresh seeded order each epoch, Adadelta
// (ρ = 0.9, ε = 1e-6, learning rate 1.0, as PyTorch's defaults) with the learning rate multiplied by
// 0.7 after every epoch (StepLR). Works for dense and low-rank layers alike, so truncated factors
// can be fine-tuned. Deterministic for a given seed, on any machine and thread count (own shuffle, no
// library distributions, products on the calling thread).
#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "nn/model.hpp"

namespace ks::nn {

struct TrainProgress {
    int epoch = 0;  ///< 1-based
    int epochs = 0;
    std::int64_t batch = 0;  ///< batches done in this epoch
    std::int64_t batches = 0;
    double meanLoss = 0;  ///< over this epoch's batches so far
    double learningRate = 0;
};

struct TrainOptions {
    int epochs = 14;
    std::int64_t batchSize = 64;
    double learningRate = 1.0;
    double learningRateDecay = 0.7;  ///< per epoch
    double rho = 0.9;
    double epsilon = 1e-6;
    std::uint64_t seed = 1;
    /// Called after every `progressEvery` batches and at the end of each epoch.
    std::function<void(const TrainProgress&)> progress;
    std::int64_t progressEvery = 0;
    /// Checked before every batch; training stops (keeping the weights so far) when set.
    const std::atomic<bool>* cancel = nullptr;
};

struct TrainResult {
    std::vector<double> epochLoss;  ///< mean training loss of each finished epoch
    bool cancelled = false;
    double seconds = 0;
};

/// The mean negative log-likelihood of a batch and its gradient with respect to every parameter,
/// named and ordered as Model::toNamedTensors (e.g. "conv1.weight" as K·C·R·S values). What the
/// trainer computes for each batch; exposed so that it can be checked against finite differences.
struct LossGradient {
    double loss = 0;
    std::vector<std::pair<std::string, Eigen::ArrayXf>> gradients;
};
LossGradient lossGradient(const Model& model, const MatrixF& inputs, std::span<const std::uint8_t> labels);

/// Trains `model` in place on N samples (N×features) with labels in [0, classes).
TrainResult train(Model& model, const MatrixF& inputs, std::span<const std::uint8_t> labels,
                  const TrainOptions& options = {});

}  // namespace ks::nn
