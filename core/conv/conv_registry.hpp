#pragma once
// Every convolution algorithm, in a fixed order with the reference (direct) first. The GUI's
// choices, the CLI's --algo, the tests and the benchmarks all iterate this list; adding an
// algorithm is adding a file and a line in conv_registry.cpp.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/algorithm.hpp"
#include "conv/conv_algorithm.hpp"

namespace ks::conv {

/// The registry: direct first. The objects live for the whole program.
const Registry<ConvAlgorithm>& convRegistry();

/// All algorithms, direct first.
inline const std::vector<const ConvAlgorithm*>& convAlgorithms() { return convRegistry().all(); }
/// By name or alias (case-sensitive); std::invalid_argument listing the valid names otherwise.
inline const ConvAlgorithm& convAlgorithm(std::string_view nameOrAlias) { return convRegistry().find(nameOrAlias); }
/// "direct (naive), im2col, winograd-2x2 (winograd), ..." for messages and --help.
inline std::string convAlgorithmNames() { return convRegistry().names(); }

// Factories, one per algorithm file.
std::unique_ptr<ConvAlgorithm> makeDirectConv();
std::unique_ptr<ConvAlgorithm> makeIm2colConv();
/// Winograd F(m×m, 3×3), m = outputTile; interpolation points selectable (empty = the defaults).
std::unique_ptr<ConvAlgorithm> makeWinogradConv(int outputTile, std::vector<double> finitePoints = {});
std::unique_ptr<ConvAlgorithm> makeFftConv();

}  // namespace ks::conv
