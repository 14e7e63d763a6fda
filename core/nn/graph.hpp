#pragma once
// A network as a graph: what an ONNX file describes (nn/graph_from_onnx.cpp), run on KernelScope's own
// kernels. Residual connections, average pooling, padding, batch normalisation and the other operators
// a sequential nn::Model has no layer for are nodes here; runs of nodes that a Model can hold (a chain of
// Conv2d / Linear / ReLU / max-pool / Flatten / log-softmax whose intermediate values nothing else reads)
// are executed as one Model, so they keep its fused, tiled, threaded float32 path and its faithful
// emulated path (nn/model.hpp), and a graph that is nothing but such a chain converts to a Model
// (toModel()), which every study accepts.
//
// Values are batches of per-sample tensors of rank 1 (features) or rank 3 (channels × height × width),
// stored row-major N × features (each sample's CHW map in order), as nn::Model's activations. The batch
// is the first dimension of every ONNX shape, whatever the file declares for it.
//
// Under an emulated compute spec, the products (Conv, Linear) run as Model's emulated forward pass does
// (operands stored to the storage format, products and sums rounded as the spec says); the other nodes
// (ReLU, pooling, residual adds, padding, batch normalisation that could not be folded) compute in float32
// on the values the products gave, and the next product stores their results. Each product node draws
// its stochastic-rounding bits from a seed of its own (the spec's seed mixed with the node's index).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "nn/model.hpp"

namespace ks::io {
struct OnnxGraph;
}

namespace ks::nn {

enum class NodeKind {
    Conv,               ///< nn::Layer Conv2d (square stride, equal pads; other pads are a Pad node before it)
    Linear,             ///< nn::Layer Linear (Gemm, MatMul by a constant, with a following bias Add folded in)
    Add,                ///< two values of one shape, or a value and a broadcast constant
    Relu,
    Clip,               ///< min(max(x, lo), hi)
    Sigmoid,
    Tanh,
    MaxPool,
    AveragePool,
    GlobalAveragePool,
    Pad,                ///< constant padding of height and width
    ChannelAffine,      ///< y = scale[c]·x + shift[c]: a BatchNormalization not folded into a Conv
    Flatten,            ///< rank 3 → rank 1 (also a Reshape to N × features)
    Softmax,
    LogSoftmax,
};
std::string toString(NodeKind kind);

/// One sample's shape: rank 1 (features: channels = F, height = width = 1) or rank 3 (C × H × W).
struct ValueShape {
    FeatureShape shape;
    int rank = 3;
    std::int64_t size() const { return shape.size(); }
    std::string toString() const;  ///< "784" or "8×28×28"
    bool operator==(const ValueShape&) const = default;
};

/// Window, stride and padding of a pooling or padding node (top, left, bottom, right).
struct Window {
    std::int64_t kernelH = 1, kernelW = 1, strideH = 1, strideW = 1;
    std::int64_t padTop = 0, padLeft = 0, padBottom = 0, padRight = 0;
    bool ceilMode = false;
    bool countIncludePad = false;  ///< AveragePool: divide by the whole window, padding included
};

struct GraphNode {
    NodeKind kind = NodeKind::Relu;
    std::string name;                 ///< the file's node name
    std::vector<int> inputs;          ///< value indices (0 is the graph's input)
    int output = 0;                   ///< value index
    Layer layer;                      ///< Conv, Linear: the weights, as nn::Model holds them
    Window window;                    ///< pools and Pad
    float low = 0, high = 0;          ///< Clip's bounds; Pad's value (low)
    std::vector<float> scale, shift;  ///< ChannelAffine per channel; Add's constant operand (shift), broadcast
    std::int64_t axis = 1;            ///< Softmax / LogSoftmax: 1 (the features) only

    bool parametrised() const { return kind == NodeKind::Conv || kind == NodeKind::Linear; }
    std::int64_t parameterCount() const;
};

/// How the forward pass runs.
struct GraphRunOptions {
    InferenceOptions inference;  ///< threads, the Conv nodes' algorithm, emulation engine
    /// Conv algorithm per Conv node by name (node name → algorithm), over inference.convAlgorithm.
    std::vector<std::pair<std::string, std::string>> convAlgorithmByNode;
    /// Run node by node (no runs of nodes fused into one Model): what the layer table measures.
    bool nodeByNode = false;
    /// Called after each node with its index and output (rows × its size), when set.
    std::function<void(std::size_t node, const MatrixF& output)> observe;
};

class Graph {
public:
    Graph() = default;

    /// From an ONNX graph (see graph_from_onnx.cpp for the operators read and how each maps). ModelError naming the
    /// node and what is wrong (an unsupported operator is named with the list of those supported).
    static Graph fromOnnx(const io::OnnxGraph& onnx);
    /// From an ONNX file; `fileName` prefixes every message.
    static Graph readOnnx(const std::filesystem::path& path);
    /// A sequential Model as a graph (one node per layer; a low-rank layer becomes two Linear nodes).
    static Graph fromModel(const Model& model);

    const std::vector<GraphNode>& nodes() const { return nodes_; }
    const ValueShape& inputShape() const { return values_.front(); }
    const ValueShape& outputShape() const { return values_[std::size_t(output_)]; }
    const ValueShape& valueShape(int value) const { return values_[std::size_t(value)]; }
    std::int64_t inputFeatures() const { return inputShape().size(); }
    std::int64_t outputFeatures() const { return outputShape().size(); }
    std::int64_t parameterCount() const;
    double flopsPerSample() const;
    /// "conv1 1→6 5×5, avgpool 2, …; 44426 parameters"
    std::string describe() const;
    const std::string& source() const { return source_; }  ///< "pytorch 1.13.1, opset 13"

    /// Low rank per product node, by truncated SVD of its weight matrix (matmul::LowRankFactor): a Linear node of rank
    /// r becomes a low-rank layer (x·Dᵀ·Uᵀ, Σ folded into U); a Conv node's K × C·R·S matrix becomes two Conv nodes,
    /// "<name>.0" (r filters of C×R×S, its stride and padding) and "<name>.1" (K filters of r×1×1, the bias): what the
    /// factored layer computes, on the conv kernels. `ranks`: node name → rank, "all" for every product node; a rank
    /// ≥ min(rows, cols) keeps the node as it is. ModelError for a name that is no product node, or a rank < 1.
    Graph withRanks(const std::map<std::string, std::int64_t>& ranks) const;

    /// The same network as a sequential Model, when it is one (a chain of nodes a Model has layers for); otherwise
    /// nullopt with the first node that is not, in `why`.
    std::optional<Model> toModel(std::string* why = nullptr) const;

    /// Floats of the value matrices kept for the next run (tests: that they stay bounded).
    std::int64_t keptFloats() const;

    /// The output (N × outputFeatures) for N samples (N × inputFeatures), in float32.
    MatrixF forward(const MatrixF& input, const GraphRunOptions& options = {}) const;
    /// The same under an emulated compute spec (a native spec runs the float32 path).
    MatrixF forward(const MatrixF& input, const numeric::ComputeSpec& spec, const GraphRunOptions& options = {}) const;

private:
    /// Buffers one run at a time reuses from the runs before (taken with try_lock: a second run at the same time works
    /// in buffers of its own): the Models' workspace, and the value matrices freed so far, by size (only sizes of the
    /// last run's values are kept).
    struct Workspace {
        std::mutex busy;
        ForwardWorkspace model;
        std::vector<MatrixF> spare;
        MatrixF take(Eigen::Index rows, Eigen::Index cols);  ///< contents unspecified
        void give(MatrixF&& m);
    };
    /// Runs of nodes executed as one Model: [first, last) with the Model.
    struct Segment {
        std::size_t first = 0, last = 0;
        std::optional<Model> model;  ///< set when the run is Model-compatible
    };
    void finish();  ///< shapes checked, segments found
    MatrixF run(const MatrixF& input, const numeric::ComputeSpec* spec, const GraphRunOptions& options) const;
    std::vector<Segment> segments(bool nodeByNode) const;
    std::optional<Model> segmentModel(std::size_t first, std::size_t last, std::string* why) const;

    std::vector<GraphNode> nodes_;    ///< in topological order
    std::vector<ValueShape> values_;  ///< [0] the input
    int output_ = 0;
    std::string source_;
    std::vector<Segment> fused_;      ///< the segments of a fused run
    std::shared_ptr<Workspace> workspace_ = std::make_shared<Workspace>();  ///< shared by copies (try_lock)
};

/// The fastest algorithm of core/conv's registry for each Conv node, timed on its shape at `batch` images (conv find:
/// the float32 paths, weights prepared once): node name → algorithm, for GraphRunOptions::convAlgorithmByNode.
std::vector<std::pair<std::string, std::string>> fastestConvAlgorithms(const Graph& graph, std::int64_t batch);

}  // namespace ks::nn
