// The float32 forward pass. Every product runs on ks::matmul::sgemm with op(B) = Wᵀ read in place
// (Trans::Yes on the out×in weight, no copy); the bias and a following ReLU are applied in one pass
// over each block of rows right after its GEMM wrote it. Convolutions run through core/conv's
// registry (options.convAlgorithm); a ReLU before a max-pool is applied after it (relu∘max = max∘relu,
// on a quarter of the values).
//
// Threading: layer by layer over the whole batch, each layer split into one block of rows per thread
// on core/conv's pool (the threads the convolutions use), single-threaded GEMMs per block. Measured
// with `kernelscope-cli bench mlp` (2,000 digits, 2 threads, shared machine) against the previous
// design, one OpenMP block of samples per thread running the whole network on tiles of 64 or 256
// rows: whole blocks per layer took the least CPU time (28–32 ms dense vs 38–46 ms; tiles repeat the
// packing of each weight matrix and run the GEMM on short panels), and OpenMP regions between conv
// layers left libgomp's spinning workers on the core the conv pool needed.
#include <omp.h>

#include <algorithm>
#include <functional>
#include <memory>

#include "conv/conv_registry.hpp"
#include "conv/parallel.hpp"
#include "matmul/gemm.hpp"
#include "nn/layer_kernels.hpp"
#include "nn/model.hpp"

namespace ks::nn {

namespace {

using matmul::Trans;

int threadCount(const InferenceOptions& o) { return o.threads > 0 ? o.threads : omp_get_max_threads(); }

/// body(r0, r1) over row blocks: on the calling thread when threads = 1, else on core/conv's pool,
/// the threads the convolutions run on (OpenMP regions in between would leave libgomp's workers
/// spinning on the core the pool needs).
void forRows(std::int64_t rows, std::int64_t perRow, int threads, const std::function<void(std::int64_t, std::int64_t)>& body) {
    if (threads <= 1) {
        body(0, rows);
        return;
    }
    conv::parallelFor(rows, double(rows) * double(perRow), body);
}

/// Called after each Linear / low-rank layer with its input and hidden product (rows × features).
using LayerObserver = std::function<void(std::size_t layer, const std::vector<float>& input, const std::vector<float>& hidden)>;

/// Rows [0, rows) of the activations `a` (rows × layers' input size) through every layer; `b` and `h`
/// are scratch. threads = 1: on the calling thread; otherwise in blocks of rows on core/conv's pool.
void runLayers(const std::vector<Layer>& layers, std::vector<float>& a, std::vector<float>& b, std::vector<float>& h,
               std::int64_t rows, int threads, const std::string& convAlgorithm, const LayerObserver* observe = nullptr) {
    for (std::size_t k = 0; k < layers.size(); ++k) {
        const Layer& l = layers[k];
        const bool reluNext = k + 1 < layers.size() && layers[k + 1].kind == LayerKind::ReLU;
        const std::int64_t in = l.inputShape.size(), out = l.outputShape.size();
        switch (l.kind) {
            case LayerKind::Linear:
            case LayerKind::LowRankLinear: {
                b.resize(static_cast<std::size_t>(rows * out));
                if (l.kind == LayerKind::LowRankLinear) h.resize(static_cast<std::size_t>(rows * l.rank()));
                const float* bias = l.bias.size() ? l.bias.data() : nullptr;
                // Each block of rows: its GEMM(s) on one thread, then the epilogue while the block is in cache.
                forRows(rows, in * out, threads, [&](std::int64_t r0, std::int64_t r1) {
                    const std::int64_t m = r1 - r0;
                    if (l.kind == LayerKind::Linear) {
                        matmul::sgemm(Trans::No, Trans::Yes, m, out, in, a.data() + r0 * in, in, l.weight.data(), in,
                                      b.data() + r0 * out, out, false, 1);
                    } else {
                        const std::int64_t r = l.rank();
                        matmul::sgemm(Trans::No, Trans::Yes, m, r, in, a.data() + r0 * in, in, l.down.data(), in,
                                      h.data() + r0 * r, r, false, 1);
                        matmul::sgemm(Trans::No, Trans::Yes, m, out, r, h.data() + r0 * r, r, l.up.data(), r,
                                      b.data() + r0 * out, out, false, 1);
                    }
                    detail::biasActivation(b.data() + r0 * out, m, out, out, bias, reluNext);
                });
                if (observe) (*observe)(k, a, h);
                std::swap(a, b);
                if (reluNext) ++k;
                break;
            }
            case LayerKind::Conv2d: {
                const conv::ConvProblem p = detail::convProblemOf(l, rows);
                b.resize(static_cast<std::size_t>(rows * out));
                std::unique_ptr<conv::ConvPlan> plan;
                try {
                    plan = conv::convAlgorithm(convAlgorithm).plan(p, l.weight.data());
                } catch (const std::invalid_argument& e) {
                    throw ModelError(l.name + ": " + e.what());
                }
                plan->execute(a.data(), l.bias.size() ? l.bias.data() : nullptr, b.data());
                std::swap(a, b);
                break;
            }
            case LayerKind::MaxPool2d: {
                // ReLU before max-pooling is applied after it, on a quarter of the values (both are
                // monotone: relu(max) = max(relu)).
                const bool relu = k > 0 && layers[k - 1].kind == LayerKind::ReLU;
                b.resize(static_cast<std::size_t>(rows * out));
                forRows(rows, in, threads, [&](std::int64_t r0, std::int64_t r1) {
                    detail::maxPool(a.data() + r0 * in, r1 - r0, l.inputShape, l.poolSize, b.data() + r0 * out, nullptr);
                    if (relu) detail::biasActivation(b.data() + r0 * out, r1 - r0, out, out, nullptr, true);
                });
                std::swap(a, b);
                break;
            }
            case LayerKind::ReLU: {
                if (k + 1 < layers.size() && layers[k + 1].kind == LayerKind::MaxPool2d) break;  // done after the pool
                forRows(rows, in, threads, [&](std::int64_t r0, std::int64_t r1) {
                    detail::biasActivation(a.data() + r0 * in, r1 - r0, in, in, nullptr, true);
                });
                break;
            }
            case LayerKind::Flatten: break;  // CHW order is already the flattened order
            case LayerKind::LogSoftmax: {
                Eigen::Map<MatrixF> z(a.data(), rows, in);
                for (Eigen::Index r = 0; r < z.rows(); ++r) {
                    auto row = z.row(r);
                    const float m = row.maxCoeff();
                    row.array() -= m + std::log((row.array() - m).exp().sum());
                }
                break;
            }
        }
    }
}

}  // namespace

MatrixF Model::forward(const MatrixF& input, const InferenceOptions& options) const {
    if (input.cols() != inputFeatures())
        throw ModelError("the model takes " + std::to_string(inputFeatures()) + " features per sample (" +
                         input_.toString() + "), the input has " + std::to_string(input.cols()));
    const std::int64_t n = input.rows(), out = outputFeatures();
    MatrixF output(n, out);
    if (n == 0) return output;
    const int threads = static_cast<int>(std::max<std::int64_t>(1, std::min<std::int64_t>(threadCount(options), n)));
    std::vector<float> a(input.data(), input.data() + input.size()), b, h;
    runLayers(layers_, a, b, h, n, threads, options.convAlgorithm);
    std::copy(a.begin(), a.begin() + n * out, output.data());
    return output;
}

Model::ActivationRanges Model::activationRanges(const MatrixF& input, const InferenceOptions& options) const {
    if (input.cols() != inputFeatures())
        throw ModelError("the model takes " + std::to_string(inputFeatures()) + " features per sample (" +
                         input_.toString() + "), the input has " + std::to_string(input.cols()));
    ActivationRanges ranges;
    ranges.input.assign(layers_.size(), 0.0);
    ranges.hidden.assign(layers_.size(), 0.0);
    auto maxAbs = [](const std::vector<float>& v) {
        float m = 0;
        for (const float x : v) m = std::max(m, std::abs(x));
        return double(m);
    };
    const LayerObserver observe = [&](std::size_t k, const std::vector<float>& in, const std::vector<float>& hidden) {
        ranges.input[k] = maxAbs(in);
        if (layers_[k].kind == LayerKind::LowRankLinear) ranges.hidden[k] = maxAbs(hidden);
    };
    std::vector<float> a(input.data(), input.data() + input.size()), b, h;
    runLayers(layers_, a, b, h, input.rows(), std::max(1, threadCount(options)), options.convAlgorithm, &observe);
    return ranges;
}

}  // namespace ks::nn
