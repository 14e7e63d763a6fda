// The architecture implied by a set of named tensors (a PyTorch state_dict, .safetensors, .npz).
// A state_dict holds no hyper-parameters, so convolutional networks follow one convention, the
// classic small CNN's: every 4-D weight K×C×R×S is a Conv2d with an odd square kernel, stride 1 and
// "same" padding R/2, followed by ReLU and MaxPool2d(2); then Flatten and the Linear layers, on
// 28×28 inputs (the digits). The first Linear layer must then take K_last·(28/2ⁿ)² features (floor
// at each pool): 16·7·7 = 784 for the digit CNN. A file that does not fit is refused rather than
// read as some other network its tensors might also describe (a state_dict holds no padding, stride
// or pooling).
#include <cmath>
#include <set>

#include "io/printable.hpp"
#include "nn/model.hpp"

namespace ks::nn {

namespace {

constexpr std::int64_t kDigitSide = 28;

/// Messages quote tensor names from the file: escaped whole, so that a name cannot reach a terminal raw.
[[noreturn]] void refuse(const std::string& message) { throw ModelError(io::printable(message)); }

MatrixF matrixOf(const TensorF& t, std::int64_t rows, std::int64_t cols) {
    return Eigen::Map<const MatrixF>(t.data(), rows, cols);
}

VectorF vectorOf(const TensorF& t) { return Eigen::Map<const VectorF>(t.data(), t.dim(0)); }

/// "fc10" after "fc9": digits compare as numbers.
bool naturalLess(const std::string& a, const std::string& b) {
    std::size_t i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
        if (std::isdigit(static_cast<unsigned char>(a[i])) && std::isdigit(static_cast<unsigned char>(b[j]))) {
            std::size_t i2 = i, j2 = j;
            while (i2 < a.size() && std::isdigit(static_cast<unsigned char>(a[i2]))) ++i2;
            while (j2 < b.size() && std::isdigit(static_cast<unsigned char>(b[j2]))) ++j2;
            const std::string na = a.substr(i, i2 - i), nb = b.substr(j, j2 - j);
            if (na.size() != nb.size()) return na.size() < nb.size();
            if (na != nb) return na < nb;
            i = i2;
            j = j2;
        } else {
            if (a[i] != b[j]) return a[i] < b[j];
            ++i;
            ++j;
        }
    }
    return a.size() - i < b.size() - j;
}

bool chains(const std::vector<Layer>& layers) {
    for (std::size_t i = 1; i < layers.size(); ++i)
        if (layers[i].inFeatures() != layers[i - 1].outFeatures()) return false;
    return true;
}

bool channelsChain(const std::vector<Layer>& convs) {
    for (std::size_t i = 1; i < convs.size(); ++i)
        if (convs[i].inChannels != convs[i - 1].outFeatures()) return false;
    return true;
}

bool endsWith(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

Model Model::fromWeights(const io::WeightSet& weights) {
    const std::string found = "; the file holds: " + weights.describe();
    std::set<std::string> used;
    std::vector<Layer> convs, linear;
    auto take = [&](const std::string& name) -> const TensorF* {
        const io::NamedTensor* t = weights.find(name);
        if (!t) return nullptr;
        used.insert(name);
        return &t->tensor;
    };
    auto takeBias = [&](Layer& l, const std::string& biasName, const std::string& weightName, const Shape& weightShape) {
        if (const TensorF* b = take(biasName)) {
            if (b->rank() != 1 || b->dim(0) != weightShape[0])
                refuse("'" + biasName + "' " + shapeToString(b->shape()) + " does not fit '" + weightName +
                                 "' " + shapeToString(weightShape) + found);
            l.bias = vectorOf(*b);
        }
    };
    for (const auto& t : weights.tensors) {
        if (used.count(t.name) || !endsWith(t.name, ".weight")) continue;
        const std::string prefix = t.name.substr(0, t.name.size() - 7);
        const Shape& shape = t.tensor.shape();
        if (t.tensor.rank() == 4) {
            const std::int64_t k = shape[0], c = shape[1], r = shape[2], s = shape[3];
            if (r != s || r % 2 == 0)
                refuse("'" + t.name + "' " + shapeToString(shape) +
                                 ": only odd square convolution kernels are supported (stride 1, padding k/2)" + found);
            if (k == 0 || c == 0) refuse("'" + t.name + "' is empty" + found);
            Layer l;
            l.kind = LayerKind::Conv2d;
            l.name = prefix;
            l.inChannels = c;
            l.kernelHeight = r;
            l.kernelWidth = s;
            l.padding = r / 2;
            l.weight = matrixOf(*take(t.name), k, c * r * s);
            takeBias(l, prefix + ".bias", t.name, shape);
            convs.push_back(std::move(l));
            continue;
        }
        if (t.tensor.rank() != 2) continue;  // reported below as unused
        Layer l;
        if (endsWith(prefix, ".0") && weights.find(prefix.substr(0, prefix.size() - 2) + ".1.weight")) {
            // nn.Sequential(Linear(in, r, bias=False), Linear(r, out)): a factored layer.
            const std::string base = prefix.substr(0, prefix.size() - 2);
            const TensorF* down = take(t.name);
            const TensorF* up = take(base + ".1.weight");
            if (up->rank() != 2 || up->dim(1) != down->dim(0) || weights.find(base + ".0.bias")) {
                used.erase(t.name);
                used.erase(base + ".1.weight");
                refuse("'" + base + ".0.weight' and '" + base +
                                 ".1.weight' do not form a low-rank layer (r×in without bias, then out×r)" + found);
            }
            l.kind = LayerKind::LowRankLinear;
            l.name = base;
            l.down = matrixOf(*down, down->dim(0), down->dim(1));
            l.up = matrixOf(*up, up->dim(0), up->dim(1));
            takeBias(l, base + ".1.bias", base + ".1.weight", up->shape());
        } else {
            l.kind = LayerKind::Linear;
            l.name = prefix;
            l.weight = matrixOf(*take(t.name), shape[0], shape[1]);
            takeBias(l, prefix + ".bias", t.name, shape);
        }
        if (l.inFeatures() == 0 || l.outFeatures() == 0) refuse("'" + t.name + "' is empty" + found);
        linear.push_back(std::move(l));
    }
    std::string unused;
    for (const auto& t : weights.tensors)
        if (!used.count(t.name)) unused += (unused.empty() ? "" : ", ") + t.name + " " + shapeToString(t.tensor.shape());
    if (!unused.empty())
        refuse("tensors that are not part of a supported network (Conv2d layers, then a stack of Linear "
                         "layers): " + unused + found);
    if (linear.empty())
        refuse(std::string(convs.empty() ? "no Linear layer (<name>.weight of rank 2)"
                                                   : "convolutions without Linear layers after them") + found);
    if (!chains(linear)) {
        std::stable_sort(linear.begin(), linear.end(), [](const Layer& a, const Layer& b) { return naturalLess(a.name, b.name); });
        if (!chains(linear))
            refuse("the Linear layers do not chain (each layer's input size must be the previous one's "
                             "output size)" + found);
    }
    std::vector<Layer> layers;
    FeatureShape input;
    if (!convs.empty()) {
        if (!channelsChain(convs)) {
            std::stable_sort(convs.begin(), convs.end(), [](const Layer& a, const Layer& b) { return naturalLess(a.name, b.name); });
            if (!channelsChain(convs))
                refuse("the Conv2d layers do not chain (each one's input channels must be the previous one's "
                                 "output channels)" + found);
        }
        // Only the digits' 28×28 input is assumed: any other size would be a guess the file cannot confirm.
        std::int64_t side = kDigitSide;
        for (std::size_t i = 0; i < convs.size(); ++i) side /= 2;
        const std::int64_t channels = convs.back().outFeatures(), features = linear.front().inFeatures();
        if (side < 1 || features != channels * side * side)
            refuse("'" + linear.front().name + "' takes " + std::to_string(features) + " inputs, but " +
                             std::to_string(convs.size()) + " blocks of conv (stride 1, padding k/2) → ReLU → max-pool 2 on " +
                             std::to_string(kDigitSide) + "×" + std::to_string(kDigitSide) + " digits give " +
                             std::to_string(channels) + "×" + std::to_string(side) + "×" + std::to_string(side) + " = " +
                             std::to_string(channels * side * side) +
                             " (the only convolutional architecture read from a weight file)" + found);
        input = {convs.front().inChannels, kDigitSide, kDigitSide};
        for (std::size_t i = 0; i < convs.size(); ++i) {
            const std::string n = std::to_string(i + 1);
            layers.push_back(std::move(convs[i]));
            layers.push_back(Layer::relu("conv_relu" + n));
            layers.push_back(Layer::maxPool("pool" + n, 2));
        }
        layers.push_back(Layer::flatten("flatten"));
    }
    for (std::size_t i = 0; i < linear.size(); ++i) {
        if (i) layers.push_back(Layer::relu("relu" + std::to_string(i)));
        layers.push_back(std::move(linear[i]));
    }
    layers.push_back(Layer::logSoftmax());
    try {
        return Model(std::move(layers), input);
    } catch (const ModelError& e) {
        refuse(e.what() + found);
    }
}

}  // namespace ks::nn
