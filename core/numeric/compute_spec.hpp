#pragma once
// Which format each stage of a kernel works in: stored operands (inputs and transformed tiles),
// products, and accumulators. "fp16 multiply, fp32 accumulate" and "everything in bf16" are both one.
//
// Names (parseComputeSpec / computeSpecName):
//   native, fp32-native        plain float32 hardware arithmetic, no emulation
//   F                          every stage in format F (e.g. bf16)
//   S/A                        storage and products in S, accumulation in A (fp16/fp32: tensor cores)
//   S/P/A                      storage, products and accumulation separately
//   ...:MODE                   rounding mode (nearest, toward-zero, up, down, stochastic; rne rz ru rd sr)
//   ...:seed=N                 seed for stochastic rounding
//   ...:scales=tiles           a scaled storage format's blocks on the transformed tiles of Winograd and the FFT
//                              (their batched products' operands) instead of the spatial operands (:scales=operands,
//                              the default). Algorithms that do not transform (direct, im2col, every matrix product)
//                              multiply their operands themselves: for them the two placements are one
//   ...:acc=MODEL              how the products are summed (numeric/accumulator_model.hpp): pairwise, blocked32,
//                              kahan, tc4x24 (tensor-core groups), any of them with ,promote128
// Presets model real units; each is a spec like any other (computeSpecPresets lists them with their sources):
//   volta-fp16-tc   fp16/fp64/fp32:acc=tc4x24   V100: groups of 4 exact products, no guard bit (Fasi et al. 2021)
//   ampere-fp16-tc  fp16/fp64/fp32:acc=tc8x25   A100: groups of 8, one more bit on the right (Fasi et al. 2021)
//   ampere-bf16-tc  bf16/fp64/fp32:acc=tc8x25   A100 in bf16 (the same adder)
//   hopper-fp8      e4m3/fp64/e8m13:acc=tc4x14  H800 FP8 GEMM keeping about 14 bits (DeepSeek-V3 report §3.5.2)
//   hopper-fp8-promoted  the same, promoted into float32 every 128 products (DeepSeek-V3's remedy)
// e.g. "fp16/fp32", "bf16:sr:seed=7", "e4m3/fp16/fp32". A per-tensor integer storage format (int8)
// keeps its products exact (fp64): int8/fp32 is "int8 operands, exact products, fp32 accumulation".
// A scaled storage format (numeric/scaled_format.hpp: mxfp4, nvfp4, e4m3@channel, int4@block64) is named in
// the storage place only and needs the accumulation format after it: "mxfp4/fp32" stores both operands as
// MXFP4 blocks along the reduction axis, dequantised to float32 (storage fp32), products in fp32 unless a
// third format says otherwise ("mxfp8/bf16/fp32"). Whoever runs such a spec quantises whole operands along
// their reduction axis first (quantizeOperand) and then runs elementwise(): a kernel that sees a spec with
// scaledStorage set has been handed one it cannot honour (EmulatedArithmetic refuses it).
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "numeric/accumulator_model.hpp"
#include "numeric/format.hpp"
#include "numeric/scaled_format.hpp"
#include "numeric/rounding_mode.hpp"

namespace ks::numeric {

/// Where a scaled storage format's blocks lie in an algorithm that transforms its operands before multiplying them.
enum class ScalePlacement {
    Operands,         ///< the spatial input and weights, before any transform (what a framework quantises)
    TransformedTiles  ///< Winograd's transformed tiles U and V, the FFT's spectra: what its batched products read
};

struct ComputeSpec {
    Format storage = Format::fp32();
    Format product = Format::fp32();
    Format accumulate = Format::fp32();
    Rounding rounding = Rounding::NearestEven;
    std::uint64_t seed = 0;  ///< for stochastic rounding
    bool native = true;      ///< plain float32 hardware arithmetic, no emulation
    /// Stored operands quantised with shared scales along their reduction axis before the kernel runs;
    /// `storage` is then float32, where the dequantised values are kept.
    std::optional<ScaledFormat> scaledStorage;
    /// How products are summed; plain() (sequential) is every kernel's own order.
    AccumulatorModel accumulation;
    /// Where scaledStorage's blocks lie (Operands without a scaled storage format).
    ScalePlacement scalePlacement = ScalePlacement::Operands;

    static ComputeSpec nativeFloat32() { return {}; }
    /// Every stage in one format.
    static ComputeSpec uniform(const Format& f, Rounding r = Rounding::NearestEven);
    /// Storage and products in `storage`, accumulation in `accumulate` (tensor-core style).
    /// A per-tensor scaled integer storage format gets exact (fp64) products instead.
    static ComputeSpec mixed(const Format& storage, const Format& accumulate,
                             Rounding r = Rounding::NearestEven);

    /// Operands stored in a scaled format, dequantised to float32; products in `product` (float32 unless
    /// given), sums in `accumulate`.
    static ComputeSpec scaled(const ScaledFormat& storage, const Format& accumulate, Rounding r = Rounding::NearestEven);
    /// The spec a kernel runs once the operands are quantised: this one without scaledStorage.
    ComputeSpec elementwise() const {
        ComputeSpec s = *this;
        s.scaledStorage.reset();
        s.scalePlacement = ScalePlacement::Operands;
        return s;
    }

    bool operator==(const ComputeSpec&) const = default;
};

/// What a kernel handed a spec with scaledStorage says (the entry point should have quantised and passed elementwise()).
inline constexpr const char* kScaledStorageNotApplied =
    "scaled storage quantises whole operands along their reduction axis before a kernel runs; this path was "
    "handed the spec itself";

/// What a vector engine says of a spec with an accumulator model (numeric/modelled_dot.hpp computes those).
inline constexpr const char* kAccumulatorModelled =
    "an accumulator model's sums run on the modelled dot product (numeric::ModelledDot), not on these lanes";

/// Quantise an operand to the spec's scaled storage format along its reduction axis (nothing to do
/// without one). Every entry point that runs an emulated spec calls this on each operand it stores, then
/// hands the kernels spec.elementwise().
void quantizeOperand(const ComputeSpec& spec, std::span<double> values, ReductionLines lines);
void quantizeOperand(const ComputeSpec& spec, std::span<float> values, ReductionLines lines);

/// A named compute specification that models a real unit, with the source of its parameters.
struct ComputeSpecPreset {
    std::string name;
    std::string spec;    ///< its spelling without the name, e.g. "fp16/fp64/fp32:acc=tc4x24"
    std::string source;  ///< where its parameters come from
};
const std::vector<ComputeSpecPreset>& computeSpecPresets();

/// Parse a compute specification (grammar above). Throws std::invalid_argument (FormatError for a
/// bad format name) naming the offending part.
ComputeSpec parseComputeSpec(std::string_view text);
/// The canonical name: parseComputeSpec(computeSpecName(s)) == s.
std::string computeSpecName(const ComputeSpec& spec);

}  // namespace ks::numeric
