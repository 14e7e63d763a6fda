#include "nn/trainer.hpp"

#include <chrono>
#include <cmath>
#include <random>

#include "base/parallel.hpp"
#include "conv/im2col_patches.hpp"
#include "matmul/gemm.hpp"
#include "nn/layer_kernels.hpp"

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

/// One batch's forward pass (keeping what the backward pass needs) and backward pass, for every
/// layer kind. Gradients land in the parameters' `gradient` arrays; parameters are in the order of
/// Model::toNamedTensors (per layer: weight or down, up; then bias).
class Backprop {
public:
    explicit Backprop(Model& model) : layers_(model.layers()) {
        slot_.assign(layers_.size(), 0);
        for (std::size_t k = 0; k < layers_.size(); ++k) {
            Layer& l = layers_[k];
            slot_[k] = params_.size();
            if (l.kind == LayerKind::Linear || l.kind == LayerKind::Conv2d) params_.emplace_back(l.weight);
            if (l.kind == LayerKind::LowRankLinear) {
                params_.emplace_back(l.down);
                params_.emplace_back(l.up);
            }
            if (l.parametrised() && l.bias.size()) params_.emplace_back(l.bias);
        }
        acts_.resize(layers_.size() + 1);
        hidden_.resize(layers_.size());
        patches_.resize(layers_.size());
        argmax_.resize(layers_.size());
    }

    std::vector<Parameter>& parameters() { return params_; }

    /// Mean NLL of the batch (count × features) and, into the parameters, its gradient.
    double run(const MatrixF& x, const std::vector<std::uint8_t>& labels) {
        acts_[0] = x;
        forward();
        const MatrixF& logp = acts_[layers_.size()];
        const Eigen::Index count = x.rows();
        double loss = 0;
        for (Eigen::Index r = 0; r < count; ++r) loss -= logp(r, labels[static_cast<std::size_t>(r)]);
        loss /= double(count);
        // The last layer's gradient (log-softmax + mean NLL) is (softmax − one-hot) / count.
        MatrixF g = logp.array().exp().matrix();
        for (Eigen::Index r = 0; r < count; ++r) g(r, labels[static_cast<std::size_t>(r)]) -= 1.0f;
        g /= static_cast<float>(count);
        backward(g);
        return loss;
    }

private:
    void forward() {
        using matmul::Trans;
        const Eigen::Index count = acts_[0].rows();
        for (std::size_t k = 0; k < layers_.size(); ++k) {
            const Layer& l = layers_[k];
            const MatrixF& in = acts_[k];
            MatrixF& out = acts_[k + 1];
            switch (l.kind) {
                case LayerKind::Linear:
                    out.noalias() = in * l.weight.transpose();
                    if (l.bias.size()) out.rowwise() += l.bias.transpose();
                    break;
                case LayerKind::LowRankLinear:
                    hidden_[k].noalias() = in * l.down.transpose();
                    out.noalias() = hidden_[k] * l.up.transpose();
                    if (l.bias.size()) out.rowwise() += l.bias.transpose();
                    break;
                case LayerKind::Conv2d: {
                    // im2col per sample: Y_n (K × P·Q) = W (K × C·R·S) · patches_n (C·R·S × P·Q) + b.
                    const std::int64_t crs = l.inFeatures(), kk = l.outFeatures();
                    const std::int64_t pq = l.outputShape.height * l.outputShape.width;
                    patches_[k].resize(static_cast<std::size_t>(count * crs * pq));
                    out.resize(count, kk * pq);
                    for (Eigen::Index n = 0; n < count; ++n) {
                        float* patch = patches_[k].data() + n * crs * pq;
                        conv::unfoldPatches(detail::convProblemOf(l, 1), in.row(n).data(), 0, 0, pq, patch);
                        float* y = out.row(n).data();
                        matmul::sgemm(Trans::No, Trans::No, kk, pq, crs, l.weight.data(), crs, patch, pq, y, pq, false, 1);
                        if (l.bias.size())
                            for (std::int64_t c = 0; c < kk; ++c)
                                for (std::int64_t j = 0; j < pq; ++j) y[c * pq + j] += l.bias[c];
                    }
                    break;
                }
                case LayerKind::MaxPool2d:
                    out.resize(count, l.outputShape.size());
                    argmax_[k].resize(static_cast<std::size_t>(out.size()));
                    detail::maxPool(in.data(), count, l.inputShape, l.poolSize, out.data(), argmax_[k].data());
                    break;
                case LayerKind::Flatten: out = in; break;
                case LayerKind::ReLU: out = in.cwiseMax(0.0f); break;
                case LayerKind::LogSoftmax:
                    out = in;
                    detail::logSoftmaxRows(out);
                    break;
            }
        }
    }

    void backward(MatrixF& g) {
        using matmul::Trans;
        const Eigen::Index count = g.rows();
        for (std::size_t k = layers_.size() - 1; k-- > 0;) {
            Layer& l = layers_[k];
            const bool needInputGradient = k > 0;
            switch (l.kind) {
                case LayerKind::ReLU:
                    g = (acts_[k + 1].array() > 0.0f).select(g, 0.0f);
                    break;
                case LayerKind::Flatten: break;
                case LayerKind::MaxPool2d: {
                    MatrixF gx(count, l.inputShape.size());
                    detail::maxPoolBackward(g.data(), argmax_[k].data(), count, l.outputShape.size(), l.inputShape.size(),
                                            gx.data());
                    g = std::move(gx);
                    break;
                }
                case LayerKind::Linear: {
                    const std::size_t p = slot_[k];
                    Eigen::Map<MatrixF>(params_[p].gradient.data(), l.weight.rows(), l.weight.cols()).noalias() =
                        g.transpose() * acts_[k];
                    if (l.bias.size()) params_[p + 1].gradient = g.colwise().sum().transpose().array();
                    if (needInputGradient) g = g * l.weight;
                    break;
                }
                case LayerKind::LowRankLinear: {
                    const std::size_t p = slot_[k];
                    Eigen::Map<MatrixF>(params_[p + 1].gradient.data(), l.up.rows(), l.up.cols()).noalias() =
                        g.transpose() * hidden_[k];
                    if (l.bias.size()) params_[p + 2].gradient = g.colwise().sum().transpose().array();
                    const MatrixF gh = g * l.up;
                    Eigen::Map<MatrixF>(params_[p].gradient.data(), l.down.rows(), l.down.cols()).noalias() =
                        gh.transpose() * acts_[k];
                    if (needInputGradient) g = gh * l.down;
                    break;
                }
                case LayerKind::Conv2d: {
                    // dW = Σ_n gY_n · patches_nᵀ, db = Σ_n row sums of gY_n, dX_n = fold(Wᵀ · gY_n).
                    const std::size_t p = slot_[k];
                    const std::int64_t crs = l.inFeatures(), kk = l.outFeatures();
                    const std::int64_t pq = l.outputShape.height * l.outputShape.width;
                    float* dw = params_[p].gradient.data();
                    MatrixF gx;
                    std::vector<float> gpatch;
                    if (needInputGradient) {
                        gx = MatrixF::Zero(count, l.inputShape.size());
                        gpatch.resize(static_cast<std::size_t>(crs * pq));
                    }
                    if (l.bias.size()) params_[p + 1].gradient.setZero();
                    for (Eigen::Index n = 0; n < count; ++n) {
                        const float* gy = g.row(n).data();
                        const float* patch = patches_[k].data() + n * crs * pq;
                        matmul::sgemm(Trans::No, Trans::Yes, kk, crs, pq, gy, pq, patch, pq, dw, crs, n > 0, 1);
                        if (l.bias.size())
                            for (std::int64_t c = 0; c < kk; ++c)
                                params_[p + 1].gradient[c] += Eigen::Map<const Eigen::ArrayXf>(gy + c * pq, pq).sum();
                        if (needInputGradient) {
                            matmul::sgemm(Trans::Yes, Trans::No, crs, pq, kk, l.weight.data(), crs, gy, pq, gpatch.data(), pq,
                                          false, 1);
                            conv::foldPatchesAdd(detail::convProblemOf(l, 1), gpatch.data(), 0, gx.row(n).data());
                        }
                    }
                    if (needInputGradient) g = std::move(gx);
                    break;
                }
                case LayerKind::LogSoftmax:
                    throw ModelError("training: LogSoftmax must be the last layer");
            }
        }
    }

    std::vector<Layer>& layers_;
    std::vector<Parameter> params_;
    std::vector<std::size_t> slot_;  ///< layer k's first parameter
    std::vector<MatrixF> acts_, hidden_;
    std::vector<std::vector<float>> patches_;
    std::vector<std::vector<std::int32_t>> argmax_;
};

void checkTrainable(const Model& model, const MatrixF& inputs, std::span<const std::uint8_t> labels) {
    const Eigen::Index n = inputs.rows();
    if (static_cast<std::size_t>(n) != labels.size())
        throw ModelError("training: " + std::to_string(n) + " samples but " + std::to_string(labels.size()) + " labels");
    if (inputs.cols() != model.inputFeatures())
        throw ModelError("training: the model takes " + std::to_string(model.inputFeatures()) + " features, the data has " +
                         std::to_string(inputs.cols()));
    const auto& layers = model.layers();
    if (layers.empty() || layers.back().kind != LayerKind::LogSoftmax)
        throw ModelError("training needs a model that ends in LogSoftmax");
    for (const auto l : labels)
        if (l >= model.outputFeatures())
            throw ModelError("training: label " + std::to_string(l) + " but the model has " +
                             std::to_string(model.outputFeatures()) + " outputs");
}

}  // namespace

LossGradient lossGradient(const Model& model, const MatrixF& inputs, std::span<const std::uint8_t> labels) {
    checkTrainable(model, inputs, labels);
    if (inputs.rows() == 0) throw ModelError("lossGradient needs at least one sample");
    // Eigen's multi-threaded GEMM does not give bit-identical sums for every thread count: its
    // products run on the calling thread, so that a seed gives the same weights on every machine.
    const SerialEigenProducts serialEigen;
    Model copy = model;
    Backprop backprop(copy);
    LossGradient result;
    result.loss = backprop.run(inputs, {labels.begin(), labels.end()});
    const std::vector<io::NamedTensor> names = copy.toNamedTensors();
    for (std::size_t i = 0; i < backprop.parameters().size(); ++i)
        result.gradients.emplace_back(names[i].name, backprop.parameters()[i].gradient);
    return result;
}

TrainResult train(Model& model, const MatrixF& inputs, std::span<const std::uint8_t> labels,
                  const TrainOptions& options) {
    const auto start = std::chrono::steady_clock::now();
    // Eigen's multi-threaded GEMM does not give bit-identical sums for every thread count: its
    // products run on the calling thread, so that a seed gives the same weights on every machine.
    const SerialEigenProducts serialEigen;
    checkTrainable(model, inputs, labels);
    const Eigen::Index n = inputs.rows();
    if (n == 0 || options.batchSize < 1 || options.epochs < 0)
        throw ModelError("training needs samples, a positive batch size and a non-negative epoch count");

    Backprop backprop(model);
    std::mt19937_64 rng(options.seed);
    std::vector<Eigen::Index> order(static_cast<std::size_t>(n));
    const std::int64_t batches = (n + options.batchSize - 1) / options.batchSize;
    TrainResult result;
    MatrixF x;
    std::vector<std::uint8_t> y;

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
            x.resize(count, inputs.cols());
            y.resize(static_cast<std::size_t>(count));
            for (Eigen::Index i = 0; i < count; ++i) {
                const Eigen::Index sample = order[static_cast<std::size_t>(first + i)];
                x.row(i) = inputs.row(sample);
                y[static_cast<std::size_t>(i)] = labels[static_cast<std::size_t>(sample)];
            }
            lossSum += backprop.run(x, y);
            for (auto& p : backprop.parameters())
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
