// The float32 forward pass. Fully connected layers multiply by Wᵀ packed once per call
// (matmul::sgemmPacked), with the bias and a following ReLU in the GEMM's epilogue. Convolutions run through core/conv's
// registry (options.convAlgorithm); a ReLU before a max-pool is applied after it (relu∘max = max∘relu,
// on a quarter of the values).
//
// Depth-first, on the parallel layer's threads (base/parallel.hpp, those the convolutions use), in two parts:
//  - the convolutional part of a network (convolutions, ReLUs, pools, up to the first fully
//    connected layer) in tiles of images whose widest activation fits in L2: each thread takes a
//    tile through all of those layers, single-threaded, with its own plans, then claims the next
//    (the digit CNN's 2,000-digit eval: 78–86 → 23–28 ms; layer by layer its 50 MB activations went
//    to memory and back between layers);
//  - a run of fully connected layers (Linear or low-rank, with their ReLUs, up to the log-softmax):
//    each thread takes its block of rows through the whole run, without waiting for the other
//    between layers, with single-threaded GEMMs.
// When every weight matrix of the run is small (the low-rank layers' factors), the block is taken
// through in tiles of rows whose widest output fits in L2 (and a thread that finishes its block
// takes the tiles left in the other's, parallelClaimsPerThread): the rank-16 network's 512-wide hidden
// layer otherwise went to memory and back between its two GEMMs and the ReLU (4 MB each way). The
// weights are packed once per call (sgemmPacked) for every thread and tile. Large weights (a dense
// 784×512 layer, 1.6 MB) keep whole blocks: a tile of rows would stream all of them from L3 again.
#include <algorithm>
#include <array>
#include <functional>
#include <memory>
#include <mutex>
#include <span>

#include "base/cpu_caches.hpp"
#include "base/parallel.hpp"
#include "base/scratch_buffer.hpp"
#include "conv/conv_registry.hpp"
#include "matmul/gemm.hpp"
#include "nn/layer_kernels.hpp"
#include "nn/model.hpp"

namespace ks::nn {

namespace {

using matmul::Trans;

int threadsOf(const InferenceOptions& o) { return o.threads > 0 ? o.threads : ks::threadCount(); }

/// body(r0, r1) over row blocks: on the calling thread when threads = 1, else on the parallel layer's
/// threads (parallelFor).
void forRows(std::int64_t rows, std::int64_t perRow, int threads, const std::function<void(std::int64_t, std::int64_t)>& body) {
    if (threads <= 1) {
        body(0, rows);
        return;
    }
    parallelFor(rows, double(rows) * double(perRow), body);
}

/// Called after each Linear / low-rank layer with its input and hidden product (rows × features)
/// for each tile of rows, from the threads that computed them (possibly at the same time).
using LayerObserver = std::function<void(std::size_t layer, std::span<const float> input, std::span<const float> hidden)>;

bool isProduct(LayerKind kind) { return kind == LayerKind::Linear || kind == LayerKind::LowRankLinear; }

/// Floats of a product's weights.
std::int64_t weightFloats(const Layer& l) {
    return l.kind == LayerKind::LowRankLinear ? std::int64_t(l.down.size() + l.up.size()) : std::int64_t(l.weight.size());
}

/// Weights up to this size stay in L2 from one tile of rows to the next: three quarters of L2 (on Zen 3,
/// 512 KiB: 96k floats, which the rank-64 factors of fc1, 64·(784 + 512) = 83k floats, fit; fc1 itself
/// is 401k). From the cache sizes at run time (base/cpu_caches.hpp), as sgemm's blocking.
std::int64_t tileableWeightFloats(std::int64_t l2) { return l2 * 3 / 4 / std::int64_t(sizeof(float)); }
/// A tile's widest output is kept under half of L2 (Zen 3: 256 KiB, 120 rows of 512). Per-call costs
/// (packing a partial micro-tile, writing C after a short k loop) made 60-row tiles slower there.
std::int64_t tileBytes(std::int64_t l2) { return l2 / 2; }

/// The end of the run of fully connected layers that starts at `first` (a product): products, a
/// ReLU right after a product (fused into it), and a final log-softmax.
std::size_t chainEnd(const std::vector<Layer>& layers, std::size_t first) {
    std::size_t k = first;
    while (k < layers.size()) {
        const LayerKind kind = layers[k].kind;
        if (isProduct(kind)) ++k;
        else if (kind == LayerKind::ReLU && isProduct(layers[k - 1].kind)) ++k;
        else if (kind == LayerKind::LogSoftmax) return k + 1;
        else break;
    }
    return k;
}

/// Layers [first, last) (see chainEnd) on rows [0, rows) of x, depth-first: y receives the last
/// product's output (after its ReLU and the log-softmax).
void runChain(const std::vector<Layer>& layers, std::size_t first, std::size_t last, const float* x, float* y,
              std::int64_t rows, int threads, const LayerObserver* observe) {
    const std::int64_t l2 = activeCacheSizes().l2;  // once: it takes a lock
    std::int64_t widest = 0, maxRank = 0, perRow = 0;
    bool tileable = true;
    std::size_t lastProduct = first;
    for (std::size_t k = first; k < last; ++k) {
        const Layer& l = layers[k];
        if (!isProduct(l.kind)) continue;
        lastProduct = k;
        widest = std::max(widest, l.outputShape.size());
        if (l.kind == LayerKind::LowRankLinear) maxRank = std::max(maxRank, l.rank());
        tileable = tileable && weightFloats(l) <= tileableWeightFloats(l2);
        perRow += weightFloats(l);
    }
    const std::int64_t outWidth = layers[lastProduct].outputShape.size();
    // Tiles of whole micro-tiles of rows (sgemm's 6, the dot kernel's 4): a partial one is packed
    // on every call, which cost a quarter of the rank-16 layers' time at 41-row tiles.
    const std::int64_t tileLimit = tileable ? std::max<std::int64_t>(12, tileBytes(l2) / (4 * widest) / 12 * 12) : rows;
    // Every weight matrix packed once for all threads and tiles: [k] its Wᵀ, or its factors' (down, up).
    std::vector<std::pair<matmul::PackedB, matmul::PackedB>> packed(last - first);
    for (std::size_t k = first; k < last; ++k) {
        const Layer& l = layers[k];
        const std::int64_t in = l.inputShape.size(), out = l.outputShape.size();
        if (l.kind == LayerKind::Linear) {
            packed[k - first].first = matmul::PackedB(Trans::Yes, in, out, l.weight.data(), in);
        } else if (l.kind == LayerKind::LowRankLinear) {
            packed[k - first] = {matmul::PackedB(Trans::Yes, in, l.rank(), l.down.data(), in),
                                 matmul::PackedB(Trans::Yes, l.rank(), out, l.up.data(), l.rank())};
        }
    }

    // Tiles [t0, t0 + m) through every layer of the run, with this thread's buffers: two the products
    // alternate between, and the hidden product of a low-rank layer.
    const auto runTile = [&](std::int64_t t0, std::int64_t m, float* const buffers[2], float* hidden) {
        const float* in = x + t0 * layers[first].inputShape.size();
        int next = 0;
        for (std::size_t k = first; k < last; ++k) {
            const Layer& l = layers[k];
            const std::int64_t inWidth = l.inputShape.size(), out = l.outputShape.size();
            if (l.kind == LayerKind::LogSoftmax) {
                detail::logSoftmaxRows(y + t0 * outWidth, m, outWidth);
                continue;
            }
            if (!isProduct(l.kind)) continue;  // a ReLU, applied with the product before it
            float* z = k == lastProduct ? y + t0 * outWidth : buffers[next];
            const auto& [weights, up] = packed[k - first];
            // The bias and a following ReLU in the GEMM's epilogue, while each tile is in registers.
            const matmul::Epilogue post{l.bias.size() ? l.bias.data() : nullptr,
                                        k + 1 < last && layers[k + 1].kind == LayerKind::ReLU};
            if (l.kind == LayerKind::Linear) {
                matmul::sgemmPacked(m, in, inWidth, weights, z, out, false, post);
            } else {
                matmul::sgemmPacked(m, in, inWidth, weights, hidden, l.rank());
                matmul::sgemmPacked(m, hidden, l.rank(), up, z, out, false, post);
            }
            if (observe)
                (*observe)(k, {in, static_cast<std::size_t>(m * inWidth)},
                           {hidden, l.kind == LayerKind::LowRankLinear ? static_cast<std::size_t>(m * l.rank()) : 0});
            in = z;
            next = 1 - next;
        }
    };
    const auto withBuffers = [&](std::int64_t tile, auto&& work) {
        ScratchBuffer scratch;
        float* const base = scratch.get(tile * (2 * widest + maxRank));
        float* const buffers[2] = {base, base + tile * widest};
        work(buffers, base + 2 * tile * widest);
    };

    if (!tileable || threads <= 1) {  // a block of rows per thread, in tiles when tileable
        forRows(rows, perRow, threads, [&](std::int64_t r0, std::int64_t r1) {
            const std::int64_t tile = std::min(tileLimit, r1 - r0);
            withBuffers(tile, [&](float* const buffers[2], float* hidden) {
                for (std::int64_t t0 = r0; t0 < r1; t0 += tile) runTile(t0, std::min(tile, r1 - t0), buffers, hidden);
            });
        });
        return;
    }
    // Tiles claimed from the thread's own block of rows, then from what is left of the others'
    // (parallelClaims: a thread slowed down by the shared machine does not hold the others up).
    const std::int64_t parts = std::min<std::int64_t>(ks::threadCount(), rows);
    const std::int64_t tile = std::min(tileLimit, (rows + parts - 1) / parts);
    parallelClaimsPerThread(rows, tile, double(rows) * double(perRow), [&](const Claims& claims) {
        withBuffers(tile, [&](float* const buffers[2], float* hidden) {
            claims.forEach([&](std::int64_t t0, std::int64_t t1) { runTile(t0, t1 - t0, buffers, hidden); });
        });
    });
}

/// Convolution plans of one thread for one forward pass, by layer and batch size (a plan holds its
/// workspace, so threads do not share them; tiles of images reuse them).
class PlanCache {
public:
    conv::ConvPlan& get(std::size_t layer, std::int64_t batch, const std::function<std::unique_ptr<conv::ConvPlan>()>& make) {
        for (Entry& e : entries_)
            if (e.layer == layer && e.batch == batch) return *e.plan;
        entries_.push_back({layer, batch, make()});
        return *entries_.back().plan;
    }

private:
    struct Entry {
        std::size_t layer;
        std::int64_t batch;
        std::unique_ptr<conv::ConvPlan> plan;
    };
    std::vector<Entry> entries_;
};

/// The widest activation of a tile of images in the convolutional part of a network is kept under half
/// of L2 (Zen 3, 512 KiB: 10 digits through the CNN's 8×28×28 first layer).
std::int64_t convTileBytes() { return activeCacheSizes().l2 / 2; }

const float* runLayers(const std::vector<Layer>& layers, std::size_t last, const float* input, std::int64_t rows,
                       int threads, const std::string& convAlgorithm, std::array<ScratchBuffer, 2>& buffers,
                       const LayerObserver* observe = nullptr, PlanCache* plans = nullptr);

/// Images per tile for the layers [0, end) (see runConvolutionsInTiles): their widest activation
/// under convTileBytes().
std::int64_t convTileImages(const std::vector<Layer>& layers, std::size_t end) {
    std::int64_t widest = layers.front().inputShape.size();
    for (std::size_t k = 0; k < end; ++k) widest = std::max(widest, layers[k].outputShape.size());
    return std::max<std::int64_t>(1, convTileBytes() / (4 * widest));
}

/// The layers before the first fully connected one ([0, end): convolutions, ReLUs, pools, flatten)
/// depth-first, in tiles of images: each thread takes a tile through all of them (on its own
/// buffers, with its own plans), then the next, so that the activations stay in L2. Layer by layer,
/// the digit CNN's 2,000-image activations (50 MB after its first convolution) went to memory and
/// back between layers, into freshly mapped pages. Writes the output of layer end - 1 to `features`.
void runConvolutionsInTiles(const std::vector<Layer>& layers, std::size_t end, const float* input, std::int64_t rows,
                            int threads, const std::string& convAlgorithm, float* features) {
    double work = 0;
    for (std::size_t k = 0; k < end; ++k)
        if (layers[k].kind == LayerKind::Conv2d) work += detail::convProblemOf(layers[k], rows).flops();
    const std::int64_t inWidth = layers.front().inputShape.size(), outWidth = layers[end - 1].outputShape.size();
    const std::int64_t parts = threads > 1 ? std::min<std::int64_t>(ks::threadCount(), rows) : 1;
    const std::int64_t tile = std::min(convTileImages(layers, end), (rows + parts - 1) / parts);
    parallelClaimsPerThread(rows, tile, threads > 1 ? work : 0.0, [&](const Claims& claims) {
        std::array<ScratchBuffer, 2> tileBuffers;
        PlanCache plans;
        claims.forEach([&](std::int64_t r0, std::int64_t r1) {
            const float* y = runLayers(layers, end, input + r0 * inWidth, r1 - r0, 1, convAlgorithm, tileBuffers, nullptr, &plans);
            std::copy(y, y + (r1 - r0) * outWidth, features + r0 * outWidth);
        });
    });
}

/// Rows [0, rows) of `input` (rows × the first layer's input size, read only) through layers
/// [0, last); returns the output (rows × layer last - 1's output size), which lives in one of
/// `buffers` (the two the layers alternate between; not zero-filled: every layer writes all of its
/// output), or is `input` for a network without layers that write. (std::vector::resize's fill and
/// a copy of the input batch took about a third of the time of the rank-16 network on 2,000
/// digits.) threads = 1: on the calling thread; otherwise on the parallel layer's threads: the convolutional
/// part in tiles of images (runConvolutionsInTiles), a run of fully connected layers in blocks of
/// rows (runChain). `plans`: convolution plans to reuse (made per call otherwise).
const float* runLayers(const std::vector<Layer>& layers, std::size_t last, const float* input, std::int64_t rows,
                       int threads, const std::string& convAlgorithm, std::array<ScratchBuffer, 2>& buffers,
                       const LayerObserver* observe, PlanCache* plans) {
    const float* x = input;  // the current activations: the input, or buffers[current]
    int current = -1;
    // A layer writes into the buffer x is not in, then moves x there.
    auto nextBuffer = [&](std::int64_t count) { return buffers[current == 0 ? 1 : 0].get(count); };
    auto advance = [&](const float* y) {
        current = current == 0 ? 1 : 0;
        x = y;
    };
    // x, made writable for the layers that work in place (a copy only while x is the input).
    auto writable = [&](std::int64_t count) {
        if (current >= 0) return buffers[current].get(count);
        float* copy = nextBuffer(count);
        std::copy(x, x + count, copy);
        advance(copy);
        return copy;
    };
    std::size_t k = 0;
    const std::size_t convolutionsEnd = static_cast<std::size_t>(
        std::find_if(layers.begin(), layers.begin() + static_cast<std::ptrdiff_t>(last), [](const Layer& l) { return isProduct(l.kind); }) -
        layers.begin());
    const bool hasConvolutions = std::any_of(layers.begin(), layers.begin() + static_cast<std::ptrdiff_t>(convolutionsEnd),
                                             [](const Layer& l) { return l.kind == LayerKind::Conv2d; });
    if (hasConvolutions && rows > convTileImages(layers, convolutionsEnd)) {
        float* features = nextBuffer(rows * layers[convolutionsEnd - 1].outputShape.size());
        runConvolutionsInTiles(layers, convolutionsEnd, input, rows, threads, convAlgorithm, features);
        advance(features);
        k = convolutionsEnd;
    }
    for (; k < last; ++k) {
        const Layer& l = layers[k];
        const std::int64_t in = l.inputShape.size(), out = l.outputShape.size();
        switch (l.kind) {
            case LayerKind::Linear:
            case LayerKind::LowRankLinear: {
                const std::size_t end = chainEnd(layers, k);
                float* y = nextBuffer(rows * layers[end - 1].outputShape.size());
                runChain(layers, k, end, x, y, rows, threads, observe);
                advance(y);
                k = end - 1;
                break;
            }
            case LayerKind::Conv2d: {
                const auto makePlan = [&] {
                    try {
                        return conv::convAlgorithm(convAlgorithm).plan(detail::convProblemOf(l, rows), l.weight.data());
                    } catch (const std::invalid_argument& e) {
                        throw ModelError(l.name + ": " + e.what());
                    }
                };
                std::unique_ptr<conv::ConvPlan> own;
                conv::ConvPlan& plan = plans ? plans->get(k, rows, makePlan) : *(own = makePlan());
                float* y = nextBuffer(rows * out);
                plan.execute(x, l.bias.size() ? l.bias.data() : nullptr, y);
                advance(y);
                break;
            }
            case LayerKind::MaxPool2d: {
                // ReLU before max-pooling is applied after it, on a quarter of the values (both are
                // monotone: relu(max) = max(relu)).
                const bool relu = k > 0 && layers[k - 1].kind == LayerKind::ReLU;
                float* y = nextBuffer(rows * out);
                forRows(rows, in, threads, [&](std::int64_t r0, std::int64_t r1) {
                    detail::maxPool(x + r0 * in, r1 - r0, l.inputShape, l.poolSize, y + r0 * out, nullptr);
                    if (relu) detail::biasActivation(y + r0 * out, r1 - r0, out, out, nullptr, true);
                });
                advance(y);
                break;
            }
            case LayerKind::ReLU: {
                if (k + 1 < layers.size() && layers[k + 1].kind == LayerKind::MaxPool2d) break;  // done after the pool
                float* z = writable(rows * in);
                forRows(rows, in, threads, [&](std::int64_t r0, std::int64_t r1) {
                    detail::biasActivation(z + r0 * in, r1 - r0, in, in, nullptr, true);
                });
                break;
            }
            case LayerKind::Flatten: break;  // CHW order is already the flattened order
            case LayerKind::LogSoftmax: {
                detail::logSoftmaxRows(writable(rows * in), rows, in);
                break;
            }
        }
    }
    return x;
}

}  // namespace

MatrixF Model::forward(const MatrixF& input, const InferenceOptions& options) const {
    ForwardWorkspace workspace;
    MatrixF output;
    forward(input, output, workspace, options);
    return output;
}

void Model::forward(const MatrixF& input, MatrixF& output, ForwardWorkspace& workspace, const InferenceOptions& options) const {
    if (input.cols() != inputFeatures())
        throw ModelError("the model takes " + std::to_string(inputFeatures()) + " features per sample (" +
                         input_.toString() + "), the input has " + std::to_string(input.cols()));
    const std::int64_t n = input.rows(), out = outputFeatures();
    output.resize(n, out);
    if (n == 0) return;
    const int threads = static_cast<int>(std::max<std::int64_t>(1, std::min<std::int64_t>(threadsOf(options), n)));
    const float* y = runLayers(layers_, layers_.size(), input.data(), n, threads, options.convAlgorithm, workspace.buffers);
    std::copy(y, y + n * out, output.data());
}

Model::ActivationRanges Model::activationRanges(const MatrixF& input, const InferenceOptions& options) const {
    if (input.cols() != inputFeatures())
        throw ModelError("the model takes " + std::to_string(inputFeatures()) + " features per sample (" +
                         input_.toString() + "), the input has " + std::to_string(input.cols()));
    ActivationRanges ranges;
    ranges.input.assign(layers_.size(), 0.0);
    ranges.hidden.assign(layers_.size(), 0.0);
    auto maxAbs = [](std::span<const float> v) {
        float m = 0;
        for (const float x : v) m = std::max(m, std::abs(x));
        return double(m);
    };
    std::mutex mutex;
    const LayerObserver observe = [&](std::size_t k, std::span<const float> in, std::span<const float> hidden) {
        const double inMax = maxAbs(in), hiddenMax = maxAbs(hidden);
        const std::lock_guard<std::mutex> lock(mutex);
        ranges.input[k] = std::max(ranges.input[k], inMax);
        ranges.hidden[k] = std::max(ranges.hidden[k], hiddenMax);
    };
    std::array<ScratchBuffer, 2> buffers;
    if (input.rows() > 0)
        runLayers(layers_, layers_.size(), input.data(), input.rows(), std::max(1, threadsOf(options)), options.convAlgorithm, buffers,
                  &observe);
    return ranges;
}

}  // namespace ks::nn
