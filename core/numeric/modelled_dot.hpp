#pragma once
// Dot products under a compute specification's accumulator model (numeric/accumulator_model.hpp): the one
// implementation every kernel calls when spec.accumulation is not plain (the matrix products naive and dense, the
// convolutions direct and im2col, the network's layers). Scalar, in double, on operands already stored; without a
// random stream, so copies are interchangeable and threads may share one.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "numeric/compute_spec.hpp"
#include "numeric/round.hpp"

namespace ks::numeric {

/// Why `spec`'s accumulator model cannot be computed, or nothing (also nothing for a plain model).
std::optional<std::string> accumulatorRefusal(const ComputeSpec& spec);

class ModelledDot {
public:
    /// std::invalid_argument with accumulatorRefusal's reason.
    explicit ModelledDot(const ComputeSpec& spec);

    /// initial + Σ_i a[i·strideA] · b[i·strideB] for i < count, the initial value the first term (numeric/
    /// accumulator_model.hpp), every product rounded to the product format.
    double operator()(double initial, const double* a, std::ptrdiff_t strideA, const double* b, std::ptrdiff_t strideB,
                      std::int64_t count) const;

    /// Up to kLanes dot products side by side, each bit for bit operator()'s:
    ///   out[l] = (*this)(initial[l], a + l·laneA, strideA, b + l·laneB, strideB, count), l < lanes.
    /// The tensor-core model (the presets' sums) runs its alignment on all lanes at once; a lane whose group holds a
    /// non-finite value, only zeros or magnitudes near double's underflow takes the scalar step for that group. The
    /// other orders call operator() per lane.
    static constexpr int kLanes = 8;
    void lanes(const double* initial, const double* a, std::ptrdiff_t laneA, std::ptrdiff_t strideA, const double* b,
               std::ptrdiff_t laneB, std::ptrdiff_t strideB, std::int64_t count, double* out, int lanes) const;

    /// One tensor-core step: the running sum `c` and `products` aligned to the largest exponent among them, each
    /// truncated toward zero to `alignedBits` bits below it, added exactly, then truncated into `normalise`'s
    /// format (a Rounder toward zero). Non-finite terms give their IEEE sum.
    static double tensorCoreStep(double c, std::span<const double> products, int alignedBits, const Rounder& normalise);

    const ComputeSpec& spec() const { return spec_; }

private:
    double reduce(double initial, std::span<double> products) const;
    /// One tensor-core step on all lanes: c[l] with the n products products[i·kLanes + l], when the group's integer
    /// sum fits 53 bits; lanes whose terms leave plain double scaling take tensorCoreStep (`terms`: scratch).
    void vectorStep(double* c, const double* products, int n, int lanes, int bits, std::vector<double>& terms) const;

    ComputeSpec spec_;  ///< with a plain accumulation: the element-wise arithmetic of products and sums
    AccumulatorModel model_;
    Rounder product_, accumulate_, truncate_, float32_;
    /// truncate_ where it is a mask: a double of magnitude in [truncateLow_, truncateHigh_] (the accumulation format's
    /// normal range) rounds toward zero by clearing the low bits truncateMask_ keeps clear.
    std::uint64_t truncateMask_ = ~std::uint64_t(0);
    double truncateLow_ = 0, truncateHigh_ = -1;
};

}  // namespace ks::numeric
