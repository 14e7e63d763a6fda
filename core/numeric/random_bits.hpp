#pragma once
// Counter-based random bits for stochastic rounding. A rounding's random bits are a function of where
// it happens, not of when: (seed, tensor, element, step), with
//   tensor   which value is being formed: an operand's store, an algorithm's output, a layer's hidden
//            product (RandomTensor; a network numbers its layers' tensors apart, randomTensor()),
//   element  the value's index in that tensor (modulo 2^32),
//   step     the operation's place in the chain that forms the value (an output's k-th product is
//            step 2k and the sum that adds it step 2k + 1; an operand's store is step 0).
// So the same rounding gets the same bits whichever thread reaches it first and however the loops are
// blocked, and the fast engine's lanes draw exactly what the reference draws (numeric/arithmetic.hpp).
//
// The bits are two rounds of a 32-bit integer hash (Chris Wellons' "lowbias32" constants, a public
// domain construction), the first over the element, the second over the step: the first round is
// the same for every step of an element, which the lane kernels compute once per register tile.
#include <cstdint>

namespace ks::numeric {

/// The random bits of one tensor: its two 32-bit keys, from the seed and the tensor's number.
struct RandomKey {
    std::uint32_t element = 0;  ///< mixed with the element index
    std::uint32_t step = 0;     ///< added to the step's multiple
};

/// Roles of the tensors an operation forms; a network's layer L uses randomTensor(L, role).
enum class RandomTensor : std::uint32_t {
    Sequential = 0,  ///< an algorithm that does not key its operations: one stream, in program order
    Input = 1,       ///< the stored input (a GEMM's A, a convolution's or a layer's input)
    Weight = 2,      ///< the stored weights (a GEMM's B)
    Bias = 3,
    Output = 4,      ///< the products and sums that form the output
    Hidden = 5,      ///< a low-rank layer's hidden product
    HiddenStore = 6, ///< its store
    Down = 7,        ///< a low-rank layer's factors
    Up = 8,
    // An algorithm's intermediate tensors (conv_winograd.cpp numbers its elements; its output is Output):
    TransformMatrices = 9,  ///< the transforms' coefficients, stored
    FilterTransform = 10,   ///< the filters' transform, both stages
    FilterStore = 11,       ///< its store
    InputTransform = 12,    ///< the input tiles' transform, both stages
    InputStore = 13,        ///< its store
    TileProducts = 14,      ///< the products of transformed tiles, summed over channels
    OutputTransform = 15,   ///< the output transform's first stage
};
inline constexpr std::uint32_t kRandomTensorRoles = 16;

/// Tensor `role` of a network's layer `layer` (0, 1, ...); the roles themselves stand for a lone operation.
constexpr std::uint32_t randomTensor(std::uint32_t layer, RandomTensor role) {
    return (layer + 1) * kRandomTensorRoles + static_cast<std::uint32_t>(role);
}
constexpr std::uint32_t randomTensor(RandomTensor role) { return static_cast<std::uint32_t>(role); }

constexpr std::uint64_t splitMix64(std::uint64_t z) {
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

constexpr RandomKey randomKey(std::uint64_t seed, std::uint32_t tensor) {
    const std::uint64_t z = splitMix64(seed ^ splitMix64(0x6B73000000000000ull + tensor));
    return {static_cast<std::uint32_t>(z), static_cast<std::uint32_t>(z >> 32)};
}

constexpr std::uint32_t mix32(std::uint32_t x) {
    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    x ^= x >> 16;
    return x;
}

inline constexpr std::uint32_t kStepMultiplier = 0x9E3779B9u;

/// The first round: the same for every step of one element.
constexpr std::uint32_t elementHash(RandomKey key, std::uint32_t element) { return mix32(element ^ key.element); }

/// The second round, given the first.
constexpr std::uint32_t stepHash(RandomKey key, std::uint32_t elementHash, std::uint32_t step) {
    return mix32(elementHash ^ (step * kStepMultiplier + key.step));
}

constexpr std::uint32_t randomBits(RandomKey key, std::uint32_t element, std::uint32_t step) {
    return stepHash(key, elementHash(key, element), step);
}

/// Stochastic rounding compares a uniform integer R < 2^kStochasticBits with the fraction of the way
/// from the lower neighbour to the upper, scaled by 2^kStochasticBits: up when R < ⌈fraction · 2^30⌉,
/// i.e. with probability fraction to within 2^-30 (never up from an exact value, always up within
/// 2^-30 of the upper neighbour). 30 bits keep every quantity of the lane kernels in int32.
inline constexpr int kStochasticBits = 30;

constexpr std::uint32_t stochasticDraw(std::uint32_t bits) { return bits >> (32 - kStochasticBits); }

/// Where one rounding happens; its draw is made only when the rounding needs it.
struct RandomSite {
    RandomKey key;
    std::uint32_t element = 0;
    std::uint32_t step = 0;
    std::uint32_t draw() const { return stochasticDraw(randomBits(key, element, step)); }
};

}  // namespace ks::numeric
