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
// e.g. "fp16/fp32", "bf16:sr:seed=7", "e4m3/fp16/fp32". A per-tensor integer storage format (int8)
// keeps its products exact (fp64): int8/fp32 is "int8 operands, exact products, fp32 accumulation".
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "numeric/format.hpp"
#include "numeric/rounding_mode.hpp"

namespace ks::numeric {

struct ComputeSpec {
    Format storage = Format::fp32();
    Format product = Format::fp32();
    Format accumulate = Format::fp32();
    Rounding rounding = Rounding::NearestEven;
    std::uint64_t seed = 0;  ///< for stochastic rounding
    bool native = true;      ///< plain float32 hardware arithmetic, no emulation

    static ComputeSpec nativeFloat32() { return {}; }
    /// Every stage in one format.
    static ComputeSpec uniform(const Format& f, Rounding r = Rounding::NearestEven);
    /// Storage and products in `storage`, accumulation in `accumulate` (tensor-core style).
    /// A per-tensor scaled integer storage format gets exact (fp64) products instead.
    static ComputeSpec mixed(const Format& storage, const Format& accumulate,
                             Rounding r = Rounding::NearestEven);

    bool operator==(const ComputeSpec&) const = default;
};

/// Parse a compute specification (grammar above). Throws std::invalid_argument (FormatError for a
/// bad format name) naming the offending part.
ComputeSpec parseComputeSpec(std::string_view text);
/// The canonical name: parseComputeSpec(computeSpecName(s)) == s.
std::string computeSpecName(const ComputeSpec& spec);

}  // namespace ks::numeric
