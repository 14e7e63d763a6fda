// The graph's forward pass: segments that a Model can hold run as that Model (its float32 or emulated
// path); every other node is computed here, in float32, over rows of samples on the parallel layer's
// threads. Each value is freed after its last reader.
#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>

#include "base/parallel.hpp"
#include "nn/graph.hpp"
#include "nn/layer_kernels.hpp"

namespace ks::nn {

namespace {

/// body(r0, r1) over the rows, split over the threads when the work is worth it.
void overRows(std::int64_t rows, std::int64_t perRow, const std::function<void(std::int64_t, std::int64_t)>& body) {
    if (double(rows) * double(perRow) < 65536.0) return body(0, rows);
    parallelFor(rows, double(rows) * double(perRow), body);
}

/// PyTorch's pooling windows (torch.nn.MaxPool2d / AvgPool2d; ONNX's reference agrees): window (p, q) starts
/// at p·s − pad, is clipped to the input for max, and averages over the part inside the input, or over the
/// part inside the padded input when the padding counts.
void pool(const GraphNode& node, const ValueShape& in, const ValueShape& out, const MatrixF& x, MatrixF& y) {
    const Window& w = node.window;
    const std::int64_t C = in.shape.channels, H = in.shape.height, W = in.shape.width;
    const std::int64_t P = out.shape.height, Q = out.shape.width;
    const bool isMax = node.kind == NodeKind::MaxPool;
    overRows(x.rows(), in.size() * w.kernelH * w.kernelW / std::max<std::int64_t>(1, w.strideH * w.strideW), [&](std::int64_t r0, std::int64_t r1) {
        for (std::int64_t r = r0; r < r1; ++r)
            for (std::int64_t c = 0; c < C; ++c) {
                const float* plane = x.data() + r * in.size() + c * H * W;
                float* o = y.data() + r * out.size() + c * P * Q;
                for (std::int64_t p = 0; p < P; ++p) {
                    std::int64_t h0 = p * w.strideH - w.padTop, h1 = std::min(h0 + w.kernelH, H + w.padBottom);
                    const std::int64_t paddedRows = h1 - h0;
                    h0 = std::max<std::int64_t>(h0, 0), h1 = std::min(h1, H);
                    for (std::int64_t q = 0; q < Q; ++q) {
                        std::int64_t w0 = q * w.strideW - w.padLeft, w1 = std::min(w0 + w.kernelW, W + w.padRight);
                        const std::int64_t paddedCols = w1 - w0;
                        w0 = std::max<std::int64_t>(w0, 0), w1 = std::min(w1, W);
                        if (isMax) {
                            float m = -std::numeric_limits<float>::infinity();
                            for (std::int64_t i = h0; i < h1; ++i)
                                for (std::int64_t j = w0; j < w1; ++j) m = std::max(m, plane[i * W + j]);
                            o[p * Q + q] = m;
                        } else {
                            double sum = 0;
                            for (std::int64_t i = h0; i < h1; ++i)
                                for (std::int64_t j = w0; j < w1; ++j) sum += plane[i * W + j];
                            const std::int64_t count = w.countIncludePad ? paddedRows * paddedCols : (h1 - h0) * (w1 - w0);
                            o[p * Q + q] = float(sum / double(std::max<std::int64_t>(count, 1)));
                        }
                    }
                }
            }
    });
}

/// A node that no Model layer computes (or one run on its own), in float32; a log-softmax as nn::Model computes it
/// (in float32 on the float32 path, in double under an emulated spec), so that node-by-node and fused runs agree.
MatrixF computeNode(const GraphNode& node, const std::vector<ValueShape>& shapes, const std::vector<const MatrixF*>& in,
                    bool emulated, MatrixF* consumable, MatrixF& spare) {
    const MatrixF& x = *in.front();
    const ValueShape& is = shapes[std::size_t(node.inputs.front())];
    const ValueShape& os = shapes[std::size_t(node.output)];
    const std::int64_t rows = x.rows(), n = is.size();
    const float* src = x.data();
    // Element-wise nodes write over their input when nothing reads it later: no new 50 MB buffer to fault in for a
    // ReLU over 2,000 feature maps.
    const bool elementwise = node.kind == NodeKind::Add || node.kind == NodeKind::Relu || node.kind == NodeKind::Clip ||
                             node.kind == NodeKind::Sigmoid || node.kind == NodeKind::Tanh ||
                             node.kind == NodeKind::ChannelAffine || node.kind == NodeKind::Flatten ||
                             (node.kind == NodeKind::LogSoftmax && !emulated);
    // The output in `consumable` (the input, when nothing reads it later) or in `spare` (a matrix of its size).
    MatrixF y = elementwise && consumable ? std::move(*consumable) : std::move(spare);
    if (y.rows() != rows || y.cols() != os.size()) y.resize(rows, os.size());
    float* dst = y.data();
    const auto map = [&](auto&& f) {
        overRows(rows, n, [&](std::int64_t r0, std::int64_t r1) {
            for (std::int64_t r = r0; r < r1; ++r)
                for (std::int64_t i = 0; i < n; ++i) dst[r * n + i] = f(src[r * n + i], i);
        });
    };
    switch (node.kind) {
        case NodeKind::Add:
            if (in.size() == 2) {
                const float* b = in[1]->data();
                overRows(rows, n, [&](std::int64_t r0, std::int64_t r1) {
                    for (std::int64_t k = r0 * n; k < r1 * n; ++k) dst[k] = src[k] + b[k];
                });
            } else {
                map([&](float v, std::int64_t i) { return v + node.shift[std::size_t(i)]; });
            }
            break;
        case NodeKind::Relu: map([](float v, std::int64_t) { return std::max(v, 0.0f); }); break;
        case NodeKind::Clip: map([&](float v, std::int64_t) { return std::min(std::max(v, node.low), node.high); }); break;
        case NodeKind::Sigmoid: map([](float v, std::int64_t) { return float(1.0 / (1.0 + std::exp(-double(v)))); }); break;
        case NodeKind::Tanh: map([](float v, std::int64_t) { return float(std::tanh(double(v))); }); break;
        case NodeKind::ChannelAffine: {
            const std::int64_t plane = is.shape.height * is.shape.width;
            map([&](float v, std::int64_t i) {
                const std::size_t c = std::size_t(i / plane);
                return node.scale[c] * v + node.shift[c];
            });
            break;
        }
        case NodeKind::MaxPool:
        case NodeKind::AveragePool: pool(node, is, os, x, y); break;
        case NodeKind::GlobalAveragePool: {
            const std::int64_t plane = is.shape.height * is.shape.width;
            for (std::int64_t r = 0; r < rows; ++r)
                for (std::int64_t c = 0; c < is.shape.channels; ++c) {
                    double sum = 0;
                    for (std::int64_t i = 0; i < plane; ++i) sum += x(r, c * plane + i);
                    y(r, c) = float(sum / double(plane));
                }
            break;
        }
        case NodeKind::Pad: {
            const Window& w = node.window;
            const std::int64_t H = is.shape.height, W = is.shape.width, P = os.shape.height, Q = os.shape.width;
            y.setConstant(node.low);
            for (std::int64_t r = 0; r < rows; ++r)
                for (std::int64_t c = 0; c < is.shape.channels; ++c)
                    for (std::int64_t i = 0; i < H; ++i)
                        std::copy_n(x.data() + r * n + (c * H + i) * W, W,
                                    y.data() + r * os.size() + (c * P + i + w.padTop) * Q + w.padLeft);
            break;
        }
        case NodeKind::Flatten:
            if (dst != src) std::copy_n(src, rows * n, dst);
            break;
        case NodeKind::LogSoftmax:
            if (!emulated) {
                if (dst != src) std::copy_n(src, rows * n, dst);
                detail::logSoftmaxRows(dst, rows, n);
                break;
            }
            [[fallthrough]];
        case NodeKind::Softmax:
            // In double, from the largest value: exp never overflows and the sum is at least 1.
            for (std::int64_t r = 0; r < rows; ++r) {
                const double m = x.row(r).maxCoeff();
                double sum = 0;
                for (std::int64_t i = 0; i < n; ++i) sum += std::exp(double(x(r, i)) - m);
                for (std::int64_t i = 0; i < n; ++i)
                    y(r, i) = node.kind == NodeKind::Softmax ? float(std::exp(double(x(r, i)) - m) / sum)
                                                             : float(double(x(r, i)) - (m + std::log(sum)));
            }
            break;
        case NodeKind::Conv:
        case NodeKind::Linear: throw ModelError(node.name + ": a product outside a Model segment");  // never: finish()
    }
    return y;
}

}  // namespace

MatrixF Graph::forward(const MatrixF& input, const GraphRunOptions& options) const { return run(input, nullptr, options); }

MatrixF Graph::forward(const MatrixF& input, const numeric::ComputeSpec& spec, const GraphRunOptions& options) const {
    return run(input, spec.native ? nullptr : &spec, options);
}

MatrixF Graph::run(const MatrixF& input, const numeric::ComputeSpec* spec, const GraphRunOptions& options) const {
    if (input.cols() != inputFeatures())
        throw ModelError("the network takes " + std::to_string(inputFeatures()) + " values per sample (" +
                         inputShape().toString() + "), the input has " + std::to_string(input.cols()));
    for (const auto& [name, algorithm] : options.convAlgorithmByNode) {
        const bool found = std::any_of(nodes_.begin(), nodes_.end(),
                                       [&](const GraphNode& n) { return n.kind == NodeKind::Conv && n.name == name; });
        if (!found) {
            std::string convs;
            for (const GraphNode& n : nodes_)
                if (n.kind == NodeKind::Conv) convs += (convs.empty() ? "" : ", ") + n.name;
            throw ModelError("no Conv node is named '" + name + "' (the Conv nodes: " + (convs.empty() ? "none" : convs) + ")");
        }
    }
    const bool byNode = options.nodeByNode || !options.convAlgorithmByNode.empty();
    const std::vector<Segment> own = byNode ? segments(true) : std::vector<Segment>{};
    const std::vector<Segment>& plan = byNode ? own : fused_;
    // The last segment that reads each value: it is freed after that.
    std::vector<std::size_t> lastUse(values_.size(), 0);
    for (std::size_t s = 0; s < plan.size(); ++s)
        for (std::size_t k = plan[s].first; k < plan[s].last; ++k)
            for (int v : nodes_[k].inputs) lastUse[std::size_t(v)] = s;
    // This run's buffers: the graph's own when no other run holds them, else its own for this run.
    std::unique_lock<std::mutex> lock(workspace_->busy, std::try_to_lock);
    Workspace temporary;
    Workspace& ws = lock.owns_lock() ? *workspace_ : temporary;
    std::vector<MatrixF> values(values_.size());  // [0] stays empty: the input is read where it is
    const auto valueOf = [&](int v) -> const MatrixF& { return v == 0 ? input : values[std::size_t(v)]; };
    for (std::size_t s = 0; s < plan.size(); ++s) {
        const Segment& seg = plan[s];
        const GraphNode& last = nodes_[seg.last - 1];
        MatrixF out;
        if (seg.model) {
            const GraphNode& first = nodes_[seg.first];
            InferenceOptions inference = options.inference;
            for (const auto& [node, algorithm] : options.convAlgorithmByNode)
                if (seg.last == seg.first + 1 && node == first.name) inference.convAlgorithm = algorithm;
            const MatrixF& x = valueOf(first.inputs.front());
            try {
                if (spec) {
                    // Each segment's stochastic bits from a seed of its own.
                    numeric::ComputeSpec segmentSpec = *spec;
                    segmentSpec.seed = spec->seed ^ (0xD1B54A32D192ED03ull * std::uint64_t(seg.first + 1));
                    out = seg.model->forward(x, segmentSpec, inference);
                } else {
                    out = ws.take(x.rows(), seg.model->outputFeatures());
                    seg.model->forward(x, out, ws.model, inference);
                }
            } catch (const std::invalid_argument& e) {
                throw ModelError(first.name + ": " + e.what());
            }
        } else {
            std::vector<const MatrixF*> in;
            for (int v : last.inputs) in.push_back(&valueOf(v));
            const int v = last.inputs.front();
            const bool consumable = v != 0 && lastUse[std::size_t(v)] == s && v != output_ &&
                                    std::count(last.inputs.begin(), last.inputs.end(), v) == 1;
            MatrixF spare = ws.take(valueOf(v).rows(), values_[std::size_t(last.output)].size());
            out = computeNode(last, values_, in, spec != nullptr, consumable ? &values[std::size_t(v)] : nullptr, spare);
            ws.give(std::move(spare));  // unused when the node wrote over its input
        }
        if (options.observe) options.observe(seg.last - 1, out);
        values[std::size_t(last.output)] = std::move(out);
        for (std::size_t k = seg.first; k < seg.last; ++k)
            for (int v : nodes_[k].inputs)
                if (v != 0 && lastUse[std::size_t(v)] == s && v != output_) ws.give(std::move(values[std::size_t(v)]));
    }
    // Spares of sizes this run has no value of (an earlier batch size's) are let go: what the workspace keeps is
    // bounded by this run's own values.
    std::erase_if(ws.spare, [&](const MatrixF& m) {
        return std::none_of(values_.begin(), values_.end(), [&](const ValueShape& v) { return m.size() == input.rows() * v.size(); });
    });
    return std::move(values[std::size_t(output_)]);
}

std::int64_t Graph::keptFloats() const {
    const std::lock_guard<std::mutex> lock(workspace_->busy);
    std::int64_t n = 0;
    for (const MatrixF& m : workspace_->spare) n += m.size();
    return n;
}

MatrixF Graph::Workspace::take(Eigen::Index rows, Eigen::Index cols) {
    for (MatrixF& m : spare)
        if (m.size() == rows * cols) {
            MatrixF found = std::move(m);
            std::swap(m, spare.back());
            spare.pop_back();
            found.resize(rows, cols);  // the same number of floats: the memory stays
            return found;
        }
    return MatrixF(rows, cols);
}

void Graph::Workspace::give(MatrixF&& m) {
    if (m.size() > 0) spare.push_back(std::move(m));
    m = MatrixF();
}

}  // namespace ks::nn
