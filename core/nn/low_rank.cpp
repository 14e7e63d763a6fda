#include "nn/low_rank.hpp"

#include <algorithm>
#include <charconv>
#include <sstream>

namespace ks::nn {

ModelFactorisation::ModelFactorisation(const Model& dense) : dense_(dense) {
    for (const auto& l : dense_.layers())
        if (l.kind == LayerKind::Linear)
            factors_.emplace(l.name, matmul::LowRankFactor::truncatedSvd(
                                         std::span<const float>(l.weight.data(), static_cast<std::size_t>(l.weight.size())),
                                         l.weight.rows(), l.weight.cols(), std::nullopt));
}

const std::vector<double>& ModelFactorisation::singularValues(const std::string& layer) const {
    const auto it = factors_.find(layer);
    if (it == factors_.end()) throw ModelError("no dense layer named '" + layer + "'");
    return it->second.singularValues();
}

Model ModelFactorisation::withRanks(const std::map<std::string, std::int64_t>& ranks) const {
    for (const auto& [name, rank] : ranks) {
        if (!factors_.count(name)) {
            std::string known;
            for (const auto& [n, f] : factors_) known += (known.empty() ? "" : ", ") + n;
            throw ModelError("no Linear layer named '" + name + "' (the model has: " + known + ")");
        }
        if (rank < 1) throw ModelError(name + ": rank must be at least 1, got " + std::to_string(rank));
    }
    std::vector<Layer> layers = dense_.layers();
    for (auto& l : layers) {
        const auto it = ranks.find(l.name);
        if (it == ranks.end() || l.kind != LayerKind::Linear || it->second >= l.rank()) continue;
        const matmul::LowRankFactor& f = factors_.at(l.name);
        const std::int64_t r = it->second, full = f.rank();
        Layer low;
        low.kind = LayerKind::LowRankLinear;
        low.name = l.name;
        low.bias = l.bias;
        // f.left() is out×full (U·Σ), f.right() is full×in (Vᵀ), both row-major: keep r of each.
        low.up.resize(f.rows(), r);
        for (std::int64_t i = 0; i < f.rows(); ++i)
            for (std::int64_t k = 0; k < r; ++k) low.up(i, k) = f.left()[static_cast<std::size_t>(i * full + k)];
        low.down = Eigen::Map<const MatrixF>(f.right().data(), full, f.cols()).topRows(r);
        l = std::move(low);
    }
    return Model(std::move(layers), dense_.inputShape());
}

Model ModelFactorisation::withSharedRank(std::int64_t rank) const {
    std::map<std::string, std::int64_t> ranks;
    for (const auto& [name, f] : factors_) ranks[name] = rank;
    return withRanks(ranks);
}

std::map<std::string, std::int64_t> parseRanks(const std::string& text) {
    std::map<std::string, std::int64_t> ranks;
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ',')) {
        const auto eq = item.find('=');
        if (eq == std::string::npos || eq == 0)
            throw std::invalid_argument("rank '" + item + "': expected LAYER=RANK, e.g. fc1=16");
        const std::string name = item.substr(0, eq), value = item.substr(eq + 1);
        std::int64_t r = 0;
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), r);
        if (ec != std::errc() || end != value.data() + value.size() || value.empty() || r < 1)
            throw std::invalid_argument("rank '" + item + "': the rank must be a positive integer");
        if (ranks.count(name)) throw std::invalid_argument("rank for '" + name + "' given twice");
        ranks[name] = r;
    }
    if (ranks.empty()) throw std::invalid_argument("no ranks given (expected e.g. fc1=16,fc2=32)");
    return ranks;
}

std::int64_t rankKeepingEnergy(std::span<const double> singularValues, double share) {
    double total = 0;
    for (double s : singularValues) total += s * s;
    double kept = 0;
    for (std::size_t r = 0; r < singularValues.size(); ++r) {
        kept += singularValues[r] * singularValues[r];
        if (kept >= share * total) return std::int64_t(r + 1);
    }
    return std::max<std::int64_t>(1, std::int64_t(singularValues.size()));
}

}  // namespace ks::nn
