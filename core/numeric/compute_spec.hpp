#pragma once
// Which format each stage of a kernel works in: stored operands (inputs and transformed tiles),
// products, and accumulators. "fp16 multiply, fp32 accumulate" and "everything in bf16" are both one.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "numeric/format.hpp"
#include "numeric/rounding.hpp"

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
    static ComputeSpec mixed(const Format& storage, const Format& accumulate,
                             Rounding r = Rounding::NearestEven);

    bool operator==(const ComputeSpec&) const = default;
};

}  // namespace ks::numeric
