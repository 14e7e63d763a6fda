#pragma once
// Every matmul method, in a fixed order with the reference (naive) first. The CLI's --method, the
// tests (every method against the reference) and the benchmarks iterate this list.
#include <string>
#include <vector>

#include "matmul/matmul_method.hpp"

namespace ks::matmul {

const std::vector<const MatmulMethod*>& matmulMethods();
/// The method of that name; std::invalid_argument naming the value and the known names otherwise.
const MatmulMethod& matmulMethod(const std::string& name);
std::vector<std::string> matmulMethodNames();

/// Convenience for whole tensors: checks shapes (clear error on mismatch) and runs the method.
TensorF matmul(const TensorF& a, const TensorF& b, const std::string& method, const MatmulOptions& options = {},
               std::optional<std::int64_t> rankA = std::nullopt, std::optional<std::int64_t> rankB = std::nullopt,
               MatmulReport* report = nullptr);

}  // namespace ks::matmul
