#pragma once
// Small pieces shared by the algorithm files (internal to core/conv).
#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "conv/conv_algorithm.hpp"

namespace ks::conv::detail {

/// acc + a·b. On the hardware this is one fused multiply-add, as every AVX2/AVX-512 kernel does;
/// emulated, the product is rounded to the product format and the sum to the accumulator format
/// (two roundings, so "fp16 products, fp32 accumulation" is modelled exactly).
template <numeric::Arithmetic Arith, class V>
inline V multiplyAdd(Arith& arith, V a, V b, V acc) {
    if constexpr (Arith::emulated)
        return arith.add(acc, arith.mul(a, b));
    else
        return std::fma(a, b, acc);
}

/// The sites of a convolution's output (RandomTensor::Output): element `element` of the output tensor,
/// its term t = (c·R + r)·S + s (the product step 2t, the sum step 2t + 1), the bias after them all.
inline std::uint32_t productStep(std::int64_t term) { return static_cast<std::uint32_t>(2 * term); }

/// The stored operands (input, weights, bias) in the storage format: a rounded copy when emulating
/// (element i at random site (tensor, i)), the data itself otherwise.
template <numeric::Arithmetic Arith, class V>
const V* storeOperands(Arith& arith, const V* data, std::int64_t count, std::vector<V>& buffer,
                       numeric::RandomTensor tensor) {
    if constexpr (!Arith::emulated) {
        (void)arith;
        (void)count;
        (void)buffer;
        return data;
    } else {
        if (!data) return nullptr;
        buffer.resize(static_cast<std::size_t>(count));
        for (std::int64_t i = 0; i < count; ++i) {
            arith.at(numeric::randomTensor(tensor), static_cast<std::uint64_t>(i), 0);
            buffer[static_cast<std::size_t>(i)] = arith.store(data[i]);
        }
        return buffer.data();
    }
}

/// direct's and im2col's emulated run under a non-plain accumulator model (conv_modelled.cpp): each output the
/// numeric::ModelledDot of its filter and its zero-padded patch over (c, r, s), then the bias.
/// `fast`: eight output pixels side by side (numeric::ModelledDot::lanes); otherwise one at a time.
void modelledConv(const ConvProblem& problem, const numeric::ComputeSpec& spec, const double* input, const double* weight,
                  const double* bias, double* output, bool fast);

/// A plan that keeps a copy of the weights and runs a generic kernel on them.
template <class Kernel>
class CopiedWeightsPlan final : public ConvPlan {
public:
    CopiedWeightsPlan(const ConvProblem& problem, const float* weight, Kernel kernel)
        : problem_(problem), weight_(weight, weight + problem.weightCount()), kernel_(std::move(kernel)) {}
    void execute(const float* input, const float* bias, float* output) override {
        kernel_(problem_, input, weight_.data(), bias, output);
    }

private:
    ConvProblem problem_;
    std::vector<float> weight_;
    Kernel kernel_;
};

inline std::int64_t ceilDiv(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

}  // namespace ks::conv::detail
