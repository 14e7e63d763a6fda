#pragma once
// Part 3 of the assignment, done properly: the reconstruction error of each convolution or
// matrix-multiply method as the number format narrows, every intermediate rounded as a kernel in
// that format would (not merely the inputs cast), against a double-precision direct reference.
//
// Table columns (stable; documented in README.md):
//   operation, method, family, format, status         labels
//   position      the slider's value in the family (mantissa bits, word bits, LNS fraction bits); for a list of
//                 compute specifications (PrecisionSweep::specs), its index, and `format` is the spec's name
//   bits          the format's total width in bits (a scaled format: per element, its scales' share included)
//   rel_error_median, rel_error_p10, rel_error_p90    relative Frobenius error over the trials
//   max_abs_error_median, mean_abs_error_median
//   nonfinite     outputs that were inf/NaN, summed over the trials
//   trials
// A method that cannot run a point has status = the reason and NaN errors; others have "ok".
#include <cstdint>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include "base/progress.hpp"
#include "base/tensor.hpp"
#include "conv/conv_problem.hpp"
#include "numeric/compute_spec.hpp"
#include "numeric/format.hpp"
#include "numeric/format_family.hpp"
#include "study/chart_spec.hpp"
#include "study/inputs.hpp"
#include "study/operation.hpp"
#include "study/shard.hpp"
#include "study/table.hpp"

namespace ks::study {

enum class Accumulation {
    InFormat,  ///< every stage in the swept format ("everything in bf16")
    Fp32,      ///< storage and products in the format, accumulation in fp32 (tensor-core style)
};

/// The compute specification of a format with an accumulation choice: every stage in the format, or
/// storage and products in it and sums in fp32.
numeric::ComputeSpec computeSpecFor(const numeric::Format& format, Accumulation accumulation,
                                    numeric::Rounding rounding = numeric::Rounding::NearestEven);

struct PrecisionSweep {
    Operation operation = Operation::Conv;
    std::vector<std::string> methods;  ///< registry names; empty: every method of the operation
    std::string family = "e5";         ///< numeric::standardFamily id
    /// When not empty, the sweep's points are these specifications instead of a family's positions (family is
    /// then "specs", positions 0, 1, … in this order): MX against element-wise formats, accumulator presets.
    std::vector<numeric::ComputeSpec> specs;
    int firstPosition = -1;            ///< -1: the family's first
    int lastPosition = -1;             ///< -1: the family's last
    Accumulation accumulation = Accumulation::InFormat;
    numeric::Rounding rounding = numeric::Rounding::NearestEven;
    /// A block-scaled family's blocks: on the operands, or on Winograd's and the FFT's transformed tiles.
    numeric::ScalePlacement scalePlacement = numeric::ScalePlacement::Operands;
    Distribution distribution = Distribution::Uniform;
    int trials = 3;
    std::uint64_t seed = 1;
    conv::ConvProblem conv = conv::ConvProblem::layer(1, 16, 20, 20, 4, 3);
    std::int64_t m = 32, k = 64, n = 32;  ///< matmul: (m×k)·(k×n)
    int threads = 0;                      ///< 0: ks::threadCount()
    /// The emulation engine (the same results; the reference is the scalar EmulatedArithmetic).
    numeric::EmulationEngine engine = numeric::EmulationEngine::Fast;
    /// The slice of the points (methods × positions, in that order) to run; the rows of the slices, joined in
    /// shard order, are the whole sweep's.
    Shard shard;

    /// Sets the convolution layer and the matrix product that computes it (im2col's GEMM: the K×C·R·S
    /// weights times the C·R·S×P·Q patches, per image), so that both operations sum the same number of terms.
    void setLayer(const conv::ConvProblem& layer);
    ProblemShapes shapes() const { return {conv, m, k, n}; }
    /// The compute specification the sweep uses for a format.
    numeric::ComputeSpec specFor(const numeric::Format& format) const;
    /// The family's id, or "specs" for a list.
    std::string familyId() const { return specs.empty() ? family : "specs"; }
    /// A key that identifies the sweep's results (for caches).
    std::string key() const;
    /// Its parameters in words, for captions: arithmetic, rounding, inputs, trials, seed, the layer or product.
    std::string describe() const;
};

/// Why the precision study cannot sweep a format, or nothing: a per-tensor integer format has no scale
/// for the intermediates (sweep such formats with a fixed scale, or in the network study).
std::optional<std::string> precisionRefusal(const numeric::Format& format);
/// The standard families whose formats the study can sweep (the GUI's and the CLI's choices).
std::vector<const numeric::FormatFamily*> precisionFamilies();

/// What a family's slider walks: a standard format family (numeric/format_family.hpp), or a block-scaled one (an MX
/// name or nvfp4, e.g. "mxfp4"), whose position p is the block size 2^p along the reduction axis (sums in fp32: the
/// sweep's accumulation choice does not apply; its rounding mode applies to products and sums).
struct PrecisionFamily {
    std::string id, label;
    int first = 0, last = 0, defaultPosition = 0;
    std::string positionLabel;  ///< the x axis: "mantissa bits", "log2 block size", …
    std::vector<numeric::FormatFamily::Preset> presets;
    bool blockScaled = false;
};
/// The standard families the study sweeps (precisionFamilies()), then the block-scaled ones.
const std::vector<PrecisionFamily>& precisionFamilyChoices();
/// One by id (a standard family the study refuses too: its points then say why); std::invalid_argument listing the
/// ids otherwise.
PrecisionFamily precisionFamily(std::string_view id);
/// "<b>…</b>"-free one-line name and description of a family's position: "e5m10 (fp16): …", "mxfp4@block16: …".
std::string describeFamilyPosition(std::string_view familyId, int position);

/// Real layers to study (PrecisionSweep::setLayer), beside a size of one's own.
struct LayerPreset {
    std::string name;  ///< "ResNet 3×3, 64×56×56 → 64"
    conv::ConvProblem layer;
};
/// ResNet-style 3×3 layers (64×56×56, 128×28×28, 256×14×14, "same" padding), the digit CNN's two conv
/// layers, and the digit MLP's fc1 as a 1×1 layer on one sample (its matrix product is fc1's).
const std::vector<LayerPreset>& precisionLayerPresets();

/// Run the sweep; progress in (method × position) steps, Cancelled when asked to stop.
/// Throws std::invalid_argument for an unknown method, family or impossible shape.
Table runPrecisionSweep(const PrecisionSweep& sweep, const Progress& progress = {});

/// The chart of a sweep's table: error vs position per method, presets marked, the reference
/// method highlighted. The GUI and the CLI draw the same spec.
ChartSpec precisionChart(const PrecisionSweep& sweep, std::optional<int> currentPosition = std::nullopt);

/// One point of a sweep in detail, for pictures: the first trial's input, the method's output at
/// the format, the reference output, and the element-wise error. For conv: first image, first
/// channel / output channel; for matmul: the matrices.
struct PrecisionSnapshot {
    TensorD input;      ///< H×W (conv) or m×k (matmul)
    TensorD output;     ///< P×Q or m×n
    TensorD reference;  ///< same shape as output
    TensorD error;      ///< output − reference
    std::string status = "ok";
};
PrecisionSnapshot precisionSnapshot(const PrecisionSweep& sweep, const std::string& method, int position);

}  // namespace ks::study
