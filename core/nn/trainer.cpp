#include "nn/trainer.hpp"

#include <omp.h>

#include <chrono>
#include <cmath>
#include <random>

namespace ks::nn {

namespace {

/// One trainable array with its gradient and Adadelta's two running averages.
struct Parameter {
    float* value = nullptr;
    Eigen::Index size = 0;
    Eigen::ArrayXf gradient, squareAverage, deltaAverage;

    template <class M>
    explicit Parameter(M& m) : value(m.data()), size(m.size()) {
        gradient = Eigen::ArrayXf::Zero(size);
        squareAverage = Eigen::ArrayXf::Zero(size);
        deltaAverage = Eigen::ArrayXf::Zero(size);
    }

    void adadeltaStep(float lr, float rho, float eps) {
        Eigen::Map<Eigen::ArrayXf> v(value, size);
        squareAverage = rho * squareAverage + (1 - rho) * gradient.square();
        const Eigen::ArrayXf delta = (deltaAverage + eps).sqrt() / (squareAverage + eps).sqrt() * gradient;
        deltaAverage = rho * deltaAverage + (1 - rho) * delta.square();
        v -= lr * delta;
    }
};

/// Unbiased index in [0, n): rejection of the incomplete last block of 2^64.
std::uint64_t below(std::mt19937_64& rng, std::uint64_t n) {
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    for (;;) {
        const std::uint64_t x = rng();
        if (x < limit) return x % n;
    }
}

/// Eigen's multi-threaded GEMM does not give bit-identical sums for every thread count; training runs
/// its products on the calling thread so a seed gives the same weights on every machine. (This sets
/// the calling thread's OpenMP thread count only, and restores it.)
class SingleThreadedEigen {
public:
    SingleThreadedEigen() : saved_(omp_get_max_threads()) { omp_set_num_threads(1); }
    ~SingleThreadedEigen() { omp_set_num_threads(saved_); }
    SingleThreadedEigen(const SingleThreadedEigen&) = delete;
    SingleThreadedEigen& operator=(const SingleThreadedEigen&) = delete;

private:
    int saved_;
};

}  // namespace

TrainResult train(Model& model, const MatrixF& inputs, std::span<const std::uint8_t> labels,
                  const TrainOptions& options) {
    const auto start = std::chrono::steady_clock::now();
    const SingleThreadedEigen singleThreaded;
    const Eigen::Index n = inputs.rows();
    if (static_cast<std::size_t>(n) != labels.size())
        throw ModelError("training: " + std::to_string(n) + " samples but " + std::to_string(labels.size()) + " labels");
    if (inputs.cols() != model.inputFeatures())
        throw ModelError("training: the model takes " + std::to_string(model.inputFeatures()) + " features, the data has " +
                         std::to_string(inputs.cols()));
    if (n == 0 || options.batchSize < 1 || options.epochs < 0)
        throw ModelError("training needs samples, a positive batch size and a non-negative epoch count");
    auto& layers = model.layers();
    if (layers.empty() || layers.back().kind != LayerKind::LogSoftmax)
        throw ModelError("training needs a model that ends in LogSoftmax");
    for (const auto l : labels)
        if (l >= model.outputFeatures())
            throw ModelError("training: label " + std::to_string(l) + " but the model has " +
                             std::to_string(model.outputFeatures()) + " outputs");

    // Parameters in a fixed order; `slot[k]` is where layer k's first parameter is.
    std::vector<Parameter> params;
    std::vector<std::size_t> slot(layers.size(), 0);
    for (std::size_t k = 0; k < layers.size(); ++k) {
        Layer& l = layers[k];
        slot[k] = params.size();
        if (l.kind == LayerKind::Linear) params.emplace_back(l.weight);
        if (l.kind == LayerKind::LowRankLinear) {
            params.emplace_back(l.down);
            params.emplace_back(l.up);
        }
        if (l.parametrised() && l.bias.size()) params.emplace_back(l.bias);
    }

    std::mt19937_64 rng(options.seed);
    std::vector<Eigen::Index> order(static_cast<std::size_t>(n));
    const std::int64_t batches = (n + options.batchSize - 1) / options.batchSize;
    std::vector<MatrixF> acts(layers.size() + 1), hidden(layers.size());
    TrainResult result;

    for (int epoch = 0; epoch < options.epochs; ++epoch) {
        const float lr = static_cast<float>(options.learningRate * std::pow(options.learningRateDecay, epoch));
        for (Eigen::Index i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;
        for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[below(rng, i)]);
        double lossSum = 0;
        for (std::int64_t b = 0; b < batches; ++b) {
            if (options.cancel && options.cancel->load()) {
                result.cancelled = true;
                result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
                return result;
            }
            const Eigen::Index first = b * options.batchSize;
            const Eigen::Index count = std::min<Eigen::Index>(options.batchSize, n - first);
            MatrixF& x = acts[0];
            x.resize(count, inputs.cols());
            for (Eigen::Index i = 0; i < count; ++i) x.row(i) = inputs.row(order[static_cast<std::size_t>(first + i)]);

            // Forward, keeping every layer's output.
            for (std::size_t k = 0; k < layers.size(); ++k) {
                const Layer& l = layers[k];
                MatrixF& out = acts[k + 1];
                switch (l.kind) {
                    case LayerKind::Linear:
                        out.noalias() = acts[k] * l.weight.transpose();
                        if (l.bias.size()) out.rowwise() += l.bias.transpose();
                        break;
                    case LayerKind::LowRankLinear:
                        hidden[k].noalias() = acts[k] * l.down.transpose();
                        out.noalias() = hidden[k] * l.up.transpose();
                        if (l.bias.size()) out.rowwise() += l.bias.transpose();
                        break;
                    case LayerKind::ReLU: out = acts[k].cwiseMax(0.0f); break;
                    case LayerKind::LogSoftmax: {
                        out = acts[k];
                        for (Eigen::Index r = 0; r < count; ++r) {
                            auto row = out.row(r);
                            const float m = row.maxCoeff();
                            row.array() -= m + std::log((row.array() - m).exp().sum());
                        }
                        break;
                    }
                }
            }
            const MatrixF& logp = acts[layers.size()];
            double loss = 0;
            for (Eigen::Index r = 0; r < count; ++r) loss -= logp(r, labels[static_cast<std::size_t>(order[static_cast<std::size_t>(first + r)])]);
            loss /= double(count);
            lossSum += loss;

            // Backward. The last layer's gradient (log-softmax + mean NLL) is (softmax − one-hot) / count.
            MatrixF g = logp.array().exp().matrix();
            for (Eigen::Index r = 0; r < count; ++r) g(r, labels[static_cast<std::size_t>(order[static_cast<std::size_t>(first + r)])]) -= 1.0f;
            g /= static_cast<float>(count);
            for (std::size_t k = layers.size() - 1; k-- > 0;) {
                Layer& l = layers[k];
                const bool needInputGradient = k > 0;
                switch (l.kind) {
                    case LayerKind::ReLU:
                        g = (acts[k + 1].array() > 0.0f).select(g, 0.0f);
                        break;
                    case LayerKind::Linear: {
                        std::size_t p = slot[k];
                        Eigen::Map<MatrixF>(params[p].gradient.data(), l.weight.rows(), l.weight.cols()).noalias() =
                            g.transpose() * acts[k];
                        if (l.bias.size()) params[p + 1].gradient = g.colwise().sum().transpose().array();
                        if (needInputGradient) g = g * l.weight;
                        break;
                    }
                    case LayerKind::LowRankLinear: {
                        std::size_t p = slot[k];
                        Eigen::Map<MatrixF>(params[p + 1].gradient.data(), l.up.rows(), l.up.cols()).noalias() =
                            g.transpose() * hidden[k];
                        if (l.bias.size()) params[p + 2].gradient = g.colwise().sum().transpose().array();
                        const MatrixF gh = g * l.up;
                        Eigen::Map<MatrixF>(params[p].gradient.data(), l.down.rows(), l.down.cols()).noalias() =
                            gh.transpose() * acts[k];
                        if (needInputGradient) g = gh * l.down;
                        break;
                    }
                    case LayerKind::LogSoftmax:
                        throw ModelError("training: LogSoftmax must be the last layer");
                }
            }
            for (auto& p : params)
                p.adadeltaStep(lr, static_cast<float>(options.rho), static_cast<float>(options.epsilon));

            if (options.progress && options.progressEvery > 0 && (b + 1) % options.progressEvery == 0 && b + 1 < batches)
                options.progress({epoch + 1, options.epochs, b + 1, batches, lossSum / double(b + 1), lr});
        }
        result.epochLoss.push_back(lossSum / double(batches));
        if (options.progress) options.progress({epoch + 1, options.epochs, batches, batches, result.epochLoss.back(), lr});
    }
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
}

}  // namespace ks::nn
