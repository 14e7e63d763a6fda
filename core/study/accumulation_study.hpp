#pragma once
// The accumulation stage on its own (the seed's part 6 and issue 18's accumulator models): dot products of stored
// operands whose products are exact, summed under each accumulator model (numeric/accumulator_model.hpp), against the
// double-precision sum of the same products. The error is the accumulation's alone, not the operands' storage.
//
// Models (the `model` column; each a compute spec with exact products and sums in e8m(B−1), B the accumulator's
// significant bits, 24 = float32):
//   sequential            ((p_1 + p_2) + p_3) + …, each sum rounded to nearest
//   pairwise, blocked, kahan
//   tensor core           groups of `groupSize` products aligned with the running sum to B bits, truncated (Fasi et al.)
//   tensor core, promoted the same, the partial sums added into float32 every `promoteEvery` products (DeepSeek-V3)
//
// Tables (stable columns):
//   sweep:     x (the swept parameter's value), rel_error_median, rel_error_p10, rel_error_p90 (over the dot products,
//              |S̃ − S| / |S|), dots; labels model, spec (the compute spec's name)
//   swamping:  k (products summed so far), rel_error (|S̃_k − S_k| / |S_k| of one dot product's running sum); label model
#include <cstdint>
#include <string>
#include <vector>

#include "base/progress.hpp"
#include "numeric/compute_spec.hpp"
#include "study/chart_spec.hpp"
#include "study/shard.hpp"
#include "study/table.hpp"

namespace ks::study {

enum class AccumulationAxis { AccumulatorBits, Length, GroupSize, PromoteInterval };

/// "accumulator bits", "length", "group size", "promotion interval".
std::string accumulationAxisLabel(AccumulationAxis axis);
/// Every model the study knows, in its colour order.
const std::vector<std::string>& accumulationModels();

struct AccumulationSweep {
    std::string operand = "fp16";  ///< the operands' storage format: element-wise (fp16, e4m3) or scaled (mxfp8, nvfp4)
    AccumulationAxis axis = AccumulationAxis::AccumulatorBits;
    std::vector<int> values;       ///< the axis's values; empty: defaultValues()
    int accumulatorBits = 14;      ///< when not swept: B, the accumulator's significant bits (3…24)
    int length = 4096;             ///< when not swept: K, the products per dot product
    int groupSize = 4;             ///< when not swept: the tensor-core models' group
    int promoteEvery = 128;        ///< when not swept: the promoted model's interval
    int blockSize = 32;            ///< the blocked model's partial sums
    std::vector<std::string> models = accumulationModels();
    bool positive = true;          ///< operands in [0, 1) (the sum only grows: swamping) or in [−1, 1)
    int dots = 64;                 ///< dot products per point
    std::uint64_t seed = 1;
    Shard shard;                   ///< the slice of the points (models × values, in that order) to run; not swamping's

    std::vector<int> defaultValues() const;
    std::vector<int> sweptValues() const { return values.empty() ? defaultValues() : values; }
    /// The compute spec of a model where the swept parameter is `x`.
    numeric::ComputeSpec specFor(const std::string& model, int x) const;
    std::string key() const;
    /// Its parameters in words, for captions (`oneDot`: of the swamping picture, the first dot product alone).
    std::string describe(bool oneDot = false) const;
};

/// std::invalid_argument naming a bad parameter (an unknown model or operand format, bits outside 3…24, a length
/// below 1); progress per point, Cancelled between points.
Table runAccumulationSweep(const AccumulationSweep& sweep, const Progress& progress = {});
/// Error vs the swept parameter, one line per model.
ChartSpec accumulationChart(const AccumulationSweep& sweep);
/// One dot product of the sweep's fixed parameters, its running sum's error after k products (k on a log scale).
Table runSwamping(const AccumulationSweep& sweep, const Progress& progress = {});
ChartSpec swampingChart(const AccumulationSweep& sweep);

}  // namespace ks::study
