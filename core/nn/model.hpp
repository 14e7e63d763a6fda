#pragma once
// A sequential network built from named weight tensors: the seed's MLP (784 → 512 → 128 → 10, ReLU,
// log-softmax), any other stack of fully connected layers (some of them low-rank), and small
// convolutional networks (conv → ReLU → max-pool blocks, then Linear layers) whose convolutions run
// through core/conv's registry, so their algorithm and arithmetic can be chosen.
//
//   Linear          y = x·Wᵀ + b                   W: out×in (PyTorch's layout), b: out (optional)
//   LowRankLinear   y = (x·Dᵀ)·Uᵀ + b               D: r×in (= V_rᵀ), U: out×r (= U_r·Σ_r): two GEMMs,
//                                                   r·(in + out) multiply-adds per sample instead of in·out
//   Conv2d          PyTorch's Conv2d (cross-correlation, zero padding, stride): W stored K×(C·R·S), which
//                   is the KCRS tensor's memory; "in" features of the weight matrix = C·R·S, "out" = K
//   MaxPool2d       window = stride = poolSize (floor), ReLU, Flatten (NCHW order, as torch.flatten),
//   LogSoftmax
//
// Activations are N×features row-major; a sample's features are its C×H×W feature map in CHW order.
//
// Weight names: a dense layer is "<name>.weight" (+ "<name>.bias"); a low-rank layer is stored as
// PyTorch's nn.Sequential(Linear(in, r, bias=False), Linear(r, out)) would store it:
// "<name>.0.weight" (r×in), "<name>.1.weight" (out×r), "<name>.1.bias".
//
// Compression ratio, the one definition used everywhere: parameters kept (weights and biases) /
// parameters of the same network with every layer dense.
#include <Eigen/Core>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "base/scratch_buffer.hpp"
#include "io/weights.hpp"
#include "matmul/matmul_algorithm.hpp"
#include "numeric/compute_spec.hpp"

namespace ks::nn {

using MatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using VectorF = Eigen::VectorXf;

struct ModelError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

enum class LayerKind { Linear, LowRankLinear, Conv2d, ReLU, MaxPool2d, Flatten, LogSoftmax };
std::string toString(LayerKind kind);

/// One sample's activation: channels × height × width (a feature vector is F×1×1).
struct FeatureShape {
    std::int64_t channels = 0;
    std::int64_t height = 1;
    std::int64_t width = 1;
    std::int64_t size() const { return channels * height * width; }
    bool flat() const { return height == 1 && width == 1; }
    std::string toString() const;  ///< "784" or "8×28×28"
    bool operator==(const FeatureShape&) const = default;
};

struct Layer {
    LayerKind kind = LayerKind::ReLU;
    std::string name;  ///< "fc1", "conv1" for parametrised layers
    MatrixF weight;    ///< Linear: out×in; Conv2d: K×(C·R·S)
    MatrixF down;      ///< LowRankLinear: r×in
    MatrixF up;        ///< LowRankLinear: out×r
    VectorF bias;      ///< out (K), or empty for no bias
    // Conv2d geometry (the weight matrix alone does not say how C·R·S splits).
    std::int64_t inChannels = 0;
    std::int64_t kernelHeight = 0;
    std::int64_t kernelWidth = 0;
    std::int64_t stride = 1;
    std::int64_t padding = 0;
    // MaxPool2d: window and stride.
    std::int64_t poolSize = 2;
    // Set by the Model from the layers before: the shape this layer takes and gives.
    FeatureShape inputShape, outputShape;

    bool parametrised() const {
        return kind == LayerKind::Linear || kind == LayerKind::LowRankLinear || kind == LayerKind::Conv2d;
    }
    std::int64_t inFeatures() const;   ///< columns of the weight matrix (Conv2d: C·R·S)
    std::int64_t outFeatures() const;  ///< rows of the weight matrix (Conv2d: K)
    std::int64_t rank() const;  ///< min(in, out) for a dense layer
    std::int64_t parameterCount() const;
    std::int64_t denseParameterCount() const;  ///< as a dense layer
    double flopsPerSample() const;              ///< 2 per multiply-add (Conv2d: of the direct definition)

    static Layer relu(std::string name);
    static Layer maxPool(std::string name, std::int64_t size);
    static Layer flatten(std::string name);
    static Layer logSoftmax();
};

/// How an emulated integer storage format without a fixed scale (e.g. int8) scales the activations
/// (each Linear layer's input, and a low-rank layer's hidden product). Weights always get one scale
/// per tensor.
enum class ActivationScale {
    /// One scale per layer input over the whole batch, from the largest |value| the float32 network
    /// produces there (static per-tensor quantisation calibrated on the batch): what int8 inference
    /// engines run, so the default.
    PerTensor,
    /// One scale per sample and layer input (dynamic per-row quantisation): more accurate, and
    /// needs a max-reduction over every activation vector at run time.
    PerSample,
};

/// Options of inference. threads = 1 runs the float32 path on the calling thread; otherwise each layer
/// is split over the parallel layer's threads (ks::threadCount(), base/parallel.hpp, which the convolutions
/// use too). The emulated path runs chunks of samples on up to `threads` of them (0: all).
struct InferenceOptions {
    int threads = 0;
    /// The convolution algorithm of every Conv2d layer, a name of core/conv's registry. Direct by
    /// default: the fastest on the digit CNN's few-channel layers (eval, 2,000 digits, 2 threads:
    /// direct 211 ms, winograd-4x4 304, winograd-2x2 339, fft 365, im2col 412).
    std::string convAlgorithm = "direct";
    /// Emulated integer activations (see ActivationScale).
    ActivationScale activationScale = ActivationScale::PerTensor;
    /// Which engine emulates the fully connected layers (the same bits; matmul/emulated_gemm.hpp).
    matmul::Emulation emulation = matmul::Emulation::Fast;
};

/// The buffers a float32 forward pass works in, kept by a caller that runs many (a graph's segments, a slider's steps):
/// a whole batch's activations are tens of MB, and fresh ones are mapped and zero-filled by the kernel page by page.
struct ForwardWorkspace {
    std::array<ScratchBuffer, 2> buffers;
};

class Model {
public:
    Model() = default;
    /// `input`: the shape of one sample; when empty (channels 0) the first layer must be Linear and
    /// the input is its feature vector. ModelError if the layers do not fit each other.
    explicit Model(std::vector<Layer> layers, FeatureShape input = {});

    /// The architecture implied by named tensors (see model_from_weights.cpp for the conventions):
    ///  - 2-D "<name>.weight" (+ "<name>.bias"): Linear; "<name>.0.weight" + "<name>.1.weight": low-rank;
    ///  - 4-D "<name>.weight" K×C×R×S: Conv2d with stride 1 and "same" padding (R/2), each followed by
    ///    ReLU and MaxPool2d(2), then Flatten, on 28×28 inputs: the first Linear layer must take
    ///    K_last·(28/2ⁿ)² features (16·7·7 = 784 for the digit CNN).
    /// Layers are ordered so that each one's input is the previous one's output, with ReLU between the
    /// Linear layers and LogSoftmax last. ModelError listing the tensors found if they do not form
    /// such a network.
    static Model fromWeights(const io::WeightSet& weights);
    /// The seed's architecture with PyTorch's default initialisation (U(±1/√in) for W and b), seeded.
    static Model mlp(const std::vector<std::int64_t>& sizes, std::uint64_t seed);
    /// The small digit CNN (PyTorch's default initialisation, seeded):
    /// conv1 1→8 3×3 pad 1, ReLU, max-pool 2 → conv2 8→16 3×3 pad 1, ReLU, max-pool 2 → flatten →
    /// fc1 784→64, ReLU → fc2 64→10, log-softmax. 52,138 parameters.
    static Model digitCnn(std::uint64_t seed);

    std::vector<io::NamedTensor> toNamedTensors() const;

    const std::vector<Layer>& layers() const { return layers_; }
    std::vector<Layer>& layers() { return layers_; }
    Layer* find(const std::string& name);
    const Layer* find(const std::string& name) const;

    const FeatureShape& inputShape() const { return input_; }
    std::int64_t inputFeatures() const { return input_.size(); }
    std::int64_t outputFeatures() const;
    bool hasConvolutions() const;
    std::int64_t parameterCount() const;
    std::int64_t denseParameterCount() const;
    double compressionRatio() const { return double(parameterCount()) / double(denseParameterCount()); }
    double flopsPerSample() const;
    /// "fc1 784→512, fc2 512→128 (rank 16), fc3 128→10; 468874 parameters", with conv layers as
    /// "conv1 1→8 3×3 pad 1, pool 2, ..."
    std::string describe() const;

    /// Log-probabilities (N×classes) for N samples (N×inputFeatures), float32: the products on
    /// ks::matmul::sgemm, the convolutions by options.convAlgorithm.
    MatrixF forward(const MatrixF& input, const InferenceOptions& options = {}) const;
    /// The same into `output` (resized to N × outputFeatures: its memory is reused when it has that size already), in
    /// `workspace`'s buffers.
    void forward(const MatrixF& input, MatrixF& output, ForwardWorkspace& workspace, const InferenceOptions& options = {}) const;
    /// The same in an emulated arithmetic: weights, biases and each layer's input rounded to the
    /// storage format (integer formats: per-tensor scale; activations as options.activationScale), products and
    /// accumulation (starting from the bias) rounded as `spec` says; Conv2d layers run the chosen
    /// algorithm's emulated kernel (every transform and partial sum rounded). ReLU and max-pool are
    /// exact; the log-softmax is computed in double from the rounded logits. A native spec runs the
    /// float32 path.
    MatrixF forward(const MatrixF& input, const numeric::ComputeSpec& spec, const InferenceOptions& options = {}) const;

    /// Largest |value| over the batch of each layer's input (`input`) and of a low-rank layer's hidden
    /// product x·Dᵀ (`hidden`), indexed by layer, from the float32 path: the calibration of
    /// ActivationScale::PerTensor.
    struct ActivationRanges {
        std::vector<double> input, hidden;
    };
    ActivationRanges activationRanges(const MatrixF& input, const InferenceOptions& options = {}) const;

    /// Every layer's product through a method of core/matmul's registry (naive, dense, log, lns-*,
    /// ...) with its options (compute spec, log format); a low-rank layer is two products. Bias,
    /// ReLU and log-softmax in float32. The method's reports (overflows, ...) are summed into `report`.
    /// Networks of Linear layers only (ModelError for Conv2d: their algorithm is InferenceOptions').
    MatrixF forward(const MatrixF& input, const matmul::MatmulAlgorithm& method, const matmul::MatmulOptions& options,
                    matmul::MatmulReport* report = nullptr) const;

private:
    void resolveShapes();
    std::vector<Layer> layers_;
    FeatureShape input_;
};

/// Share of samples whose largest output is at their label.
double accuracy(const MatrixF& logProbabilities, std::span<const std::uint8_t> labels);
/// Mean negative log-likelihood.
double meanNll(const MatrixF& logProbabilities, std::span<const std::uint8_t> labels);

/// View of a row-major TensorF (N×features) as an Eigen matrix (copy).
MatrixF toMatrix(const TensorF& tensor);

}  // namespace ks::nn
