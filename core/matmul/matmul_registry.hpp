#pragma once
// Every matmul algorithm, in a fixed order with the reference (naive) first. The CLI's --method, the
// GUI's choices, the tests (every algorithm against the reference) and the benchmarks iterate this list;
// adding one is adding a file and a line in matmul_registry.cpp.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/algorithm.hpp"
#include "matmul/matmul_algorithm.hpp"

namespace ks::matmul {

const Registry<MatmulAlgorithm>& matmulRegistry();

inline const std::vector<const MatmulAlgorithm*>& matmulAlgorithms() { return matmulRegistry().all(); }
/// By name or alias; std::invalid_argument naming the value and the valid names otherwise.
inline const MatmulAlgorithm& matmulAlgorithm(std::string_view nameOrAlias) { return matmulRegistry().find(nameOrAlias); }
inline std::vector<std::string> matmulAlgorithmNames() { return matmulRegistry().canonicalNames(); }

/// Convenience for whole tensors: checks shapes (clear error on mismatch) and runs the algorithm.
TensorF matmul(const TensorF& a, const TensorF& b, const std::string& algorithm, const MatmulOptions& options = {},
               std::optional<std::int64_t> rankA = std::nullopt, std::optional<std::int64_t> rankB = std::nullopt,
               MatmulReport* report = nullptr);

}  // namespace ks::matmul
