#pragma once
// Findings: short sentences written from a study's table, each quoting its numbers and naming the
// rows they came from. They are computed, never canned: a sentence whose condition the data do not
// meet (a plateau that is not there, a threshold never reached) is not written, so a table can yield
// no finding at all. The report ends each section with them and every GUI page shows them under its
// charts ("What this shows").
//
// Rows are the table's data rows counted from 1, as a spreadsheet shows the CSV under its header.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "study/table.hpp"

namespace ks::study {

struct Finding {
    std::string text;               ///< one or two sentences, numbers quoted
    std::vector<std::size_t> rows;  ///< 0-based rows of the table the numbers come from
};
using Findings = std::vector<Finding>;

/// "rows 3, 17 of precision-e5.csv" (1-based), or "" when the finding names no row.
std::string findingSource(const Finding& finding, const std::string& csvName);

/// The same findings citing the rows of `target` that hold the same value of the numeric column `key` as the rows they
/// cite in `source` (a chart's long-form table drawn from the table the findings were written from).
Findings citingRowsOf(const Findings& findings, const Table& source, const Table& target, const std::string& key);

/// Precision sweep (runPrecisionSweep's table): at each named format of the family (fp16, bf16, e4m3,
/// …) how many bits each method loses or gains against `referenceMethod` (log2 of the error ratio);
/// from which position a method's error stops falling; how fast the reference's error falls per bit;
/// where a method overflowed or could not run.
Findings precisionFindings(const Table& sweep, const std::string& referenceMethod);

/// A matrix's shape, to explain where a spectrum ends.
struct MatrixShape {
    std::string input;
    std::int64_t rows = 0, cols = 0;
};
/// Rank study (rankErrorTable with every rank): the rank at which each input keeps 90 % and 99 % of its
/// energy, which input needs the smallest and the largest share of its rank, and why a spectrum ends
/// early (its matrix's narrow side; needs `shapes`).
Findings rankFindings(const Table& rankErrors, const std::vector<MatrixShape>& shapes = {});

/// Speed-up sweep (columns rank, flop_model_speedup, measured_speedup): the FLOP model's and the
/// measured break-even ranks, and the share of the model's speed-up the factored product reaches.
/// `flopBreakEvenRank` is k·n / (k + n) of the product.
Findings speedupFindings(const Table& speedup, double flopBreakEvenRank);

/// Compression sweep (CompressionStudy::run's table): the smallest network whose accuracy stays within
/// `tolerancePoints` percentage points of the "dense" row and its measured speed-up; the Pareto front.
Findings compressionFindings(const Table& sweep, double tolerancePoints = 0.5);

/// The low-rank layers' efficiency (CompressionStudy::run's table): for each timed setting that does fewer FLOPs
/// than dense, the measured speed-up (dense time / its time) as a share of the FLOP model's (1 / flop_ratio).
Findings lowRankEfficiencyFindings(const Table& sweep);

/// Runtime find (runRuntimeFind's table): each algorithm's speed against `baseline` (the one a user runs by
/// default), and algorithms whose repeats spread so widely (slowest − fastest above half the median) that their
/// place in the order is uncertain.
Findings runtimeFindings(const Table& find, const std::string& baseline);

/// Log accumulation (LnsResult::byFractionBits): binned accumulation against sequential LNS addition and
/// against linear (float32) accumulation, at each fraction width, by their accumulation error alone.
Findings lnsFindings(const Table& byFractionBits);

/// A precision sweep over listed specifications (family "specs"): for `method`, each scaled storage format (MX, NVFP4,
/// F@…) against the element-wise format of its element width in the same table (bits = its bits rounded down), as the
/// ratio of their median errors. Formats without such a partner, or without finite errors, are left out.
Findings scaledFormatFindings(const Table& sweep, const std::string& method);
/// A precision table over listed specs holding S and S:scales=tiles: for each S, every method whose error the placement
/// changes (those that transform their operands), its error with the blocks on the transformed tiles as a multiple of
/// its error with them on the operands.
Findings scalePlacementFindings(const Table& precisionTable);

/// Accumulation sweep (runAccumulationSweep's table, swept over `axisLabel`): over accumulator bits, the fewest bits at
/// which each model's median error is at most 0.1 % and stays there (or that it never is); over another parameter,
/// each model's error at the first and the last value.
Findings accumulationFindings(const Table& sweep, const std::string& axisLabel);
/// Binned log-domain sums vs accumulator width (LnsResult::byAccumulatorBits): for each variant, the narrowest width
/// from which its error stays within 10 % of its error at the widest one.
Findings binnedWidthFindings(const Table& byAccumulatorBits);
/// Swamping (runSwamping's table): a model whose running sum's error after all products is ten times or more its
/// largest over the first 32.
Findings swampingFindings(const Table& swamping);
/// The network under listed specifications (specAccuracySweep's table): the loss of each against fp32 (or the first
/// row) where it is half a point or more, else that every one stays within it.
Findings specAccuracyFindings(const Table& accuracy);

}  // namespace ks::study
