// The forward pass in an emulated arithmetic (core/numeric): every stored operand, product and sum
// rounded as a ComputeSpec says. Samples run in fixed chunks, each with its own seed (for stochastic
// rounding: 64 samples a chunk whichever engine runs), and every rounding draws at its site (layer L's
// tensors are numeric::randomTensor(L, role), elements numbered within the chunk), so results depend
// neither on the thread count nor on the engine.

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "base/parallel.hpp"
#include "conv/conv_registry.hpp"
#include "matmul/emulated_gemm.hpp"
#include "nn/layer_kernels.hpp"
#include "nn/model.hpp"
#include "numeric/arithmetic.hpp"
#include "numeric/fast_arithmetic.hpp"
#include "numeric/modelled_dot.hpp"

namespace ks::nn {

namespace {

/// A parametrised layer's operands, rounded to the storage format once. (Conv2d layers keep theirs
/// unrounded: the conv algorithm stores its operands itself.) With per-tensor activation scales,
/// the fixed-scale formats of the layer's input and hidden product.
struct StoredLayer {
    /// The full spec when it has a scaled storage format (activations are quantised as they arrive);
    /// the kernels run its elementwise() part.
    numeric::ComputeSpec scaled;
    std::vector<double> weight, down, up, bias;
    std::optional<numeric::Format> inputFormat, hiddenFormat;
    /// For the fast engine: the weight matrices transposed (in × out, so that its lanes run along the
    /// outputs), and the sums' starting values (the bias, or zeros).
    std::vector<double> weightT, downT, upT, start, hiddenStart;
    /// The same in float32, for the float32-lane kernels (every value of a lane format is a float).
    std::vector<float> weightTf, downTf, upTf, startf, hiddenStartf;
    /// The stored weights' range, for specs whose float32 lanes depend on it (numeric::laneRefusalDependsOnData).
    numeric::StoredExponents weightBounds, downBounds, upBounds;
};

std::vector<float> toFloats(const std::vector<double>& v) { return {v.begin(), v.end()}; }

std::vector<double> transposed(const std::vector<double>& w, std::int64_t out, std::int64_t in) {
    std::vector<double> t(w.size());
    for (std::int64_t o = 0; o < out; ++o)
        for (std::int64_t i = 0; i < in; ++i) t[std::size_t(i * out + o)] = w[std::size_t(o * in + i)];
    return t;
}

/// The activation's storage: a fixed-scale format for the whole batch, or the spec's own storage
/// per sample (one scale per sample for per-tensor integer formats).
void storeActivation(numeric::EmulatedArithmetic& ar, const std::optional<numeric::Format>& fixed, std::span<double> values,
                     std::uint32_t tensor, std::uint64_t firstElement) {
    if (!fixed) {
        ar.storeTensor(values, tensor, firstElement);
        return;
    }
    numeric::ComputeSpec spec = ar.spec();
    spec.storage = *fixed;
    numeric::EmulatedArithmetic fixedAr(spec);
    fixedAr.storeTensor(values, tensor, firstElement);
}

/// A scaled storage format's activations: each sample a tensor of its own (`sample` its lines), so that a scale
/// per tensor (NVFP4's, @tensor's) is found per sample at run time as dynamic quantisation does, and the
/// result does not depend on how many samples run together.
template <class T>
void quantizeActivations(const numeric::ComputeSpec& spec, std::span<T> rows, std::int64_t count,
                         numeric::ReductionLines sample) {
    if (!spec.scaledStorage) return;
    for (std::int64_t r = 0; r < count; ++r)
        numeric::quantizeOperand(spec, rows.subspan(std::size_t(r * sample.count()), std::size_t(sample.count())), sample);
}

using numeric::RandomTensor;
std::uint32_t tensorOf(std::size_t layer, RandomTensor role) { return numeric::randomTensor(std::uint32_t(layer), role); }

std::vector<double> toDoubles(const float* data, Eigen::Index n) { return {data, data + n}; }

/// y = b + W·x, output j's i-th product at step 2i of element firstElement + j of `tensor`, its sum 2i + 1.
template <class Arithmetic>
void affine(Arithmetic& ar, const std::vector<double>& w, const std::vector<double>& b, const double* x, double* y,
            std::int64_t in, std::int64_t out, std::uint32_t tensor, std::uint64_t firstElement) {
    for (std::int64_t j = 0; j < out; ++j) {
        double acc = b.empty() ? 0.0 : b[static_cast<std::size_t>(j)];
        const double* row = w.data() + j * in;
        for (std::int64_t i = 0; i < in; ++i) {
            ar.at(tensor, firstElement + std::uint64_t(j), std::uint32_t(2 * i));
            acc = ar.add(acc, ar.mul(x[i], row[i]));
        }
        y[j] = acc;
    }
}

/// One product of a fully connected layer, y = start + x·Wᵀ, as the fast engine runs it (the stored weights in
/// every form it needs).
struct LayerProduct {
    const std::vector<double>& weight;  ///< out × in, for the reference
    const std::vector<double>& weightT;  ///< in × out, for the double lanes
    const std::vector<float>& weightTf;  ///< the same in float32, for the float32 lanes
    numeric::StoredExponents weightBounds;
    const std::vector<double>& bias;  ///< empty: the sums start from zero
    const std::vector<double>& start;  ///< the bias, or zeros
    const std::vector<float>& startf;
};

/// The product on float32 lanes where they give the reference's bits for these operands (a spec whose lanes depend on
/// its data: the stored input's range decides, numeric::laneRefusalDependsOnData), otherwise on double lanes
/// (`doubleLanes`) or the reference: the same bits whichever runs. `x` rows × in is stored; `y` rows × out.
void layerProduct(const LayerProduct& p, numeric::EmulatedArithmetic& ar, bool doubleLanes, std::int64_t rows,
                  std::int64_t in, std::int64_t out, const float* x, float* y, std::uint32_t tensor) {
    const numeric::ComputeSpec& spec = ar.spec();
    if (!numeric::laneRefusal(spec, numeric::EmulatedOrder::RoundedProducts)) {
        matmul::laneEmulatedAffine(spec, rows, in, out, x, p.weightTf.data(), p.startf.data(), y, tensor);
        return;
    }
    const numeric::StoredExponents xBounds = numeric::storedExponents(spec.storage, x, rows * in);
    if (!numeric::laneRefusal(spec, numeric::EmulatedOrder::RoundedProducts, xBounds, p.weightBounds)) {
        matmul::laneEmulatedAffine(spec, xBounds, p.weightBounds, rows, in, out, x, p.weightTf.data(), p.startf.data(), y,
                                   tensor);
        return;
    }
    const std::vector<double> xd(x, x + rows * in);
    std::vector<double> yd(static_cast<std::size_t>(rows * out));
    if (doubleLanes) {
        matmul::fastEmulatedAffine(spec, rows, in, out, xd.data(), p.weightT.data(), p.start.data(), yd.data());
    } else {
        for (std::int64_t r = 0; r < rows; ++r)
            affine(ar, p.weight, p.bias, xd.data() + r * in, yd.data() + r * out, in, out, tensor, std::uint64_t(r * out));
    }
    std::copy(yd.begin(), yd.end(), y);  // lane-format values: floats
}

/// A fully connected layer on float32 lanes: the rows' inputs stored and all their sums at once.
void laneLinear(const Layer& l, std::size_t layer, const StoredLayer& s, numeric::EmulatedArithmetic& ar, bool doubleLanes,
                std::int64_t rows, std::vector<double>& x, std::vector<double>& y) {
    const numeric::ComputeSpec& spec = ar.spec();
    const std::int64_t in = l.inputShape.size(), out = l.outputShape.size();
    std::vector<float> xf(x.begin(), x.begin() + rows * in), yf(static_cast<std::size_t>(rows * out));
    matmul::laneStore(spec, tensorOf(layer, RandomTensor::Input), xf.data(), xf.data(), rows * in);
    if (l.kind == LayerKind::Linear) {
        layerProduct({s.weight, s.weightT, s.weightTf, s.weightBounds, s.bias, s.start, s.startf}, ar, doubleLanes, rows, in,
                     out, xf.data(), yf.data(), tensorOf(layer, RandomTensor::Output));
    } else {
        const std::int64_t rank = l.rank();
        std::vector<float> hf(static_cast<std::size_t>(rows * rank));
        const std::vector<double> noBias;
        layerProduct({s.down, s.downT, s.downTf, s.downBounds, noBias, s.hiddenStart, s.hiddenStartf}, ar, doubleLanes, rows,
                     in, rank, xf.data(), hf.data(), tensorOf(layer, RandomTensor::Hidden));
        quantizeActivations(s.scaled, std::span<float>(hf), rows, {1, rank, 1});
        matmul::laneStore(spec, tensorOf(layer, RandomTensor::HiddenStore), hf.data(), hf.data(), rows * rank);
        layerProduct({s.up, s.upT, s.upTf, s.upBounds, s.bias, s.start, s.startf}, ar, doubleLanes, rows, rank, out, hf.data(),
                     yf.data(), tensorOf(layer, RandomTensor::Output));
    }
    y.assign(yf.begin(), yf.end());
    std::swap(x, y);
}

/// A fully connected layer on the fast engine: every row's input stored, then all rows' sums at once.
void fastLinear(const Layer& l, std::size_t layer, const StoredLayer& s, numeric::EmulatedArithmetic& ar, std::int64_t rows,
                std::vector<double>& x, std::vector<double>& y, std::vector<double>& h) {
    const std::int64_t in = l.inputShape.size(), out = l.outputShape.size();
    for (std::int64_t r = 0; r < rows; ++r)
        storeActivation(ar, s.inputFormat, std::span<double>(x.data() + r * in, static_cast<std::size_t>(in)),
                        tensorOf(layer, RandomTensor::Input), std::uint64_t(r * in));
    y.resize(static_cast<std::size_t>(rows * out));
    if (l.kind == LayerKind::Linear) {
        matmul::fastEmulatedAffine(ar.spec(), rows, in, out, x.data(), s.weightT.data(), s.start.data(), y.data());
    } else {
        const std::int64_t rank = l.rank();
        h.resize(static_cast<std::size_t>(rows * rank));
        matmul::fastEmulatedAffine(ar.spec(), rows, in, rank, x.data(), s.downT.data(), s.hiddenStart.data(), h.data());
        quantizeActivations(s.scaled, std::span<double>(h), rows, {1, rank, 1});
        for (std::int64_t r = 0; r < rows; ++r)
            storeActivation(ar, s.hiddenFormat, std::span<double>(h.data() + r * rank, static_cast<std::size_t>(rank)),
                            tensorOf(layer, RandomTensor::HiddenStore), std::uint64_t(r * rank));
        matmul::fastEmulatedAffine(ar.spec(), rows, rank, out, h.data(), s.upT.data(), s.start.data(), y.data());
    }
    std::swap(x, y);
}

/// A fully connected layer under an accumulator model: each output the modelled dot product of its weights and the
/// stored input, the bias its first term (as the sequential loop above starts from it).
void modelledLinear(const Layer& l, std::size_t layer, const StoredLayer& s, const numeric::ModelledDot& dot,
                    numeric::EmulatedArithmetic& ar, std::int64_t rows, std::vector<double>& x, std::vector<double>& y,
                    std::vector<double>& h, bool fast) {
    const std::int64_t in = l.inputShape.size(), out = l.outputShape.size();
    y.resize(static_cast<std::size_t>(rows * out));
    auto biasOf = [&](std::int64_t j) { return s.bias.empty() ? 0.0 : s.bias[std::size_t(j)]; };
    // outputs[j] = dot(bias_j, weights' row j, v) for j < count: eight rows side by side on the fast engine, from
    // panels of eight rows interleaved (packed once per call: [panel][i][lane]), so that each step loads one vector.
    constexpr int L = numeric::ModelledDot::kLanes;
    const auto pack = [&](const std::vector<double>& weights, std::int64_t length, std::int64_t count) {
        std::vector<double> panels;
        if (!fast) return panels;
        panels.assign(static_cast<std::size_t>((count + L - 1) / L * L * length), 0.0);
        for (std::int64_t j = 0; j < count; ++j)
            for (std::int64_t i = 0; i < length; ++i)
                panels[std::size_t(((j / L) * length + i) * L + j % L)] = weights[std::size_t(j * length + i)];
        return panels;
    };
    const auto outputs = [&](const std::vector<double>& weights, const std::vector<double>& panels, const double* v,
                             std::int64_t length, std::int64_t count, bool withBias, double* result) {
        for (std::int64_t j = 0; j < count; j += fast ? L : 1) {
            const int lanes = fast ? int(std::min<std::int64_t>(L, count - j)) : 1;
            double initial[L] = {};
            for (int lane = 0; lane < lanes; ++lane) initial[lane] = withBias ? biasOf(j + lane) : 0.0;
            if (fast) dot.lanes(initial, v, 0, 1, panels.data() + j * length, 1, L, length, result + j, lanes);
            else result[j] = dot(initial[0], weights.data() + j * length, 1, v, 1, length);
        }
    };
    const std::vector<double> weightPanels = l.kind == LayerKind::Linear ? pack(s.weight, in, out) : std::vector<double>{};
    const std::vector<double> downPanels = l.kind == LayerKind::Linear ? std::vector<double>{} : pack(s.down, in, l.rank());
    const std::vector<double> upPanels = l.kind == LayerKind::Linear ? std::vector<double>{} : pack(s.up, l.rank(), out);
    for (std::int64_t r = 0; r < rows; ++r) {
        double* xr = x.data() + r * in;
        double* yr = y.data() + r * out;
        storeActivation(ar, s.inputFormat, std::span<double>(xr, static_cast<std::size_t>(in)),
                        tensorOf(layer, RandomTensor::Input), std::uint64_t(r * in));
        if (l.kind == LayerKind::Linear) {
            outputs(s.weight, weightPanels, xr, in, out, true, yr);
            continue;
        }
        const std::int64_t rank = l.rank();
        h.resize(static_cast<std::size_t>(rank));
        outputs(s.down, downPanels, xr, in, rank, false, h.data());
        quantizeActivations(s.scaled, std::span<double>(h), 1, {1, rank, 1});
        storeActivation(ar, s.hiddenFormat, h, tensorOf(layer, RandomTensor::HiddenStore), std::uint64_t(r * rank));
        outputs(s.up, upPanels, h.data(), rank, out, true, yr);
    }
    std::swap(x, y);
}

/// Rows of `x` (rows × in) through a layer into `y`; `h` is scratch.
void emulatedLayer(const Layer& l, std::size_t layer, const StoredLayer& s, numeric::EmulatedArithmetic& ar, const std::string& convAlgorithm,
                   const numeric::ModelledDot* modelled, bool doubleLanes, bool lanes, std::int64_t rows, std::vector<double>& x,
                   std::vector<double>& y, std::vector<double>& h) {
    const std::int64_t in = l.inputShape.size(), out = l.outputShape.size();
    switch (l.kind) {
        case LayerKind::Linear:
        case LayerKind::LowRankLinear:
            // A scaled storage format: each sample's input in blocks along its features (the reduction axis).
            quantizeActivations(s.scaled, std::span<double>(x.data(), std::size_t(rows * in)), rows, {1, in, 1});
            if (modelled) {
                modelledLinear(l, layer, s, *modelled, ar, rows, x, y, h, ar.engine() == numeric::EmulationEngine::Fast);
                break;
            }
            if (lanes) {
                laneLinear(l, layer, s, ar, doubleLanes, rows, x, y);
                break;
            }
            if (doubleLanes) {
                fastLinear(l, layer, s, ar, rows, x, y, h);
                break;
            }
            y.resize(static_cast<std::size_t>(rows * out));
            for (std::int64_t r = 0; r < rows; ++r) {
                double* xr = x.data() + r * in;
                storeActivation(ar, s.inputFormat, std::span<double>(xr, static_cast<std::size_t>(in)),
                                tensorOf(layer, RandomTensor::Input), std::uint64_t(r * in));
                const auto output = tensorOf(layer, RandomTensor::Output);
                if (l.kind == LayerKind::Linear) {
                    affine(ar, s.weight, s.bias, xr, y.data() + r * out, in, out, output, std::uint64_t(r * out));
                } else {
                    const std::int64_t rank = l.rank();
                    h.resize(static_cast<std::size_t>(rank));
                    affine(ar, s.down, {}, xr, h.data(), in, rank, tensorOf(layer, RandomTensor::Hidden), std::uint64_t(r * rank));
                    quantizeActivations(s.scaled, std::span<double>(h), 1, {1, rank, 1});
                    storeActivation(ar, s.hiddenFormat, h, tensorOf(layer, RandomTensor::HiddenStore), std::uint64_t(r * rank));
                    affine(ar, s.up, s.bias, h.data(), y.data() + r * out, rank, out, output, std::uint64_t(r * out));
                }
            }
            std::swap(x, y);
            break;
        case LayerKind::Conv2d: {
            const conv::ConvProblem p = detail::convProblemOf(l, rows);
            y.resize(static_cast<std::size_t>(rows * out));
            std::vector<double> w = toDoubles(l.weight.data(), l.weight.size());
            const std::vector<double> b = toDoubles(l.bias.data(), l.bias.size());
            // Input and weights in blocks along the channels, as conv's runEmulated (each sample its own tensor).
            quantizeActivations(s.scaled, std::span<double>(x.data(), std::size_t(rows * in)), rows,
                                {1, p.C, p.H * p.W});
            numeric::quantizeOperand(s.scaled, std::span<double>(w), {p.K, p.C, p.R * p.S});
            // The algorithm's tensors (RandomTensor roles) are this layer's.
            ar.setTensorBase(tensorOf(layer, RandomTensor::Sequential));
            try {
                conv::convAlgorithm(convAlgorithm).run(p, x.data(), w.data(), b.empty() ? nullptr : b.data(), y.data(), ar);
            } catch (const std::invalid_argument& e) {
                ar.setTensorBase(0);
                throw ModelError(l.name + ": " + e.what());
            }
            ar.setTensorBase(0);
            std::swap(x, y);
            break;
        }
        case LayerKind::ReLU:
            for (double& v : x) v = std::max(v, 0.0);
            break;
        case LayerKind::MaxPool2d: {
            const FeatureShape& is = l.inputShape;
            const std::int64_t ps = l.poolSize, ph = is.height / ps, pw = is.width / ps;
            y.resize(static_cast<std::size_t>(rows * out));
            for (std::int64_t r = 0; r < rows; ++r)
                for (std::int64_t c = 0; c < is.channels; ++c) {
                    const double* plane = x.data() + r * in + c * is.height * is.width;
                    for (std::int64_t i = 0; i < ph; ++i)
                        for (std::int64_t j = 0; j < pw; ++j) {
                            double m = -std::numeric_limits<double>::infinity();
                            for (std::int64_t di = 0; di < ps; ++di)
                                for (std::int64_t dj = 0; dj < ps; ++dj)
                                    m = std::max(m, plane[(i * ps + di) * is.width + j * ps + dj]);
                            y[static_cast<std::size_t>(r * out + (c * ph + i) * pw + j)] = m;
                        }
                }
            std::swap(x, y);
            break;
        }
        case LayerKind::Flatten: break;
        case LayerKind::LogSoftmax:
            for (std::int64_t r = 0; r < rows; ++r) {
                double* v = x.data() + r * in;
                const double m = *std::max_element(v, v + in);
                double sum = 0;
                for (std::int64_t j = 0; j < in; ++j) sum += std::exp(v[j] - m);
                for (std::int64_t j = 0; j < in; ++j) v[j] -= m + std::log(sum);
            }
            break;
    }
}

}  // namespace

MatrixF Model::forward(const MatrixF& input, const numeric::ComputeSpec& requested, const InferenceOptions& options) const {
    if (requested.native) return forward(input, options);
    // A scaled storage format quantises weights (here) and activations (as each layer receives them) along
    // their reduction axis; everything else runs the element-wise rest of the spec.
    const numeric::ComputeSpec spec = requested.elementwise();
    if (requested.scalePlacement == numeric::ScalePlacement::TransformedTiles)
        for (const Layer& l : layers_)
            if (l.kind == LayerKind::Conv2d)
                throw ModelError(l.name + ": compute spec " + numeric::computeSpecName(requested) +
                                 ": the network places block scales on its layers' operands; scales on Winograd's and "
                                 "the FFT's transformed tiles are studied per layer (precision, conv)");
    if (input.cols() != inputFeatures())
        throw ModelError("the model takes " + std::to_string(inputFeatures()) + " features per sample (" +
                         input_.toString() + "), the input has " + std::to_string(input.cols()));
    // The fast engine covers the spec when its formats are binary floats rounded to nearest-even; the
    // activations' stores stay element-wise (numeric::roundArray), as in the reference.
    // Float32 lanes where they give the same bits (numeric/lane_rounding.hpp, directed modes included),
    // double lanes otherwise.
    // Formats with float32's exponent range (tf32) take float32 lanes where the stored operands' range allows, chunk by
    // chunk and layer by layer (layerProduct), double lanes or the reference elsewhere.
    const bool fastEngine = options.emulation == matmul::Emulation::Fast;
    const auto laneReason = numeric::laneRefusal(spec, numeric::EmulatedOrder::RoundedProducts);
    const bool lanes = fastEngine && (!laneReason || numeric::laneRefusalDependsOnData(spec, numeric::EmulatedOrder::RoundedProducts));
    const bool doubleLanes = fastEngine && !numeric::fastArithmeticRefusal(spec);
    const bool fast = lanes || doubleLanes;
    // An accumulator model: the fully connected layers' sums by numeric::ModelledDot (the conv layers' by their
    // algorithm, which refuses a model it does not compute).
    std::optional<numeric::ModelledDot> modelled;
    if (!spec.accumulation.plain()) {
        if (auto reason = numeric::accumulatorRefusal(spec))
            throw ModelError("compute spec " + numeric::computeSpecName(spec) + ": " + *reason);
        modelled.emplace(spec);
    }
    std::vector<StoredLayer> stored(layers_.size());
    {
        numeric::EmulatedArithmetic ar(spec);
        for (std::size_t k = 0; k < layers_.size(); ++k) {
            const Layer& l = layers_[k];
            // The weights are floats: one rounding to the storage format, on the lanes where they run
            // (a bit-width slider step stores every weight again). A scaled storage format first quantises
            // the weight matrices (out × in) along in, the reduction axis; the bias is not quantised.
            auto store = [&](const auto& m, RandomTensor role) {
                std::vector<float> f(m.data(), m.data() + m.size());
                if (role != RandomTensor::Bias)
                    numeric::quantizeOperand(requested, std::span<float>(f),
                                             {std::int64_t(m.rows()), std::int64_t(m.cols()), 1});
                if (lanes) {
                    matmul::laneStore(spec, tensorOf(k, role), f.data(), f.data(), std::int64_t(f.size()));
                    return std::vector<double>(f.begin(), f.end());
                }
                std::vector<double> v(f.begin(), f.end());
                if (!v.empty()) ar.storeTensor(v, tensorOf(k, role));
                return v;
            };
            if (l.kind == LayerKind::Linear) stored[k].weight = store(l.weight, RandomTensor::Weight);
            if (l.kind == LayerKind::LowRankLinear) {
                stored[k].down = store(l.down, RandomTensor::Down);
                stored[k].up = store(l.up, RandomTensor::Up);
            }
            if (l.kind == LayerKind::Linear || l.kind == LayerKind::LowRankLinear)
                stored[k].bias = store(l.bias, RandomTensor::Bias);
            if (requested.scaledStorage) stored[k].scaled = requested;
        }
    }
    if (fast)
        for (std::size_t k = 0; k < layers_.size(); ++k) {
            const Layer& l = layers_[k];
            StoredLayer& s = stored[k];
            const std::int64_t in = l.inputShape.size(), out = l.outputShape.size();
            if (l.kind != LayerKind::Linear && l.kind != LayerKind::LowRankLinear) continue;
            s.start = s.bias.empty() ? std::vector<double>(std::size_t(out), 0.0) : s.bias;
            if (l.kind == LayerKind::Linear) {
                s.weightT = transposed(s.weight, out, in);
            } else {
                s.downT = transposed(s.down, l.rank(), in);
                s.upT = transposed(s.up, out, l.rank());
                s.hiddenStart.assign(std::size_t(l.rank()), 0.0);
            }
            if (lanes) {
                s.weightTf = toFloats(s.weightT);
                s.downTf = toFloats(s.downT);
                s.upTf = toFloats(s.upT);
                s.startf = toFloats(s.start);
                s.hiddenStartf = toFloats(s.hiddenStart);
                auto bounds = [&](const std::vector<float>& w) {
                    return numeric::storedExponents(spec.storage, w.data(), std::int64_t(w.size()));
                };
                s.weightBounds = bounds(s.weightTf);
                s.downBounds = bounds(s.downTf);
                s.upBounds = bounds(s.upTf);
            }
        }
    const numeric::Format& storage = spec.storage;
    if (storage.kind == numeric::FormatKind::ScaledInt && !(storage.scale > 0) &&
        options.activationScale == ActivationScale::PerTensor) {
        // Calibrated on the batch in float32: scale = max|x| / (2^(bits−1) − 1), as quantizeScaledInt.
        const ActivationRanges ranges = activationRanges(input, options);
        const double steps = std::ldexp(1.0, storage.intBits - 1) - 1;
        auto fixed = [&](double maxAbs) { return storage.withScale(maxAbs > 0 && std::isfinite(maxAbs) ? maxAbs / steps : 1.0); };
        for (std::size_t k = 0; k < layers_.size(); ++k) {
            if (layers_[k].kind != LayerKind::Linear && layers_[k].kind != LayerKind::LowRankLinear) continue;
            stored[k].inputFormat = fixed(ranges.input[k]);
            if (layers_[k].kind == LayerKind::LowRankLinear) stored[k].hiddenFormat = fixed(ranges.hidden[k]);
        }
    }
    MatrixF output(input.rows(), outputFeatures());
    // Eight samples a chunk, each chunk with its own seed; the float32 lanes take larger chunks (each weight
    // panel read once for more rows), and so does stochastic rounding on either engine (its bits depend
    // on the chunk's seed and the elements' numbers within it).
    const Eigen::Index kChunk = lanes || spec.rounding == numeric::Rounding::Stochastic ? 64 : 8;
    const Eigen::Index chunks = (input.rows() + kChunk - 1) / kChunk;
    // Chunks claimed one at a time by whichever thread is free (their lengths differ with the values).
    parallelForEach(chunks, [&](std::int64_t c) {
        numeric::ComputeSpec chunkSpec = spec;
        chunkSpec.seed = spec.seed + 0x9E3779B97F4A7C15ull * static_cast<std::uint64_t>(c + 1);
        // The engine reaches the conv layers through `ar`.
        numeric::EmulatedArithmetic ar(chunkSpec, options.emulation == matmul::Emulation::Fast
                                                      ? numeric::EmulationEngine::Fast
                                                      : numeric::EmulationEngine::Reference);
        const Eigen::Index first = c * kChunk, rows = std::min(input.rows(), first + kChunk) - first;
        std::vector<double> x(input.data() + first * input.cols(), input.data() + (first + rows) * input.cols()), y, h;
        for (std::size_t k = 0; k < layers_.size(); ++k)
            emulatedLayer(layers_[k], k, stored[k], ar, options.convAlgorithm, modelled ? &*modelled : nullptr, doubleLanes, lanes,
                          rows, x, y, h);
        for (Eigen::Index i = 0; i < rows * output.cols(); ++i)
            output.data()[first * output.cols() + i] = static_cast<float>(x[static_cast<std::size_t>(i)]);
    }, options.threads);
    return output;
}

}  // namespace ks::nn
