#pragma once
// Where Winograd's roundings draw their random bits under stochastic rounding (numeric/random_bits.hpp): the
// element numbers of its intermediate tensors, written once for the reference (conv_winograd.cpp) and the float32
// lanes (winograd_lanes.cpp), which must name the same sites. Tiles (or filters) are the fastest index, so that the
// reference's blocks of 8 and the lanes' blocks of 16 number their lanes alike: lane l of a block adds l.
// Within a row of a transform stage, the e-th non-zero entry multiplies at step 2e and adds at 2e + 1.
#include <cstdint>

namespace ks::conv::winograd_sites {

/// The transform matrices' stores (RandomTensor::TransformMatrices): entry (i, j) of G at i·cols + j, of Bᵀ that
/// plus kMatrixElements, of Aᵀ plus 2·kMatrixElements (α ≤ 16).
inline constexpr std::uint64_t kMatrixElements = 256;
inline constexpr std::uint64_t kG = 0, kBT = kMatrixElements, kAT = 2 * kMatrixElements;

/// One block's first lane in a sandwich's two stages: stage 1's (i, b) at first + i·firstRow + b·column, stage 2's
/// (i, j) at second + i·secondGroup + j·secondRow.
struct Stages {
    std::uint64_t first, firstRow, column;
    std::uint64_t second, secondGroup, secondRow;
};

/// Filter kc of KC (RandomTensor::FilterTransform): (i, b) at (i·3 + b)·KC + kc, then (i, j) at α·3·KC + (i·α + j)·KC + kc.
constexpr Stages filter(std::uint64_t kc, std::uint64_t KC, std::uint64_t alpha) {
    return {kc, 3 * KC, KC, alpha * 3 * KC + kc, alpha * KC, KC};
}
/// U[ξ][kc]'s store (RandomTensor::FilterStore).
constexpr std::uint64_t filterStore(std::uint64_t xi, std::uint64_t kc, std::uint64_t KC) { return xi * KC + kc; }

/// Tile t of T (all images) in channel c of C (RandomTensor::InputTransform): (i, b) at ((c·α + i)·α + b)·T + t, then
/// (i, j) at C·α²·T + ((c·α + i)·α + j)·T + t.
constexpr Stages input(std::uint64_t c, std::uint64_t t, std::uint64_t C, std::uint64_t T, std::uint64_t alpha) {
    const std::uint64_t channel = c * alpha * alpha * T;
    return {channel + t, alpha * T, T, C * alpha * alpha * T + channel + t, alpha * T, T};
}
/// V[ξ][c][t]'s store (RandomTensor::InputStore).
constexpr std::uint64_t inputStore(std::uint64_t xi, std::uint64_t c, std::uint64_t t, std::uint64_t C, std::uint64_t T) {
    return (xi * C + c) * T + t;
}

/// M[ξ][k][t] (RandomTensor::TileProducts), its c-th product at step 2c.
constexpr std::uint64_t tileProduct(std::uint64_t xi, std::uint64_t k, std::uint64_t t, std::uint64_t K, std::uint64_t T) {
    return (xi * K + k) * T + t;
}

/// Tile t of output channel k: (i, b) at ((k·m + i)·α + b)·T + t (RandomTensor::OutputTransform), then (i, j) at
/// ((k·m + i)·m + j)·T + t (RandomTensor::Output), where the bias is added after the row's products and sums.
constexpr Stages output(std::uint64_t k, std::uint64_t t, std::uint64_t T, std::uint64_t alpha, std::uint64_t m) {
    return {k * m * alpha * T + t, alpha * T, T, k * m * m * T + t, m * T, T};
}

}  // namespace ks::conv::winograd_sites
