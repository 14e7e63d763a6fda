#pragma once
// Runtime: every algorithm of an operation timed on one shape, like cuDNN's
// cudnnFindConvolutionForwardAlgorithm, and runtime vs problem size per algorithm. How each
// operation times an algorithm is its own (study/conv_operation.cpp, study/matmul_operation.cpp).
//
// Find table columns (stable; one row per registry algorithm, fastest first, unsupported last):
//   operation, algorithm, status, note   labels; status is "ok" or why the algorithm did not run
//                                         (cannot run the shape, or would take too long: see
//                                         RuntimeFind::maxElementwiseMacs); note: rank, LNS format
//   index            0, 1, ... in the table's order (the x of the time-per-algorithm chart)
//   median_ms        median wall time of one call (ks::measure), float32 fast path
//   min_ms, max_ms   the fastest and the slowest of the repeats (the spread the chart's whiskers show)
//   gflops           effective GFLOP/s: the direct definition's FLOPs (conv 2·N·K·C·P·Q·R·S,
//                    matmul 2·M·K·N) over the median time, as cuDNN and oneDNN rate Winograd, FFT
//                    and low-rank products
//   workspace_bytes  scratch memory beyond operands and result
//   max_abs_error    float32 output against the double-precision reference, data uniform[−1, 1]
// Unsupported rows have NaN in the numeric columns.
//
// Scaling table columns: operation, algorithm, status (labels); size (image side or matrix side),
// median_ms, gflops (as above). Only algorithms that ran at a size have a row with status "ok";
// skipped ones have a row with NaN times and the reason.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/progress.hpp"
#include "base/timing.hpp"
#include "conv/conv_problem.hpp"
#include "numeric/format.hpp"
#include "study/chart_spec.hpp"
#include "study/operation.hpp"
#include "study/table.hpp"

namespace ks::study {

struct RuntimeFind {
    Operation operation = Operation::Conv;
    std::vector<std::string> algorithms;  ///< registry names or aliases; empty: every algorithm
    conv::ConvProblem conv = conv::ConvProblem::single(128, 128, 3, 3);
    std::int64_t m = 256, k = 256, n = 256;  ///< matmul: (m×k)·(k×n)
    /// svd: rank of B's factorisation (made once, not timed, as for a layer's weights); 0 = B exactly.
    std::int64_t svdRank = 32;
    /// The LNS format of the log-domain methods (log, lns-sequential, lns-binned): lns16.10 by default.
    numeric::Format logFormat = numeric::Format::logarithmic(5, 10);
    /// naive, log and lns-* compute element by element (lns-sequential: ~50–100 ns per multiply-add,
    /// measured seconds at 256³): above this many multiply-adds they are skipped with the reason
    /// instead of keeping the user waiting. The default lets them run up to about 100³.
    double maxElementwiseMacs = 1 << 20;
    /// Timing per algorithm. Small by default so that the GUI's first answer comes within a second or so;
    /// the CLI's `bench` commands measure longer.
    TimingOptions timing{1, 3, 200, 0.05};
    std::uint64_t seed = 1;

    ProblemShapes shapes() const { return {conv, m, k, n}; }
    std::string key() const;
    /// Its parameters in words, for captions: the shape, the operands, the timing.
    std::string describe() const;
};

/// Every selected algorithm on the shape; progress per algorithm, Cancelled between algorithms.
/// std::invalid_argument for an unknown algorithm or a malformed shape.
Table runRuntimeFind(const RuntimeFind& find, const Progress& progress = {});

struct RuntimeScaling {
    RuntimeFind base;  ///< operation, algorithms, kernel (conv.R, conv.S), ranks, formats, timing
    /// conv: base's layer (batch, channels, filters, kernel, stride, padding) on s×s images; matmul: s×s times s×s.
    std::vector<std::int64_t> sizes = {32, 64, 128, 256};

    std::string key() const;
    std::string describe() const;
};

/// Median time per algorithm and size; progress per (size × algorithm), Cancelled between them.
Table runRuntimeScaling(const RuntimeScaling& scaling, const Progress& progress = {});

/// The precision-aware pick: the row of the fastest algorithm that ran with max_abs_error ≤ `tolerance`
/// (a Find table, any row order), or none. A fast method that is wrong (a low-rank product's error of 19)
/// is not "the fastest" for a user who needs the answer.
std::optional<std::size_t> fastestWithinError(const Table& find, double tolerance);

/// Time per algorithm: a horizontal bar per algorithm, fastest on top, whiskers from the fastest to the slowest
/// repeat, each algorithm in its registry colour; `find` for the title.
ChartSpec runtimeFindChart(const RuntimeFind& find);
/// Runtime vs size per algorithm, log–log.
ChartSpec runtimeScalingChart(const RuntimeScaling& scaling);

}  // namespace ks::study
