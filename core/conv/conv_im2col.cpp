// im2col: unfold the input into a patch matrix (rows c·r·s, one column per output pixel) and
// multiply the K×(C·R·S) weight matrix by it. Columns are processed in blocks so the patch matrix
// stays in cache and memory stays bounded for large kernels; float32 uses sgemm (matmul/gemm.hpp), other
// arithmetics the same product as explicit dot products in (c, r, s) order.
#include <algorithm>
#include <type_traits>

#include "base/aligned_vector.hpp"
#include "base/parallel.hpp"
#include "conv/conv_gemm.hpp"
#include "conv/conv_kernel_util.hpp"
#include "conv/conv_lanes.hpp"
#include "base/isa.hpp"
#include "conv/conv_registry.hpp"
#include "numeric/fast_arithmetic.hpp"
#include "conv/im2col_patches.hpp"

namespace ks::conv {

namespace {

constexpr std::int64_t kColumnBlock = 512;

/// Output columns per block: at most kColumnBlock, and as many blocks as make the (image, block) pairs a
/// multiple of the thread count: a 14×14 layer was one block of 196 columns, one of two threads idle, and a
/// 56×56 one 6 blocks of 512 and one of 64, split 4 : 3 between two threads.
std::int64_t columnBlock(const ConvProblem& p) {
    const std::int64_t PQ = p.P() * p.Q(), threads = std::max(1, threadCount());
    std::int64_t perImage = detail::ceilDiv(PQ, kColumnBlock);
    while ((p.N * perImage) % threads != 0 && perImage < PQ) ++perImage;
    return detail::ceilDiv(PQ, perImage);
}

/// Output blocks [blockBegin, blockEnd) of the flattened (n, column block) space.
template <numeric::Arithmetic Arith, class V>
void im2colBlocks(const ConvProblem& pr, const V* x, const V* w, const V* bias, V* y, Arith& arith,
                  std::int64_t blockBegin, std::int64_t blockEnd) {
    const std::int64_t PQ = pr.P() * pr.Q();
    const std::int64_t CRS = pr.C * pr.R * pr.S;
    const std::int64_t bw = columnBlock(pr);
    const std::int64_t blocksPerImage = detail::ceilDiv(PQ, bw);
    // Kept per thread across calls, as sgemm's packed panels are: a fresh 1–2 MB vector per call was
    // zero-filled, and when glibc served it by mmap, faulted in page by page (up to 2.5× the GEMM's time).
    thread_local AlignedVector<V> patch;
    if (patch.size() < static_cast<std::size_t>(CRS * bw)) patch.resize(static_cast<std::size_t>(CRS * bw));
    for (std::int64_t block = blockBegin; block < blockEnd; ++block) {
        const std::int64_t n = block / blocksPerImage;
        const std::int64_t col0 = (block % blocksPerImage) * bw;
        const std::int64_t cols = std::min(bw, PQ - col0);
        unfoldPatches(pr, x, n, col0, cols, patch.data());
        V* yImage = y + n * pr.K * PQ;
        if constexpr (std::is_same_v<Arith, numeric::NativeArithmetic<float>>) {
            detail::gemmSerial(pr.K, cols, CRS, w, CRS, patch.data(), cols, yImage + col0, PQ);
            if (bias)
                for (std::int64_t k = 0; k < pr.K; ++k) {
                    float* out = yImage + k * PQ + col0;
                    for (std::int64_t j = 0; j < cols; ++j) out[j] += bias[k];
                }
        } else {
            // Stochastic rounding's sites (conv_kernel_util.hpp): output element, then term.
            const auto output = numeric::randomTensor(numeric::RandomTensor::Output);
            for (std::int64_t k = 0; k < pr.K; ++k) {
                V* out = yImage + k * PQ + col0;
                const std::uint64_t first = std::uint64_t((n * pr.K + k) * PQ + col0);
                std::fill(out, out + cols, V(0));
                for (std::int64_t i = 0; i < CRS; ++i) {
                    const V wv = w[k * CRS + i];
                    const V* row = patch.data() + i * cols;
                    for (std::int64_t j = 0; j < cols; ++j) {
                        arith.at(output, first + std::uint64_t(j), detail::productStep(i));
                        out[j] = detail::multiplyAdd(arith, wv, row[j], out[j]);
                    }
                }
                if (bias)
                    for (std::int64_t j = 0; j < cols; ++j) {
                        arith.at(output, first + std::uint64_t(j), detail::productStep(CRS));
                        out[j] = arith.add(out[j], bias[k]);
                    }
            }
        }
    }
}

template <numeric::Arithmetic Arith, class V>
void im2colConv(const ConvProblem& pr, const V* x, const V* w, const V* bias, V* y, Arith& arith) {
    std::vector<V> xs, ws, bs;
    x = detail::storeOperands(arith, x, pr.inputCount(), xs, numeric::RandomTensor::Input);
    w = detail::storeOperands(arith, w, pr.weightCount(), ws, numeric::RandomTensor::Weight);
    bias = detail::storeOperands(arith, bias, pr.K, bs, numeric::RandomTensor::Bias);
    const std::int64_t blocks = pr.N * detail::ceilDiv(pr.P() * pr.Q(), columnBlock(pr));
    if constexpr (!numeric::kThreadSplittable<Arith>) {
        im2colBlocks(pr, x, w, bias, y, arith, 0, blocks);
    } else {
        parallelFor(blocks, pr.flops(), [&](std::int64_t begin, std::int64_t end) {
            Arith local = arith;
            im2colBlocks(pr, x, w, bias, y, local, begin, end);
        });
    }
}

class Im2colConv final : public ConvAlgorithm {
public:
    std::string name() const override { return "im2col"; }
    std::string description() const override {
        return "Patch matrix (C·R·S rows, one column per output pixel, in blocks of up to 512) times the "
               "K×C·R·S weight matrix with our packed sgemm (AVX2 or AVX-512, chosen at run time): any kernel, "
               "stride and padding.";
    }
    /// Numerically direct's sums in another order: not among the precision page's first curves.
    bool shownByDefault() const override { return false; }
    bool modelsAccumulation() const override { return true; }
    std::optional<std::string> supports(const ConvProblem&) const override { return std::nullopt; }
    std::size_t workspaceBytes(const ConvProblem& p) const override {
        const auto blocks = static_cast<std::size_t>(std::min<std::int64_t>(
            threadCount(), p.N * detail::ceilDiv(p.P() * p.Q(), columnBlock(p))));
        return blocks * static_cast<std::size_t>(p.C * p.R * p.S * columnBlock(p)) * sizeof(float);
    }

protected:
    std::unique_ptr<ConvPlan> doPlan(const ConvProblem& problem, const float* weight) const override {
        auto kernel = [](const ConvProblem& p, const float* x, const float* w, const float* b, float* y) {
            numeric::NativeArithmetic<float> arith;
            im2colConv(p, x, w, b, y, arith);
        };
        return std::make_unique<detail::CopiedWeightsPlan<decltype(kernel)>>(problem, weight, kernel);
    }
    void doRun(const ConvProblem& p, const double* x, const double* w, const double* b, double* y) const override {
        numeric::NativeArithmetic<double> arith;
        im2colConv(p, x, w, b, y, arith);
    }
    void doRun(const ConvProblem& p, const double* x, const double* w, const double* b, double* y,
               numeric::EmulatedArithmetic& arith) const override {
        if (!arith.spec().accumulation.plain())
            return detail::modelledConv(p, arith.spec(), x, w, b, y, arith.engine() == numeric::EmulationEngine::Fast);
        // Float32 lanes, unless these operands' products leave float32's precision (tf32): then as below.
        if (arith.engine() == numeric::EmulationEngine::Fast && lanes::patchLanesMayRun(arith.spec()) &&
            !lanes::patchConv(p, arith.spec(), lanes::OutsideTaps::Added, x, w, b, y, arith.tensorBase()))
            return;
        numeric::withEmulation(arith, [&](auto& a) { im2colConv(p, x, w, b, y, a); });
    }

public:
    std::string fastEmulationPath(const numeric::ComputeSpec& spec) const override {
        if (modelsAccumulation() && !spec.accumulation.plain())
            return ConvAlgorithm::fastEmulationPath(spec, lanes::patchRefusal(spec), true);
        return lanes::patchEmulationPath(spec);
    }
};

}  // namespace

std::unique_ptr<ConvAlgorithm> makeIm2colConv() { return std::make_unique<Im2colConv>(); }

}  // namespace ks::conv
