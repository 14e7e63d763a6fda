#pragma once
// Part 4 of the assignment: how well a matrix is approximated by a rank-r one, and what the
// factored form saves in a product.
//
// One exact SVD per input (A = U·Σ·Vᵀ, Eckart–Young): the best rank-r approximation A_r keeps the
// r largest singular values, and its error is the tail ‖A − A_r‖_F = sqrt(Σ_{i>r} σ_i²), so every
// rank's error, the spectrum and the energy kept come from that one decomposition.
//
// Tables (stable CSV columns; documented in README.md):
//   rank error      input (label), rank, frobenius_error, relative_error (= frobenius_error / ‖A‖_F),
//                   energy_kept (Σ_{i≤r} σ_i² / Σ σ_i², in [0, 1])
//   spectrum        input (label), index (1-based), singular_value, energy_kept (cumulative up to index)
//   speed-up        rank, flop_model_speedup, measured_speedup, dense_median_ms, factored_median_ms,
//                   decomposition_ms   — (m×k)·(k×n) with B factored offline as (A·L_r)·R_r; the dense
//                   product is timed again beside each rank (dense_median_ms per row);
//                   the decomposition (one exact SVD of B, one run) is excluded from factored_median_ms.
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/progress.hpp"
#include "base/tensor.hpp"
#include "base/timing.hpp"
#include "matmul/low_rank_factor.hpp"
#include "study/chart_spec.hpp"
#include "study/shard.hpp"
#include "study/table.hpp"

namespace ks::study {

/// The assignment's five kinds of input (notebook 2).
enum class RankInputKind {
    Photo,       ///< the embedded CC0 photo as pixels × 3 (RGB): 135,300 × 3, rank ≤ 3
    Mnist,       ///< 512 test digits of the embedded split, normalised as in the seed: 512 × 784
    Gaussian,    ///< N(0, 1) entries, seeded: 512 × 512 (Marchenko–Pastur spectrum, no knee)
    Activation,  ///< the same 512 digits through the embedded MLP's fc1 and ReLU: 512 × 512
    Weights,     ///< the embedded MLP's fc2 weight: 128 × 512
};
/// "photo", "mnist", "gaussian", "activation", "weights".
std::string rankInputName(RankInputKind kind);
std::vector<RankInputKind> rankInputKinds();
/// std::invalid_argument listing the names otherwise.
RankInputKind parseRankInputKind(std::string_view name);

struct RankInput {
    std::string name;         ///< the series label: a kind's name or the user's file name
    std::string description;  ///< one line: what the matrix is and its shape
    TensorD matrix;           ///< rows × cols
    Shape imageShape;         ///< {H, W, C} when the rows are the pixels of an image; empty otherwise
    bool isImage() const { return !imageShape.empty(); }
};

/// The input of a kind (Gaussian drawn with `seed`). Activation and Weights need the embedded
/// weights (nn::ModelError if the build has none).
RankInput makeRankInput(RankInputKind kind, std::uint64_t seed = 1);

/// Largest user matrix: the exact SVD grows as rows·cols·min(rows, cols).
inline constexpr std::int64_t kMaxRankStudySide = 2048;
inline constexpr std::int64_t kMaxRankStudyElements = std::int64_t{1} << 24;

/// A user's array: 2-D is used as it is; 3-D H × W × C with C ≤ 4 is an image whose pixels become
/// the rows (H·W × C). std::invalid_argument naming the problem for any other shape, an empty or too
/// large matrix, or a NaN/infinity.
RankInput rankInputFromTensor(const std::string& name, const TensorD& tensor);

/// Which matrix an image (H × W × C, values in [0, 1]) is studied as. The assignment's is the pixels as rows of
/// their channels (H·W × C: rank ≤ C, so a photo's spectrum ends at 3); what users expect of "the rank of an
/// image" is the picture itself as an H × W matrix, grey or one channel.
enum class ImageMatrix {
    PixelsByChannel,  ///< H·W × C
    Grey,             ///< H × W luma, Rec. 601 weights 0.299 R + 0.587 G + 0.114 B (one channel: itself)
    Red,              ///< H × W, channel 0
    Green,            ///< H × W, channel 1
    Blue,             ///< H × W, channel 2
};
/// "pixels", "grey", "red", "green", "blue".
std::string imageMatrixName(ImageMatrix view);
std::vector<ImageMatrix> imageMatrixViews();
/// std::invalid_argument listing the names otherwise.
ImageMatrix parseImageMatrix(std::string_view name);

/// An image (H × W × C, 1 ≤ C ≤ 4, e.g. io::embeddedPhoto()) as the matrix `view` says. The H × W views keep
/// imageShape {H, W, 1}, so reconstructImage() gives a grey picture. std::invalid_argument naming the problem
/// for another shape, a channel the image lacks (green of a grey image), or a NaN/infinity.
RankInput imageRankInput(const std::string& name, const TensorD& image, ImageMatrix view);

/// One input and its singular value decomposition.
class RankAnalysis {
public:
    /// Runs the SVD (exact, in double); std::invalid_argument for an unusable matrix.
    explicit RankAnalysis(RankInput input);

    const RankInput& input() const { return input_; }
    std::int64_t rows() const { return factor_.rows(); }
    std::int64_t cols() const { return factor_.cols(); }
    std::int64_t fullRank() const { return factor_.rank(); }  ///< min(rows, cols)
    const std::vector<double>& singularValues() const { return factor_.singularValues(); }
    double frobeniusNorm() const { return std::sqrt(tailSquares_.front()); }
    double decompositionSeconds() const { return decompositionSeconds_; }

    /// Eckart–Young: sqrt(Σ_{i > rank} σ_i²); 0 for rank ≥ min(rows, cols). rank ≥ 0.
    double frobeniusError(std::int64_t rank) const;
    double relativeError(std::int64_t rank) const;
    double energyKept(std::int64_t rank) const;

    /// A_r = (U_r·Σ_r)·V_rᵀ, rows × cols, in double from the float factors.
    TensorD reconstruct(std::int64_t rank) const;
    /// For image inputs: A_r as H × W × C, clamped to [0, 1] for display. std::logic_error otherwise.
    TensorD reconstructImage(std::int64_t rank) const;
    /// For image inputs: the original picture (H × W × C).
    TensorD image() const;

private:
    RankInput input_;
    matmul::LowRankFactor factor_;
    std::vector<double> tailSquares_;  ///< tailSquares_[r] = Σ_{i ≥ r} σ_i² (0-based i), size full + 1
    double decompositionSeconds_ = 0;
};

/// Ranks 1 … min(rows, cols) of every analysis when `ranks` is empty; otherwise the given ranks
/// (each ≥ 1; ranks above an input's full rank are clipped away for that input).
/// "photo: <description>; mnist: <description>", the inputs in words for a chart's caption.
std::string describeInputs(const std::vector<const RankAnalysis*>& analyses);
/// The same from the inputs, before their SVDs.
std::string describeInputs(const std::vector<RankInput>& inputs);

Table rankErrorTable(const std::vector<const RankAnalysis*>& analyses, const std::vector<std::int64_t>& ranks = {});
Table spectrumTable(const std::vector<const RankAnalysis*>& analyses);

/// (m×k)·(k×n) with B (k×n) factored offline: dense A·B against (A·L_r)·R_r.
struct SpeedupSweep {
    std::int64_t m = 512, k = 512, n = 128;
    std::vector<std::int64_t> ranks;  ///< empty: a default ladder up to min(k, n)
    std::uint64_t seed = 1;           ///< operands are N(0, 1): float GEMM time does not depend on the values
    TimingOptions timing;
    /// The slice of the ranks (in order) to time; the joined slices' summary is speedupResult's.
    Shard shard;
    std::string key() const;
    /// Its parameters in words, for captions: the product, the operands, the timing.
    std::string describe() const;
};

struct SpeedupResult {
    Table table;                                 ///< columns in the header comment
    double flopBreakEvenRank = 0;                ///< k·n / (k + n): 102.4 for 512×128
    std::optional<double> measuredBreakEvenRank; ///< interpolated where measured_speedup crosses 1
    double denseMedianMs = 0;                    ///< median over the ranks of dense_median_ms
};

/// 2·m·k·n / (2·m·r·(k + n)) = k·n / (r·(k + n)).
double flopModelSpeedup(std::int64_t k, std::int64_t n, std::int64_t rank);
double flopBreakEvenRank(std::int64_t k, std::int64_t n);
std::vector<std::int64_t> defaultSpeedupRanks(std::int64_t k, std::int64_t n);
/// Times the dense and the factored product (ks::measure medians); progress per rank.
SpeedupResult runSpeedupSweep(const SpeedupSweep& sweep, const Progress& progress = {});
/// The summary of a speed-up table (one run's, or its shards' joined) for B of k×n.
SpeedupResult speedupResult(Table table, std::int64_t k, std::int64_t n);
/// The speed-up table in long form for the chart: rank, speedup, estimate ("FLOP model", "measured").
Table speedupChartTable(const Table& speedup);

/// `caption`: the inputs in words (RankInput::description of each), drawn under the title and written in the CSV.
ChartSpec rankErrorChart(std::optional<std::int64_t> currentRank = std::nullopt, const std::string& caption = {});
ChartSpec rankSpectrumChart(const std::string& caption = {});
ChartSpec rankSpeedupChart(const SpeedupSweep& sweep, std::optional<std::int64_t> currentRank = std::nullopt);

}  // namespace ks::study
