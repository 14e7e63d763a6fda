#include "nn/graph.hpp"

#include <algorithm>

#include "conv/conv_find.hpp"
#include "matmul/low_rank_factor.hpp"
#include "nn/layer_kernels.hpp"

namespace ks::nn {

std::string toString(NodeKind kind) {
    switch (kind) {
        case NodeKind::Conv: return "Conv";
        case NodeKind::Linear: return "Linear";
        case NodeKind::Add: return "Add";
        case NodeKind::Relu: return "Relu";
        case NodeKind::Clip: return "Clip";
        case NodeKind::Sigmoid: return "Sigmoid";
        case NodeKind::Tanh: return "Tanh";
        case NodeKind::MaxPool: return "MaxPool";
        case NodeKind::AveragePool: return "AveragePool";
        case NodeKind::GlobalAveragePool: return "GlobalAveragePool";
        case NodeKind::Pad: return "Pad";
        case NodeKind::ChannelAffine: return "BatchNormalization";
        case NodeKind::Flatten: return "Flatten";
        case NodeKind::Softmax: return "Softmax";
        case NodeKind::LogSoftmax: return "LogSoftmax";
    }
    return "?";
}

std::string ValueShape::toString() const { return rank == 1 ? std::to_string(shape.channels) : shape.toString() ; }

std::int64_t GraphNode::parameterCount() const {
    if (parametrised()) return layer.parameterCount();
    return std::int64_t(scale.size() + (kind == NodeKind::ChannelAffine ? shift.size() : 0));
}

std::int64_t Graph::parameterCount() const {
    std::int64_t n = 0;
    for (const GraphNode& node : nodes_) n += node.parameterCount();
    return n;
}

double Graph::flopsPerSample() const {
    double f = 0;
    for (const GraphNode& node : nodes_)
        if (node.parametrised()) f += node.layer.flopsPerSample();
    return f;
}

std::string Graph::describe() const {
    std::string s = "input " + inputShape().toString();
    for (const GraphNode& node : nodes_) {
        const Layer& l = node.layer;
        switch (node.kind) {
            case NodeKind::Conv:
                s += ", " + node.name + " " + std::to_string(l.inChannels) + "→" + std::to_string(l.outFeatures()) + " " +
                     std::to_string(l.kernelHeight) + "×" + std::to_string(l.kernelWidth);
                if (l.padding) s += " pad " + std::to_string(l.padding);
                if (l.stride != 1) s += " stride " + std::to_string(l.stride);
                break;
            case NodeKind::Linear:
                s += ", " + node.name + " " + std::to_string(l.inFeatures()) + "→" + std::to_string(l.outFeatures());
                if (l.kind == LayerKind::LowRankLinear) s += " (rank " + std::to_string(l.rank()) + ")";
                break;
            case NodeKind::MaxPool: s += ", maxpool " + std::to_string(node.window.kernelH); break;
            case NodeKind::AveragePool: s += ", avgpool " + std::to_string(node.window.kernelH); break;
            case NodeKind::GlobalAveragePool: s += ", global avgpool"; break;
            case NodeKind::Add:
                if (node.inputs.size() == 2) s += ", add";
                break;
            default: break;
        }
    }
    return s + "; " + std::to_string(parameterCount()) + " parameters";
}

namespace {

/// The Model layer a node is, when a Model has one for it.
std::optional<Layer> modelLayer(const GraphNode& node, const ValueShape& in) {
    switch (node.kind) {
        case NodeKind::Conv:
        case NodeKind::Linear: return node.layer;
        case NodeKind::Relu: return Layer::relu(node.name);
        case NodeKind::Flatten: return Layer::flatten(node.name);
        case NodeKind::LogSoftmax: return Layer::logSoftmax();
        case NodeKind::MaxPool: {
            const Window& w = node.window;
            // Model's max-pool: a k×k window moved by k, no padding, the partial windows at the ends dropped.
            const bool plain = w.kernelH == w.kernelW && w.strideH == w.kernelH && w.strideW == w.kernelW &&
                               w.padTop == 0 && w.padLeft == 0 && w.padBottom == 0 && w.padRight == 0 &&
                               (!w.ceilMode || (in.shape.height % w.kernelH == 0 && in.shape.width % w.kernelW == 0));
            if (!plain) return std::nullopt;
            return Layer::maxPool(node.name, w.kernelH);
        }
        default: return std::nullopt;
    }
}

}  // namespace

std::optional<Model> Graph::segmentModel(std::size_t first, std::size_t last, std::string* why) const {
    std::vector<Layer> layers;
    bool parametrised = false;
    for (std::size_t k = first; k < last; ++k) {
        const GraphNode& node = nodes_[k];
        std::optional<Layer> layer = modelLayer(node, values_[std::size_t(node.inputs.front())]);
        if (!layer) {
            if (why) *why = node.name + " (" + toString(node.kind) + ") has no layer in a sequential model";
            return std::nullopt;
        }
        parametrised = parametrised || node.parametrised();
        layers.push_back(std::move(*layer));
    }
    if (!parametrised) {
        if (why) *why = "no Conv or Linear node";
        return std::nullopt;
    }
    const ValueShape& in = values_[std::size_t(nodes_[first].inputs.front())];
    return Model(std::move(layers), in.shape);
}

std::vector<Graph::Segment> Graph::segments(bool nodeByNode) const {
    // How many nodes read each value (the graph's output counts as a reader).
    std::vector<int> readers(values_.size(), 0);
    for (const GraphNode& node : nodes_)
        for (int v : node.inputs) ++readers[std::size_t(v)];
    ++readers[std::size_t(output_)];
    const auto chainable = [&](std::size_t k) {
        return modelLayer(nodes_[k], values_[std::size_t(nodes_[k].inputs.front())]).has_value() && nodes_[k].inputs.size() == 1;
    };
    std::vector<Segment> out;
    std::size_t k = 0;
    while (k < nodes_.size()) {
        std::size_t end = k + 1;
        if (!nodeByNode && chainable(k)) {
            // Extend while the next node reads only this one's output, and nothing else does.
            while (end < nodes_.size() && chainable(end) && nodes_[end].inputs.front() == nodes_[end - 1].output &&
                   readers[std::size_t(nodes_[end - 1].output)] == 1)
                ++end;
        }
        // A run without a product is run node by node (a Model needs one).
        bool product = false;
        for (std::size_t j = k; j < end; ++j) product = product || nodes_[j].parametrised();
        if (!product) end = k + 1;
        Segment s{k, end, std::nullopt};
        if (product) s.model = segmentModel(k, end, nullptr);
        out.push_back(std::move(s));
        k = end;
    }
    return out;
}

void Graph::finish() { fused_ = segments(false); }

std::optional<Model> Graph::toModel(std::string* why) const {
    if (nodes_.empty()) {
        if (why) *why = "the graph has no nodes";
        return std::nullopt;
    }
    for (std::size_t k = 0; k < nodes_.size(); ++k) {
        const GraphNode& node = nodes_[k];
        const int expected = k == 0 ? 0 : nodes_[k - 1].output;
        if (node.inputs.size() != 1 || node.inputs.front() != expected) {
            if (why) *why = node.name + " (" + toString(node.kind) + ") does not take the output of the node before it";
            return std::nullopt;
        }
    }
    return segmentModel(0, nodes_.size(), why);
}

Graph Graph::fromModel(const Model& model) {
    Graph g;
    const FeatureShape& in = model.inputShape();
    g.values_.push_back({in, in.flat() && !model.hasConvolutions() ? 1 : 3});
    for (const Layer& l : model.layers()) {
        GraphNode node;
        node.name = l.name;
        node.inputs = {int(g.values_.size()) - 1};
        switch (l.kind) {
            case LayerKind::Linear:
            case LayerKind::LowRankLinear: node.kind = NodeKind::Linear; node.layer = l; break;
            case LayerKind::Conv2d: node.kind = NodeKind::Conv; node.layer = l; break;
            case LayerKind::ReLU: node.kind = NodeKind::Relu; break;
            case LayerKind::MaxPool2d:
                node.kind = NodeKind::MaxPool;
                node.window.kernelH = node.window.kernelW = node.window.strideH = node.window.strideW = l.poolSize;
                break;
            case LayerKind::Flatten: node.kind = NodeKind::Flatten; break;
            case LayerKind::LogSoftmax: node.kind = NodeKind::LogSoftmax; break;
        }
        const bool flat = l.kind == LayerKind::Linear || l.kind == LayerKind::LowRankLinear ||
                          l.kind == LayerKind::Flatten || l.kind == LayerKind::LogSoftmax ||
                          (l.kind == LayerKind::ReLU && g.values_.back().rank == 1);
        g.values_.push_back({l.outputShape, flat ? 1 : 3});
        node.output = int(g.values_.size()) - 1;
        g.nodes_.push_back(std::move(node));
    }
    g.output_ = int(g.values_.size()) - 1;
    g.source_ = "KernelScope model";
    g.finish();
    return g;
}

Graph Graph::withRanks(const std::map<std::string, std::int64_t>& ranks) const {
    for (const auto& [name, rank] : ranks) {
        if (rank < 1) throw ModelError(name + ": rank " + std::to_string(rank) + " (at least 1)");
        if (name == "all") continue;
        const bool found = std::any_of(nodes_.begin(), nodes_.end(), [&](const GraphNode& n) { return n.parametrised() && n.name == name; });
        if (!found) {
            std::string products;
            for (const GraphNode& n : nodes_)
                if (n.parametrised()) products += (products.empty() ? "" : ", ") + n.name;
            throw ModelError("no Conv or Linear node is named '" + name + "' (they are: " + products + ")");
        }
    }
    Graph g = *this;
    g.nodes_.clear();
    for (const GraphNode& node : nodes_) {
        const auto it = ranks.count(node.name) ? ranks.find(node.name) : ranks.find("all");
        const Layer& l = node.layer;
        const bool dense = node.parametrised() && l.kind != LayerKind::LowRankLinear;
        if (!dense || it == ranks.end() || it->second >= std::min(l.inFeatures(), l.outFeatures())) {
            g.nodes_.push_back(node);
            continue;
        }
        const std::int64_t rank = it->second;
        const auto factor = matmul::LowRankFactor::truncatedSvd({l.weight.data(), std::size_t(l.weight.size())},
                                                                l.weight.rows(), l.weight.cols(), rank);
        const Eigen::Map<const MatrixF> left(factor.left().data(), l.outFeatures(), rank);   // U_r·Σ_r
        const Eigen::Map<const MatrixF> right(factor.right().data(), rank, l.inFeatures());  // V_rᵀ
        if (node.kind == NodeKind::Linear) {
            GraphNode low = node;
            low.layer.kind = LayerKind::LowRankLinear;
            low.layer.weight = MatrixF();
            low.layer.down = right;
            low.layer.up = left;
            g.nodes_.push_back(std::move(low));
            continue;
        }
        // Conv: r filters of the original size, then a 1×1 conv mixing them into the K outputs (with the bias).
        GraphNode first = node, second = node;
        first.name = first.layer.name = node.name + ".0";
        first.layer.weight = right;
        first.layer.bias = VectorF();
        first.layer.outputShape.channels = rank;
        const ValueShape out = values_[std::size_t(node.output)];
        g.values_.push_back({{rank, out.shape.height, out.shape.width}, 3});
        first.output = int(g.values_.size()) - 1;
        second.name = second.layer.name = node.name + ".1";
        second.inputs = {first.output};
        second.layer.weight = left;
        second.layer.inChannels = rank;
        second.layer.kernelHeight = second.layer.kernelWidth = 1;
        second.layer.stride = 1;
        second.layer.padding = 0;
        second.layer.inputShape = {rank, out.shape.height, out.shape.width};
        g.nodes_.push_back(std::move(first));
        g.nodes_.push_back(std::move(second));
    }
    g.finish();
    return g;
}

std::vector<std::pair<std::string, std::string>> fastestConvAlgorithms(const Graph& graph, std::int64_t batch) {
    std::vector<std::pair<std::string, std::string>> chosen;
    conv::ConvFindOptions options;
    options.timing = {1, 3, 20, 0.05};
    for (const GraphNode& node : graph.nodes()) {
        if (node.kind != NodeKind::Conv) continue;
        const auto results = conv::findConvAlgorithms(detail::convProblemOf(node.layer, batch), options);
        if (results.empty() || results.front().unsupported)
            throw ModelError(node.name + ": no convolution algorithm runs its shape");
        chosen.emplace_back(node.name, results.front().algorithm);
    }
    return chosen;
}

}  // namespace ks::nn
