#pragma once
// A sequential network built from named weight tensors: the seed's MLP (784 → 512 → 128 → 10, ReLU,
// log-softmax) and any other stack of fully connected layers, some of them low-rank.
//
//   Linear          y = x·Wᵀ + b                   W: out×in (PyTorch's layout), b: out (optional)
//   LowRankLinear   y = (x·Dᵀ)·Uᵀ + b               D: r×in (= V_rᵀ), U: out×r (= U_r·Σ_r): two GEMMs,
//                                                   r·(in + out) multiply-adds per sample instead of in·out
//   ReLU, LogSoftmax
//
// Weight names: a dense layer is "<name>.weight" (+ "<name>.bias"); a low-rank layer is stored as
// PyTorch's nn.Sequential(Linear(in, r, bias=False), Linear(r, out)) would store it:
// "<name>.0.weight" (r×in), "<name>.1.weight" (out×r), "<name>.1.bias".
//
// Compression ratio, the one definition used everywhere: parameters kept (weights and biases) /
// parameters of the same network with every layer dense.
#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <vector>

#include "io/weights.hpp"
#include "matmul/matmul_method.hpp"
#include "numeric/compute_spec.hpp"

namespace ks::nn {

using MatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using VectorF = Eigen::VectorXf;

struct ModelError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

enum class LayerKind { Linear, LowRankLinear, ReLU, LogSoftmax };
std::string toString(LayerKind kind);

struct Layer {
    LayerKind kind = LayerKind::ReLU;
    std::string name;  ///< "fc1" for parametrised layers
    MatrixF weight;    ///< Linear: out×in
    MatrixF down;      ///< LowRankLinear: r×in
    MatrixF up;        ///< LowRankLinear: out×r
    VectorF bias;      ///< out, or empty for no bias

    bool parametrised() const { return kind == LayerKind::Linear || kind == LayerKind::LowRankLinear; }
    std::int64_t inFeatures() const;
    std::int64_t outFeatures() const;
    std::int64_t rank() const;  ///< min(in, out) for a dense layer
    std::int64_t parameterCount() const;
    std::int64_t denseParameterCount() const;  ///< as a dense layer
    double flopsPerSample() const;              ///< 2 per multiply-add
};

/// Options of the float32 path. Threads split the batch (0: OpenMP's default).
struct InferenceOptions {
    int threads = 0;
};

class Model {
public:
    Model() = default;
    explicit Model(std::vector<Layer> layers);

    /// Matches tensor names and shapes to Linear / LowRankLinear layers, orders them so that each
    /// layer's input is the previous one's output, and puts ReLU between and LogSoftmax last.
    /// ModelError listing the tensors found if they do not form such a network.
    static Model fromWeights(const io::WeightSet& weights);
    /// The seed's architecture with PyTorch's default initialisation (U(±1/√in) for W and b), seeded.
    static Model mlp(const std::vector<std::int64_t>& sizes, std::uint64_t seed);

    std::vector<io::NamedTensor> toNamedTensors() const;

    const std::vector<Layer>& layers() const { return layers_; }
    std::vector<Layer>& layers() { return layers_; }
    Layer* find(const std::string& name);
    const Layer* find(const std::string& name) const;

    std::int64_t inputFeatures() const;
    std::int64_t outputFeatures() const;
    std::int64_t parameterCount() const;
    std::int64_t denseParameterCount() const;
    double compressionRatio() const { return double(parameterCount()) / double(denseParameterCount()); }
    double flopsPerSample() const;
    /// "fc1 784→512, fc2 512→128 (rank 16), fc3 128→10; 468,874 parameters"
    std::string describe() const;

    /// Log-probabilities (N×classes) for N samples (N×inputFeatures), float32 through Eigen.
    MatrixF forward(const MatrixF& input, const InferenceOptions& options = {}) const;
    /// The same in an emulated arithmetic: weights, biases and each layer's input rounded to the
    /// storage format (integer formats: per-tensor scale, per sample for activations), products and
    /// accumulation (starting from the bias) rounded as `spec` says. The log-softmax is computed in
    /// double from the rounded logits. A native spec runs the float32 path.
    MatrixF forward(const MatrixF& input, const numeric::ComputeSpec& spec, const InferenceOptions& options = {}) const;

    /// Every layer's product through a method of core/matmul's registry (naive, dense, log, lns-*,
    /// ...) with its options (compute spec, log format); a low-rank layer is two products. Bias,
    /// ReLU and log-softmax in float32. The method's reports (overflows, ...) are summed into `report`.
    MatrixF forward(const MatrixF& input, const matmul::MatmulMethod& method, const matmul::MatmulOptions& options,
                    matmul::MatmulReport* report = nullptr) const;

private:
    void validate() const;
    std::vector<Layer> layers_;
};

/// Share of samples whose largest output is at their label.
double accuracy(const MatrixF& logProbabilities, std::span<const std::uint8_t> labels);
/// Mean negative log-likelihood.
double meanNll(const MatrixF& logProbabilities, std::span<const std::uint8_t> labels);

/// View of a row-major TensorF (N×features) as an Eigen matrix (copy).
MatrixF toMatrix(const TensorF& tensor);

}  // namespace ks::nn
