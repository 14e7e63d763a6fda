#pragma once
// Log accumulation (the assignment's extra credit): how much error each way of adding log-domain
// products makes, as the LNS fraction bits and the accumulator width vary. Two references separate
// the two sources of error:
//   exact      Σ a·b of the unquantised operands (quantisation + accumulation error)
//   quantised  Σ of the exactly represented products of the quantised operands (accumulation alone)
// Variants (the `method` column):
//   quantised                 the exact sum of the quantised products (the quantisation floor)
//   log                       products converted back, summed in float32 (the assignment's logmatmul)
//   lns-sequential-exact|-table|-mitchell   Gaussian-logarithm addition rounded after every addition
//   lns-binned-exact          NVIDIA's binned accumulation, exact table constants
//   lns-binned-bB             the same with B-bit constants (B = LnsSweep::constantBits)
//   ...-convert               the binned sum converted back to the LNS format (nearest)
//
// Table columns (stable; one row per method and swept value):
//   sweep, method                        labels: sweep is "fraction_bits" or "accumulator_bits"
//   fraction_bits, accumulator_bits, accumulator_lsb, constant_bits (0 = exact), length, outputs
//   rel_error_exact       ‖S̃ − S‖₂ / ‖S‖₂ over every output of every trial, S the exact sums
//   rel_error_quantised   the same against the exact sums of the quantised products
//   rel_error_exact_median, rel_error_quantised_median   median over outputs of |S̃ − S| / |S|
//   accumulator_overflows, accumulator_underflows          binned only: range events, summed
// `outputs` is the number of dot products behind each figure (trials × M × N).
#include <cstdint>
#include <string>
#include <vector>

#include "base/progress.hpp"
#include "study/chart_spec.hpp"
#include "study/inputs.hpp"
#include "study/shard.hpp"
#include "study/table.hpp"

namespace ks::study {

struct LnsSweep {
    std::vector<int> fractionBits = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    /// Accumulator widths for the second sweep (binned variants only), at `widthSweepFractionBits`.
    /// The accumulator's top bit is fixed just above the largest possible sum; a narrower accumulator
    /// moves its LSB up, so small products are lost (counted as underflows).
    std::vector<int> accumulatorBits = {4, 6, 8, 10, 12, 14, 16, 20, 24, 32};
    int widthSweepFractionBits = 3;
    int integerBits = 5;   ///< of the LNS format: log2|x| in [−16, 16)
    int constantBits = 8;  ///< the b-bit constant variant
    /// Table policy: the difference is looked up at (fraction bits − this) bits of resolution.
    int tableDropBits = 2;
    std::int64_t m = 1, length = 256, n = 1;  ///< (m×length)·(length×n); m = n = 1: dot products
    int trials = 100;
    Distribution distribution = Distribution::Normal;
    std::uint64_t seed = 1;
    /// The slice of the points (the fraction bits, then the accumulator widths, in list order) to run.
    Shard shard;

    std::string key() const;
    /// Its parameters in words, for captions.
    std::string describe() const;
};

/// Two tables: errors vs fraction bits (every variant) and vs accumulator width (binned variants).
struct LnsResult {
    Table byFractionBits;
    Table byAccumulatorBits;
};

/// std::invalid_argument for a bad parameter (named); progress per swept value, Cancelled between.
LnsResult runLnsSweep(const LnsSweep& sweep, const Progress& progress = {});

/// Error vs fraction bits per method; `reference` is "exact" or "quantised".
ChartSpec lnsFractionChart(const LnsSweep& sweep, const std::string& reference = "exact");
/// Error vs accumulator width per binned variant (against the exact sums).
ChartSpec lnsAccumulatorChart(const LnsSweep& sweep);

}  // namespace ks::study
