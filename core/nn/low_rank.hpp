#pragma once
// Low-rank versions of a trained network: each Linear layer's W (out×in) is factored once by an
// exact SVD (core/matmul's LowRankFactor), then truncated to any rank without refactoring:
//   W ≈ U_r·Σ_r·V_rᵀ  →  LowRankLinear with down = V_rᵀ (r×in) and up = U_r·Σ_r (out×r).
// Σ is folded into `up`, so the layer is two GEMMs instead of three.
#include <cstdint>
#include <map>
#include <span>
#include <string>

#include "matmul/low_rank_factor.hpp"
#include "nn/model.hpp"

namespace ks::nn {

class ModelFactorisation {
public:
    /// Factors every Linear layer of `dense` (LowRankLinear layers are kept as they are).
    explicit ModelFactorisation(const Model& dense);

    /// Layers named in `ranks` become rank-r layers; a rank ≥ min(in, out) keeps the layer dense
    /// (exact, and no factored form can be cheaper). Unknown names or ranks < 1: ModelError.
    Model withRanks(const std::map<std::string, std::int64_t>& ranks) const;
    /// The same rank for every Linear layer (each capped as above).
    Model withSharedRank(std::int64_t rank) const;

    const Model& dense() const { return dense_; }
    /// All singular values of a layer's weight, largest first.
    const std::vector<double>& singularValues(const std::string& layer) const;

private:
    Model dense_;
    std::map<std::string, matmul::LowRankFactor> factors_;
};

/// The smallest rank r ≥ 1 whose leading singular values keep at least `share` of the energy Σσ² (σ sorted, largest
/// first; all of them when they never do, 1 for none or all zero): the kept-energy sweep's ranks, the layer table's.
std::int64_t rankKeepingEnergy(std::span<const double> singularValues, double share);

/// "fc1=16,fc2=32" → {{"fc1", 16}, {"fc2", 32}}; std::invalid_argument naming the bad part.
std::map<std::string, std::int64_t> parseRanks(const std::string& text);

}  // namespace ks::nn
