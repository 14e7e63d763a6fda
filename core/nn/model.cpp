#include "nn/model.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include "numeric/arithmetic.hpp"

namespace ks::nn {

std::string toString(LayerKind kind) {
    switch (kind) {
        case LayerKind::Linear: return "Linear";
        case LayerKind::LowRankLinear: return "LowRankLinear";
        case LayerKind::ReLU: return "ReLU";
        case LayerKind::LogSoftmax: return "LogSoftmax";
    }
    return "?";
}

std::int64_t Layer::inFeatures() const {
    if (kind == LayerKind::Linear) return weight.cols();
    if (kind == LayerKind::LowRankLinear) return down.cols();
    return -1;
}
std::int64_t Layer::outFeatures() const {
    if (kind == LayerKind::Linear) return weight.rows();
    if (kind == LayerKind::LowRankLinear) return up.rows();
    return -1;
}
std::int64_t Layer::rank() const {
    if (kind == LayerKind::LowRankLinear) return down.rows();
    return std::min(inFeatures(), outFeatures());
}
std::int64_t Layer::parameterCount() const {
    if (kind == LayerKind::Linear) return weight.size() + bias.size();
    if (kind == LayerKind::LowRankLinear) return down.size() + up.size() + bias.size();
    return 0;
}
std::int64_t Layer::denseParameterCount() const {
    return parametrised() ? inFeatures() * outFeatures() + bias.size() : 0;
}
double Layer::flopsPerSample() const {
    if (kind == LayerKind::Linear) return 2.0 * double(weight.size());
    if (kind == LayerKind::LowRankLinear) return 2.0 * double(down.size() + up.size());
    return 0;
}

Model::Model(std::vector<Layer> layers) : layers_(std::move(layers)) { validate(); }

void Model::validate() const {
    std::int64_t features = -1;
    bool any = false;
    for (const auto& l : layers_) {
        if (!l.parametrised()) continue;
        any = true;
        if (l.kind == LayerKind::LowRankLinear && l.down.rows() != l.up.cols())
            throw ModelError(l.name + ": factors of rank " + std::to_string(l.down.rows()) + " and " +
                             std::to_string(l.up.cols()) + " do not multiply");
        if (l.bias.size() != 0 && l.bias.size() != l.outFeatures())
            throw ModelError(l.name + ": bias of " + std::to_string(l.bias.size()) + " for " +
                             std::to_string(l.outFeatures()) + " outputs");
        if (l.inFeatures() <= 0 || l.outFeatures() <= 0) throw ModelError(l.name + ": empty layer");
        if (features >= 0 && l.inFeatures() != features)
            throw ModelError(l.name + " takes " + std::to_string(l.inFeatures()) + " inputs but the layer before gives " +
                             std::to_string(features));
        features = l.outFeatures();
    }
    if (!any) throw ModelError("a model needs at least one Linear layer");
}

namespace {

MatrixF matrixOf(const TensorF& t) {
    return Eigen::Map<const MatrixF>(t.data(), t.dim(0), t.dim(1));
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

bool endsWith(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

Model Model::fromWeights(const io::WeightSet& weights) {
    const std::string found = "; the file holds: " + weights.describe();
    std::set<std::string> used;
    std::vector<Layer> linear;
    auto take = [&](const std::string& name) -> const TensorF* {
        const io::NamedTensor* t = weights.find(name);
        if (!t) return nullptr;
        used.insert(name);
        return &t->tensor;
    };
    for (const auto& t : weights.tensors) {
        if (used.count(t.name) || !endsWith(t.name, ".weight")) continue;
        const std::string prefix = t.name.substr(0, t.name.size() - 7);
        if (t.tensor.rank() == 4)
            throw ModelError("'" + t.name + "' " + shapeToString(t.tensor.shape()) +
                             " is a convolution kernel: only networks of fully connected layers are supported" + found);
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
                throw ModelError("'" + base + ".0.weight' and '" + base +
                                 ".1.weight' do not form a low-rank layer (r×in without bias, then out×r)" + found);
            }
            l.kind = LayerKind::LowRankLinear;
            l.name = base;
            l.down = matrixOf(*down);
            l.up = matrixOf(*up);
            if (const TensorF* b = take(base + ".1.bias")) {
                if (b->rank() != 1 || b->dim(0) != up->dim(0))
                    throw ModelError("'" + base + ".1.bias' " + shapeToString(b->shape()) + " does not fit '" + base +
                                     ".1.weight' " + shapeToString(up->shape()) + found);
                l.bias = vectorOf(*b);
            }
        } else {
            l.kind = LayerKind::Linear;
            l.name = prefix;
            l.weight = matrixOf(*take(t.name));
            if (const TensorF* b = take(prefix + ".bias")) {
                if (b->rank() != 1 || b->dim(0) != t.tensor.dim(0))
                    throw ModelError("'" + prefix + ".bias' " + shapeToString(b->shape()) + " does not fit '" + t.name +
                                     "' " + shapeToString(t.tensor.shape()) + found);
                l.bias = vectorOf(*b);
            }
        }
        if (l.inFeatures() == 0 || l.outFeatures() == 0) throw ModelError("'" + t.name + "' is empty" + found);
        linear.push_back(std::move(l));
    }
    std::string unused;
    for (const auto& t : weights.tensors)
        if (!used.count(t.name)) unused += (unused.empty() ? "" : ", ") + t.name + " " + shapeToString(t.tensor.shape());
    if (!unused.empty())
        throw ModelError("tensors that are not part of a stack of Linear layers: " + unused + found);
    if (linear.empty()) throw ModelError("no Linear layer (<name>.weight of rank 2)" + found);
    if (!chains(linear)) {
        std::stable_sort(linear.begin(), linear.end(), [](const Layer& a, const Layer& b) { return naturalLess(a.name, b.name); });
        if (!chains(linear))
            throw ModelError("the Linear layers do not chain (each layer's input size must be the previous one's "
                             "output size)" + found);
    }
    std::vector<Layer> layers;
    for (std::size_t i = 0; i < linear.size(); ++i) {
        if (i) layers.push_back({LayerKind::ReLU, "relu" + std::to_string(i), {}, {}, {}, {}});
        layers.push_back(std::move(linear[i]));
    }
    layers.push_back({LayerKind::LogSoftmax, "log_softmax", {}, {}, {}, {}});
    return Model(std::move(layers));
}

Model Model::mlp(const std::vector<std::int64_t>& sizes, std::uint64_t seed) {
    if (sizes.size() < 2) throw ModelError("an MLP needs at least an input and an output size");
    std::mt19937_64 rng(seed);
    std::vector<Layer> layers;
    for (std::size_t i = 0; i + 1 < sizes.size(); ++i) {
        if (sizes[i] <= 0 || sizes[i + 1] <= 0) throw ModelError("MLP sizes must be positive");
        if (i) layers.push_back({LayerKind::ReLU, "relu" + std::to_string(i), {}, {}, {}, {}});
        Layer l;
        l.kind = LayerKind::Linear;
        l.name = "fc" + std::to_string(i + 1);
        // PyTorch's nn.Linear default: kaiming_uniform(a=√5) for W and U(±1/√in) for b, both bound 1/√in.
        const float bound = 1.0f / std::sqrt(static_cast<float>(sizes[i]));
        // Written out (not std::uniform_real_distribution) so every standard library gives the same weights.
        auto uniform = [&](std::mt19937_64& g) {
            return bound * (2.0f * static_cast<float>(g() >> 40) * 0x1.0p-24f - 1.0f);
        };
        l.weight.resize(sizes[i + 1], sizes[i]);
        for (Eigen::Index k = 0; k < l.weight.size(); ++k) l.weight.data()[k] = uniform(rng);
        l.bias.resize(sizes[i + 1]);
        for (Eigen::Index k = 0; k < l.bias.size(); ++k) l.bias[k] = uniform(rng);
        layers.push_back(std::move(l));
    }
    layers.push_back({LayerKind::LogSoftmax, "log_softmax", {}, {}, {}, {}});
    return Model(std::move(layers));
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

std::int64_t Model::inputFeatures() const {
    for (const auto& l : layers_)
        if (l.parametrised()) return l.inFeatures();
    return 0;
}
std::int64_t Model::outputFeatures() const {
    for (auto it = layers_.rbegin(); it != layers_.rend(); ++it)
        if (it->parametrised()) return it->outFeatures();
    return 0;
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
        if (!l.parametrised()) continue;
        if (!s.empty()) s += ", ";
        s += l.name + " " + std::to_string(l.inFeatures()) + "→" + std::to_string(l.outFeatures());
        if (l.kind == LayerKind::LowRankLinear) s += " (rank " + std::to_string(l.rank()) + ")";
    }
    s += "; " + std::to_string(parameterCount()) + " parameters";
    if (parameterCount() != denseParameterCount())
        s += " of " + std::to_string(denseParameterCount()) + " (compression " + std::to_string(compressionRatio()) + ")";
    return s;
}

namespace {

void logSoftmaxRows(MatrixF& z) {
    for (Eigen::Index r = 0; r < z.rows(); ++r) {
        auto row = z.row(r);
        const float m = row.maxCoeff();
        const float lse = m + std::log((row.array() - m).exp().sum());
        row.array() -= lse;
    }
}

/// The float32 forward pass over a block of rows.
void forwardBlock(const std::vector<Layer>& layers, const MatrixF& input, Eigen::Index begin, Eigen::Index count,
                  MatrixF& output) {
    MatrixF a = input.middleRows(begin, count);
    MatrixF b, h;
    for (const auto& l : layers) {
        switch (l.kind) {
            case LayerKind::Linear:
                b.noalias() = a * l.weight.transpose();
                if (l.bias.size()) b.rowwise() += l.bias.transpose();
                std::swap(a, b);
                break;
            case LayerKind::LowRankLinear:
                h.noalias() = a * l.down.transpose();
                b.noalias() = h * l.up.transpose();
                if (l.bias.size()) b.rowwise() += l.bias.transpose();
                std::swap(a, b);
                break;
            case LayerKind::ReLU: a = a.cwiseMax(0.0f); break;
            case LayerKind::LogSoftmax: logSoftmaxRows(a); break;
        }
    }
    output.middleRows(begin, count) = a;
}

int threadCount(const InferenceOptions& o) { return o.threads > 0 ? o.threads : omp_get_max_threads(); }

}  // namespace

MatrixF Model::forward(const MatrixF& input, const InferenceOptions& options) const {
    if (input.cols() != inputFeatures())
        throw ModelError("the model takes " + std::to_string(inputFeatures()) + " features per sample, the input has " +
                         std::to_string(input.cols()));
    MatrixF output(input.rows(), outputFeatures());
    const Eigen::Index n = input.rows();
    const int threads = static_cast<int>(std::max<Eigen::Index>(1, std::min<Eigen::Index>(threadCount(options), n)));
    // One contiguous block of samples per thread through the whole network: no synchronisation
    // between layers. Inside the parallel region Eigen's own GEMM stays single-threaded.
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int t = 0; t < threads; ++t) {
        const Eigen::Index begin = n * t / threads, end = n * (t + 1) / threads;
        if (end > begin) forwardBlock(layers_, input, begin, end - begin, output);
    }
    return output;
}

namespace {

/// A parametrised layer's operands, rounded to the storage format once.
struct StoredLayer {
    std::vector<double> weight, down, up, bias;
};

std::vector<double> toDoubles(const float* data, Eigen::Index n) { return {data, data + n}; }

template <class Arithmetic>
void affine(Arithmetic& ar, const std::vector<double>& w, const std::vector<double>& b, const std::vector<double>& x,
            std::vector<double>& y, std::int64_t in, std::int64_t out) {
    y.assign(static_cast<std::size_t>(out), 0.0);
    for (std::int64_t j = 0; j < out; ++j) {
        double acc = b.empty() ? 0.0 : b[static_cast<std::size_t>(j)];
        const double* row = w.data() + j * in;
        for (std::int64_t i = 0; i < in; ++i) acc = ar.add(acc, ar.mul(x[static_cast<std::size_t>(i)], row[i]));
        y[static_cast<std::size_t>(j)] = acc;
    }
}

}  // namespace

MatrixF Model::forward(const MatrixF& input, const numeric::ComputeSpec& spec, const InferenceOptions& options) const {
    if (spec.native) return forward(input, options);
    if (input.cols() != inputFeatures())
        throw ModelError("the model takes " + std::to_string(inputFeatures()) + " features per sample, the input has " +
                         std::to_string(input.cols()));
    std::vector<StoredLayer> stored(layers_.size());
    {
        numeric::EmulatedArithmetic ar(spec);
        for (std::size_t k = 0; k < layers_.size(); ++k) {
            const Layer& l = layers_[k];
            auto store = [&](const auto& m) {
                std::vector<double> v = toDoubles(m.data(), m.size());
                if (!v.empty()) ar.storeTensor(v);
                return v;
            };
            if (l.kind == LayerKind::Linear) stored[k].weight = store(l.weight);
            if (l.kind == LayerKind::LowRankLinear) {
                stored[k].down = store(l.down);
                stored[k].up = store(l.up);
            }
            if (l.parametrised()) stored[k].bias = store(l.bias);
        }
    }
    MatrixF output(input.rows(), outputFeatures());
    // Fixed chunks with their own random stream: results do not depend on the thread count.
    constexpr Eigen::Index kChunk = 8;
    const Eigen::Index chunks = (input.rows() + kChunk - 1) / kChunk;
    std::exception_ptr error;
#pragma omp parallel for num_threads(threadCount(options)) schedule(dynamic)
    for (Eigen::Index c = 0; c < chunks; ++c) {
        try {
            numeric::ComputeSpec chunkSpec = spec;
            chunkSpec.seed = spec.seed + 0x9E3779B97F4A7C15ull * static_cast<std::uint64_t>(c + 1);
            numeric::EmulatedArithmetic ar(chunkSpec);
            std::vector<double> x, y;
            for (Eigen::Index r = c * kChunk; r < std::min(input.rows(), (c + 1) * kChunk); ++r) {
                x.assign(input.row(r).data(), input.row(r).data() + input.cols());
                for (std::size_t k = 0; k < layers_.size(); ++k) {
                    const Layer& l = layers_[k];
                    if (l.kind == LayerKind::Linear) {
                        ar.storeTensor(x);
                        affine(ar, stored[k].weight, stored[k].bias, x, y, l.inFeatures(), l.outFeatures());
                        std::swap(x, y);
                    } else if (l.kind == LayerKind::LowRankLinear) {
                        ar.storeTensor(x);
                        affine(ar, stored[k].down, {}, x, y, l.inFeatures(), l.rank());
                        ar.storeTensor(y);
                        affine(ar, stored[k].up, stored[k].bias, y, x, l.rank(), l.outFeatures());
                    } else if (l.kind == LayerKind::ReLU) {
                        for (double& v : x) v = std::max(v, 0.0);
                    } else {
                        double m = -std::numeric_limits<double>::infinity();
                        for (double v : x) m = std::max(m, v);
                        double sum = 0;
                        for (double v : x) sum += std::exp(v - m);
                        for (double& v : x) v -= m + std::log(sum);
                    }
                }
                for (Eigen::Index j = 0; j < output.cols(); ++j) output(r, j) = static_cast<float>(x[static_cast<std::size_t>(j)]);
            }
        } catch (...) {
#pragma omp critical
            error = std::current_exception();
        }
    }
    if (error) std::rethrow_exception(error);
    return output;
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
    return matrixOf(tensor);
}

}  // namespace ks::nn
