#pragma once
// How a dot product's products are summed: the accumulation stage of a compute specification as a model with
// parameters, not only a format. Plain data (compute_spec.hpp holds one); numeric/modelled_dot.hpp computes with it.
//
// The sum of an output is taken over its terms in order: the initial value (a bias, or 0) first, then the products
// p_1 … p_K in the kernel's reduction order (a matrix product's k; a convolution's (c, r, s), outside taps as zero
// products, as implicit GEMM has them). Each product is rounded to the product format first.
//   sequential        ((c + p_1) + p_2) + …, each sum rounded to the accumulation format: every kernel's own order
//   pairwise          the terms summed as a balanced tree (halves, recursively)
//   blockedN          partial sums of N consecutive terms, each added to the running sum (a GEMM's K blocking)
//   kahan             sequential with Kahan's compensation, every operation rounded
//   tcNxB             a tensor core (Fasi, Higham, Mikaitis and Pranesh, "Numerical behavior of NVIDIA tensor cores",
//                     PeerJ CS 7:e330, 2021): products exact; the running sum and the next N products aligned to the
//                     largest exponent among them, each truncated toward zero to B significant bits below it (no
//                     guard bits, no sticky bit), added exactly, and the sum normalised into the accumulation format
//                     by truncation (round toward zero). The result can decrease when a term grows (non-monotonic).
// and, with any of them:
//   ,promoteN         the accumulator restarts from 0 every N products and each partial sum is added into a float32
//                     register, rounded to nearest (DeepSeek-V3's promotion of FP8 tensor-core sums to CUDA cores,
//                     every 128 elements of K); the initial value starts that register.
// Names: "tc4x24", "blocked32,promote128", parsed by parseAccumulatorModel.
#include <optional>
#include <string>
#include <string_view>

namespace ks::numeric {

enum class SummationOrder { Sequential, Pairwise, Blocked, Kahan, TensorCore };

struct AccumulatorModel {
    SummationOrder order = SummationOrder::Sequential;
    int blockSize = 32;    ///< Blocked: terms per partial sum, ≥ 1
    int groupSize = 4;     ///< TensorCore: products aligned together with the running sum, ≥ 1
    int alignedBits = 24;  ///< TensorCore: significant bits kept below the group's largest exponent, 2…53
    int promoteEvery = 0;  ///< > 0: products per partial sum promoted into float32

    /// The kernels' own order and nothing else: the specification needs no modelled dot product.
    bool plain() const { return order == SummationOrder::Sequential && promoteEvery == 0; }
    bool operator==(const AccumulatorModel&) const = default;
};

/// "sequential", "pairwise", "blocked32", "kahan", "tc4x24", each optionally followed by ",promoteN".
/// Throws std::invalid_argument naming what is wrong.
AccumulatorModel parseAccumulatorModel(std::string_view text);
std::string accumulatorModelName(const AccumulatorModel& model);
/// One sentence for `formats` and captions.
std::string describe(const AccumulatorModel& model);

}  // namespace ks::numeric
