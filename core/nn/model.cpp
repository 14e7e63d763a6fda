#include "nn/model.hpp"

#include <algorithm>
#include <cmath>
#include <random>

namespace ks::nn {

std::string toString(LayerKind kind) {
    switch (kind) {
        case LayerKind::Linear: return "Linear";
        case LayerKind::LowRankLinear: return "LowRankLinear";
        case LayerKind::Conv2d: return "Conv2d";
        case LayerKind::ReLU: return "ReLU";
        case LayerKind::MaxPool2d: return "MaxPool2d";
        case LayerKind::Flatten: return "Flatten";
        case LayerKind::LogSoftmax: return "LogSoftmax";
    }
    return "?";
}

std::string FeatureShape::toString() const {
    if (flat()) return std::to_string(channels);
    return std::to_string(channels) + "×" + std::to_string(height) + "×" + std::to_string(width);
}

std::int64_t Layer::inFeatures() const {
    if (kind == LayerKind::Linear || kind == LayerKind::Conv2d) return weight.cols();
    if (kind == LayerKind::LowRankLinear) return down.cols();
    return -1;
}
std::int64_t Layer::outFeatures() const {
    if (kind == LayerKind::Linear || kind == LayerKind::Conv2d) return weight.rows();
    if (kind == LayerKind::LowRankLinear) return up.rows();
    return -1;
}
std::int64_t Layer::rank() const {
    if (kind == LayerKind::LowRankLinear) return down.rows();
    return std::min(inFeatures(), outFeatures());
}
std::int64_t Layer::parameterCount() const {
    if (kind == LayerKind::Linear || kind == LayerKind::Conv2d) return weight.size() + bias.size();
    if (kind == LayerKind::LowRankLinear) return down.size() + up.size() + bias.size();
    return 0;
}
std::int64_t Layer::denseParameterCount() const {
    return parametrised() ? inFeatures() * outFeatures() + bias.size() : 0;
}
double Layer::flopsPerSample() const {
    if (kind == LayerKind::Linear) return 2.0 * double(weight.size());
    if (kind == LayerKind::LowRankLinear) return 2.0 * double(down.size() + up.size());
    if (kind == LayerKind::Conv2d) return 2.0 * double(weight.size()) * double(outputShape.height * outputShape.width);
    return 0;
}

Layer Layer::relu(std::string name) {
    Layer l;
    l.kind = LayerKind::ReLU;
    l.name = std::move(name);
    return l;
}
Layer Layer::maxPool(std::string name, std::int64_t size) {
    Layer l;
    l.kind = LayerKind::MaxPool2d;
    l.name = std::move(name);
    l.poolSize = size;
    return l;
}
Layer Layer::flatten(std::string name) {
    Layer l;
    l.kind = LayerKind::Flatten;
    l.name = std::move(name);
    return l;
}
Layer Layer::logSoftmax() {
    Layer l;
    l.kind = LayerKind::LogSoftmax;
    l.name = "log_softmax";
    return l;
}

Model::Model(std::vector<Layer> layers, FeatureShape input) : layers_(std::move(layers)), input_(input) {
    resolveShapes();
}

void Model::resolveShapes() {
    const auto firstParametrised = std::find_if(layers_.begin(), layers_.end(), [](const Layer& l) { return l.parametrised(); });
    if (firstParametrised == layers_.end()) throw ModelError("a model needs at least one Linear or Conv2d layer");
    if (input_.channels == 0) {
        if (firstParametrised->kind == LayerKind::Conv2d)
            throw ModelError(firstParametrised->name + ": a network that starts with a convolution needs its input shape");
        input_ = {firstParametrised->inFeatures(), 1, 1};
    }
    if (input_.channels <= 0 || input_.height <= 0 || input_.width <= 0)
        throw ModelError("input shape " + input_.toString() + " is empty");
    FeatureShape shape = input_;
    for (auto& l : layers_) {
        const std::string where = l.name + " (" + toString(l.kind) + ")";
        l.inputShape = shape;
        if (l.parametrised()) {
            if (l.kind == LayerKind::LowRankLinear && l.down.rows() != l.up.cols())
                throw ModelError(l.name + ": factors of rank " + std::to_string(l.down.rows()) + " and " +
                                 std::to_string(l.up.cols()) + " do not multiply");
            if (l.bias.size() != 0 && l.bias.size() != l.outFeatures())
                throw ModelError(l.name + ": bias of " + std::to_string(l.bias.size()) + " for " +
                                 std::to_string(l.outFeatures()) + " outputs");
            if (l.inFeatures() <= 0 || l.outFeatures() <= 0) throw ModelError(l.name + ": empty layer");
        }
        switch (l.kind) {
            case LayerKind::Linear:
            case LayerKind::LowRankLinear:
                if (!shape.flat())
                    throw ModelError(where + " takes a feature vector but gets a " + shape.toString() +
                                     " feature map (a Flatten layer must come first)");
                if (l.inFeatures() != shape.channels)
                    throw ModelError(l.name + " takes " + std::to_string(l.inFeatures()) +
                                     " inputs but the layer before gives " + std::to_string(shape.channels));
                shape = {l.outFeatures(), 1, 1};
                break;
            case LayerKind::Conv2d: {
                if (l.kernelHeight < 1 || l.kernelWidth < 1 || l.stride < 1 || l.padding < 0 ||
                    l.inChannels * l.kernelHeight * l.kernelWidth != l.inFeatures())
                    throw ModelError(where + ": a " + std::to_string(l.outFeatures()) + "×" + std::to_string(l.inFeatures()) +
                                     " weight matrix is not " + std::to_string(l.inChannels) + " channels of " +
                                     std::to_string(l.kernelHeight) + "×" + std::to_string(l.kernelWidth) +
                                     " kernels (stride " + std::to_string(l.stride) + ", padding " +
                                     std::to_string(l.padding) + ")");
                if (shape.channels != l.inChannels)
                    throw ModelError(where + " takes " + std::to_string(l.inChannels) + " channels but gets " +
                                     shape.toString());
                const std::int64_t p = (shape.height + 2 * l.padding - l.kernelHeight) / l.stride + 1;
                const std::int64_t q = (shape.width + 2 * l.padding - l.kernelWidth) / l.stride + 1;
                if (shape.height + 2 * l.padding < l.kernelHeight || shape.width + 2 * l.padding < l.kernelWidth)
                    throw ModelError(where + ": its " + std::to_string(l.kernelHeight) + "×" +
                                     std::to_string(l.kernelWidth) + " kernel is larger than the padded " +
                                     shape.toString() + " input");
                shape = {l.outFeatures(), p, q};
                break;
            }
            case LayerKind::MaxPool2d:
                if (l.poolSize < 1 || shape.height < l.poolSize || shape.width < l.poolSize)
                    throw ModelError(where + ": a " + std::to_string(l.poolSize) + "×" + std::to_string(l.poolSize) +
                                     " window does not fit a " + shape.toString() + " input");
                shape = {shape.channels, shape.height / l.poolSize, shape.width / l.poolSize};
                break;
            case LayerKind::Flatten: shape = {shape.size(), 1, 1}; break;
            case LayerKind::ReLU: break;
            case LayerKind::LogSoftmax:
                if (!shape.flat()) throw ModelError("log-softmax needs a feature vector, gets " + shape.toString());
                break;
        }
        l.outputShape = shape;
    }
}

namespace {

/// PyTorch's default initialisation of Linear and Conv2d: kaiming_uniform(a=√5) for W and U(±1/√fan_in)
/// for b, both bound 1/√fan_in. Written out (not std::uniform_real_distribution) so every standard
/// library gives the same weights.
void initialise(Layer& l, std::mt19937_64& rng) {
    const float bound = 1.0f / std::sqrt(static_cast<float>(l.inFeatures()));
    auto uniform = [&] { return bound * (2.0f * static_cast<float>(rng() >> 40) * 0x1.0p-24f - 1.0f); };
    for (Eigen::Index k = 0; k < l.weight.size(); ++k) l.weight.data()[k] = uniform();
    for (Eigen::Index k = 0; k < l.bias.size(); ++k) l.bias[k] = uniform();
}

Layer linear(std::string name, std::int64_t in, std::int64_t out) {
    Layer l;
    l.kind = LayerKind::Linear;
    l.name = std::move(name);
    l.weight.resize(out, in);
    l.bias.resize(out);
    return l;
}

Layer conv(std::string name, std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t padding) {
    Layer l;
    l.kind = LayerKind::Conv2d;
    l.name = std::move(name);
    l.inChannels = in;
    l.kernelHeight = l.kernelWidth = kernel;
    l.padding = padding;
    l.weight.resize(out, in * kernel * kernel);
    l.bias.resize(out);
    return l;
}

}  // namespace

Model Model::mlp(const std::vector<std::int64_t>& sizes, std::uint64_t seed) {
    if (sizes.size() < 2) throw ModelError("an MLP needs at least an input and an output size");
    std::mt19937_64 rng(seed);
    std::vector<Layer> layers;
    for (std::size_t i = 0; i + 1 < sizes.size(); ++i) {
        if (sizes[i] <= 0 || sizes[i + 1] <= 0) throw ModelError("MLP sizes must be positive");
        if (i) layers.push_back(Layer::relu("relu" + std::to_string(i)));
        layers.push_back(linear("fc" + std::to_string(i + 1), sizes[i], sizes[i + 1]));
        initialise(layers.back(), rng);
    }
    layers.push_back(Layer::logSoftmax());
    return Model(std::move(layers));
}

Model Model::digitCnn(std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<Layer> layers;
    // The layer names fromWeights gives the same network.
    layers.push_back(conv("conv1", 1, 8, 3, 1));
    layers.push_back(Layer::relu("conv_relu1"));
    layers.push_back(Layer::maxPool("pool1", 2));
    layers.push_back(conv("conv2", 8, 16, 3, 1));
    layers.push_back(Layer::relu("conv_relu2"));
    layers.push_back(Layer::maxPool("pool2", 2));
    layers.push_back(Layer::flatten("flatten"));
    layers.push_back(linear("fc1", 16 * 7 * 7, 64));
    layers.push_back(Layer::relu("relu1"));
    layers.push_back(linear("fc2", 64, 10));
    layers.push_back(Layer::logSoftmax());
    for (auto& l : layers)
        if (l.parametrised()) initialise(l, rng);
    return Model(std::move(layers), {1, 28, 28});
}

std::vector<io::NamedTensor> Model::toNamedTensors() const {
    std::vector<io::NamedTensor> out;
    auto add = [&](const std::string& name, const float* data, Shape shape) {
        TensorF t(shape);
        std::copy(data, data + t.size(), t.data());
        out.push_back({name, std::move(t), "float32"});
    };
    for (const auto& l : layers_) {
        if (l.kind == LayerKind::Linear) {
            add(l.name + ".weight", l.weight.data(), {l.weight.rows(), l.weight.cols()});
            if (l.bias.size()) add(l.name + ".bias", l.bias.data(), {l.bias.size()});
        } else if (l.kind == LayerKind::Conv2d) {
            add(l.name + ".weight", l.weight.data(), {l.weight.rows(), l.inChannels, l.kernelHeight, l.kernelWidth});
            if (l.bias.size()) add(l.name + ".bias", l.bias.data(), {l.bias.size()});
        } else if (l.kind == LayerKind::LowRankLinear) {
            add(l.name + ".0.weight", l.down.data(), {l.down.rows(), l.down.cols()});
            add(l.name + ".1.weight", l.up.data(), {l.up.rows(), l.up.cols()});
            if (l.bias.size()) add(l.name + ".1.bias", l.bias.data(), {l.bias.size()});
        }
    }
    return out;
}

Layer* Model::find(const std::string& name) {
    for (auto& l : layers_)
        if (l.name == name) return &l;
    return nullptr;
}
const Layer* Model::find(const std::string& name) const { return const_cast<Model*>(this)->find(name); }

std::int64_t Model::outputFeatures() const { return layers_.empty() ? 0 : layers_.back().outputShape.size(); }
bool Model::hasConvolutions() const {
    return std::any_of(layers_.begin(), layers_.end(), [](const Layer& l) { return l.kind == LayerKind::Conv2d; });
}
std::int64_t Model::parameterCount() const {
    std::int64_t n = 0;
    for (const auto& l : layers_) n += l.parameterCount();
    return n;
}
std::int64_t Model::denseParameterCount() const {
    std::int64_t n = 0;
    for (const auto& l : layers_) n += l.denseParameterCount();
    return n;
}
double Model::flopsPerSample() const {
    double f = 0;
    for (const auto& l : layers_) f += l.flopsPerSample();
    return f;
}

std::string Model::describe() const {
    std::string s;
    for (const auto& l : layers_) {
        if (l.kind == LayerKind::MaxPool2d) s += ", pool " + std::to_string(l.poolSize);
        if (!l.parametrised()) continue;
        if (!s.empty()) s += ", ";
        if (l.kind == LayerKind::Conv2d) {
            s += l.name + " " + std::to_string(l.inChannels) + "→" + std::to_string(l.outFeatures()) + " " +
                 std::to_string(l.kernelHeight) + "×" + std::to_string(l.kernelWidth);
            if (l.padding) s += " pad " + std::to_string(l.padding);
            if (l.stride != 1) s += " stride " + std::to_string(l.stride);
            continue;
        }
        s += l.name + " " + std::to_string(l.inFeatures()) + "→" + std::to_string(l.outFeatures());
        if (l.kind == LayerKind::LowRankLinear) s += " (rank " + std::to_string(l.rank()) + ")";
    }
    if (hasConvolutions()) s = "input " + input_.toString() + ", " + s;
    s += "; " + std::to_string(parameterCount()) + " parameters";
    if (parameterCount() != denseParameterCount())
        s += " of " + std::to_string(denseParameterCount()) + " (compression " + std::to_string(compressionRatio()) + ")";
    return s;
}

double accuracy(const MatrixF& logProbabilities, std::span<const std::uint8_t> labels) {
    if (static_cast<std::size_t>(logProbabilities.rows()) != labels.size())
        throw ModelError(std::to_string(logProbabilities.rows()) + " outputs for " + std::to_string(labels.size()) + " labels");
    if (labels.empty()) return 0;
    std::size_t correct = 0;
    for (Eigen::Index r = 0; r < logProbabilities.rows(); ++r) {
        Eigen::Index best = 0;
        logProbabilities.row(r).maxCoeff(&best);
        correct += best == labels[static_cast<std::size_t>(r)];
    }
    return double(correct) / double(labels.size());
}

double meanNll(const MatrixF& logProbabilities, std::span<const std::uint8_t> labels) {
    double sum = 0;
    for (Eigen::Index r = 0; r < logProbabilities.rows(); ++r) sum -= logProbabilities(r, labels[static_cast<std::size_t>(r)]);
    return labels.empty() ? 0 : sum / double(labels.size());
}

MatrixF toMatrix(const TensorF& tensor) {
    if (tensor.rank() != 2) throw ModelError("expected a matrix of samples, got shape " + shapeToString(tensor.shape()));
    return Eigen::Map<const MatrixF>(tensor.data(), tensor.dim(0), tensor.dim(1));
}

}  // namespace ks::nn
