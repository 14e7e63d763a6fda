#include "study/rank_study.hpp"

#include "base/timing_gate.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <sstream>
#include <stdexcept>

#include <Eigen/Core>

#include "base/statistics.hpp"
#include "io/mnist.hpp"
#include "io/ppm.hpp"
#include "matmul/dense_matmul.hpp"
#include "nn/model.hpp"
#include "nn/model_io.hpp"

namespace ks::study {

namespace {

constexpr std::int64_t kBatch = 512;

std::string shapeText(std::int64_t rows, std::int64_t cols) {
    return std::to_string(rows) + " × " + std::to_string(cols);
}

/// kBatch digits spread evenly over the test set (which is ordered class by class), so every
/// class is in the batch.
io::DigitSet digitBatch() {
    const io::DigitSet test = io::embeddedSplit().test;
    if (test.count() < std::size_t(kBatch))
        throw std::runtime_error("the embedded test set has fewer than 512 digits");
    std::vector<std::size_t> indices(kBatch);
    for (std::size_t i = 0; i < indices.size(); ++i) indices[i] = i * test.count() / indices.size();
    return test.subset(indices);
}

const nn::Layer& denseLayer(const nn::Model& model, const std::string& name) {
    const nn::Layer* layer = model.find(name);
    if (!layer || layer->kind != nn::LayerKind::Linear)
        throw nn::ModelError("the embedded model has no dense layer '" + name + "': " + model.describe());
    return *layer;
}

TensorD fromMatrix(const nn::MatrixF& m) {
    TensorD t({m.rows(), m.cols()});
    for (Eigen::Index i = 0; i < m.rows(); ++i)
        for (Eigen::Index j = 0; j < m.cols(); ++j) t[std::size_t(i * m.cols() + j)] = double(m(i, j));
    return t;
}

}  // namespace

std::string rankInputName(RankInputKind kind) {
    switch (kind) {
    case RankInputKind::Photo: return "photo";
    case RankInputKind::Mnist: return "mnist";
    case RankInputKind::Gaussian: return "gaussian";
    case RankInputKind::Activation: return "activation";
    case RankInputKind::Weights: return "weights";
    }
    return "?";
}

std::vector<RankInputKind> rankInputKinds() {
    return {RankInputKind::Photo, RankInputKind::Mnist, RankInputKind::Gaussian, RankInputKind::Activation,
            RankInputKind::Weights};
}

RankInputKind parseRankInputKind(std::string_view name) {
    for (auto kind : rankInputKinds())
        if (name == rankInputName(kind)) return kind;
    throw std::invalid_argument("unknown rank-study input '" + std::string(name) +
                                "' (choose photo, mnist, gaussian, activation or weights)");
}

RankInput makeRankInput(RankInputKind kind, std::uint64_t seed) {
    RankInput in;
    in.name = rankInputName(kind);
    switch (kind) {
    case RankInputKind::Photo: {
        const TensorD photo = io::embeddedPhoto();  // H × W × 3
        in.imageShape = photo.shape();
        in.matrix = photo;
        in.matrix.reshape({photo.dim(0) * photo.dim(1), photo.dim(2)});
        in.description = "photo (Chelsea, CC0) as pixels × RGB: " + shapeText(in.matrix.dim(0), in.matrix.dim(1));
        break;
    }
    case RankInputKind::Mnist: {
        const TensorF images = digitBatch().normalisedImages();
        in.matrix = images.cast<double>();
        in.description = "512 MNIST test digits, normalised: " + shapeText(in.matrix.dim(0), in.matrix.dim(1));
        break;
    }
    case RankInputKind::Gaussian: {
        in.matrix = TensorD({kBatch, kBatch});
        std::mt19937_64 rng(seed);
        std::normal_distribution<double> normal;
        for (auto& v : in.matrix.storage()) v = normal(rng);
        in.description = "Gaussian N(0, 1), seed " + std::to_string(seed) + ": " + shapeText(kBatch, kBatch);
        break;
    }
    case RankInputKind::Activation: {
        const nn::Model model = nn::loadModel("embedded");
        const nn::Layer& fc1 = denseLayer(model, "fc1");
        const nn::MatrixF x = nn::toMatrix(digitBatch().normalisedImages());
        nn::MatrixF h = x * fc1.weight.transpose();
        if (fc1.bias.size()) h.rowwise() += fc1.bias.transpose();
        in.matrix = fromMatrix(h.cwiseMax(0.0f));
        in.description = "activation relu(fc1) of 512 test digits, embedded MLP: " + shapeText(in.matrix.dim(0), in.matrix.dim(1));
        break;
    }
    case RankInputKind::Weights: {
        const nn::Model model = nn::loadModel("embedded");
        in.matrix = fromMatrix(denseLayer(model, "fc2").weight);
        in.description = "fc2 weight of the embedded MLP: " + shapeText(in.matrix.dim(0), in.matrix.dim(1));
        break;
    }
    }
    return in;
}

std::string imageMatrixName(ImageMatrix view) {
    switch (view) {
    case ImageMatrix::PixelsByChannel: return "pixels";
    case ImageMatrix::Grey: return "grey";
    case ImageMatrix::Red: return "red";
    case ImageMatrix::Green: return "green";
    case ImageMatrix::Blue: return "blue";
    }
    return "?";
}

std::vector<ImageMatrix> imageMatrixViews() {
    return {ImageMatrix::PixelsByChannel, ImageMatrix::Grey, ImageMatrix::Red, ImageMatrix::Green, ImageMatrix::Blue};
}

ImageMatrix parseImageMatrix(std::string_view name) {
    for (auto view : imageMatrixViews())
        if (name == imageMatrixName(view)) return view;
    throw std::invalid_argument("unknown image matrix '" + std::string(name) + "' (choose pixels, grey, red, green or blue)");
}

RankInput imageRankInput(const std::string& name, const TensorD& image, ImageMatrix view) {
    const Shape& s = image.shape();
    if (s.size() != 3 || s[2] < 1 || s[2] > 4 || s[0] < 1 || s[1] < 1)
        throw std::invalid_argument(name + ": shape " + shapeToString(s) + " is not an image H × W × C with C ≤ 4");
    const std::int64_t h = s[0], w = s[1], channels = s[2];
    for (double v : image.storage())
        if (!std::isfinite(v)) throw std::invalid_argument(name + ": the image holds a NaN or an infinity");
    if (view == ImageMatrix::PixelsByChannel) return rankInputFromTensor(name, image);
    const int channel = view == ImageMatrix::Red ? 0 : view == ImageMatrix::Green ? 1 : view == ImageMatrix::Blue ? 2 : -1;
    if (channel >= 0 && channels < 3)  // a colour channel of a grey image
        throw std::invalid_argument(name + ": has no " + imageMatrixName(view) + " channel (" + std::to_string(channels) +
                                    " channel" + (channels == 1 ? "" : "s") + ")");
    RankInput in;
    in.name = name + " (" + imageMatrixName(view) + ")";
    in.imageShape = {h, w, 1};
    in.matrix = TensorD({h, w});
    for (std::int64_t p = 0; p < h * w; ++p) {
        const double* px = image.data() + p * channels;
        double v;
        if (channel >= 0) v = px[channel];
        else if (channels >= 3) v = 0.299 * px[0] + 0.587 * px[1] + 0.114 * px[2];
        else v = px[0];  // grey (with alpha): the grey itself
        in.matrix[std::size_t(p)] = v;
    }
    in.description = name + ": " + (channel >= 0 ? "the " + imageMatrixName(view) + " channel" : std::string("grey (luma)")) +
                     " as an H × W matrix: " + shapeText(h, w);
    return in;
}

RankInput rankInputFromTensor(const std::string& name, const TensorD& tensor) {
    RankInput in;
    in.name = name;
    const Shape& s = tensor.shape();
    if (s.size() == 2) {
        in.matrix = tensor;
        in.description = name + ": matrix " + shapeText(s[0], s[1]);
    } else if (s.size() == 3 && s[2] >= 1 && s[2] <= 4) {
        in.imageShape = s;
        in.matrix = tensor;
        in.matrix.reshape({s[0] * s[1], s[2]});
        in.description = name + ": image " + std::to_string(s[1]) + "×" + std::to_string(s[0]) + " as pixels × " +
                         std::to_string(s[2]) + " channels";
    } else {
        throw std::invalid_argument(name + ": shape " + shapeToString(s) +
                                    " cannot be studied (need a matrix rows × cols, or an image H × W × C with C ≤ 4)");
    }
    const std::int64_t rows = in.matrix.dim(0), cols = in.matrix.dim(1);
    if (rows == 0 || cols == 0) throw std::invalid_argument(name + ": the matrix is empty " + shapeToString(s));
    if (std::min(rows, cols) > kMaxRankStudySide || rows * cols > kMaxRankStudyElements)
        throw std::invalid_argument(name + ": " + shapeText(rows, cols) + " is too large for an exact SVD here (at most " +
                                    std::to_string(kMaxRankStudySide) + " on the shorter side and " +
                                    std::to_string(kMaxRankStudyElements) + " elements)");
    for (std::size_t i = 0; i < in.matrix.size(); ++i)
        if (!std::isfinite(in.matrix[i]))
            throw std::invalid_argument(name + ": element " + std::to_string(i) + " is not finite (NaN or infinity)");
    return in;
}

RankAnalysis::RankAnalysis(RankInput input) : input_(std::move(input)) {
    if (input_.matrix.rank() != 2) throw std::invalid_argument(input_.name + ": the rank study needs a matrix");
    const std::int64_t rows = input_.matrix.dim(0), cols = input_.matrix.dim(1);
    const std::vector<float> a(input_.matrix.storage().begin(), input_.matrix.storage().end());
    {
        const ExclusiveTimingScope alone;  // its time is reported: taken alone, as every timing
        const auto start = std::chrono::steady_clock::now();
        factor_ = matmul::LowRankFactor::truncatedSvd(a, rows, cols, std::nullopt);
        decompositionSeconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    const auto& sigma = factor_.singularValues();
    tailSquares_.assign(sigma.size() + 1, 0.0);
    // Summed from the smallest up, so the small tails keep their digits.
    for (std::size_t i = sigma.size(); i-- > 0;) tailSquares_[i] = tailSquares_[i + 1] + sigma[i] * sigma[i];
}

double RankAnalysis::frobeniusError(std::int64_t rank) const {
    if (rank < 0) throw std::invalid_argument("rank must be ≥ 0, got " + std::to_string(rank));
    const auto r = static_cast<std::size_t>(std::min(rank, fullRank()));
    return std::sqrt(tailSquares_[r]);
}

double RankAnalysis::relativeError(std::int64_t rank) const {
    const double norm = frobeniusNorm();
    return norm > 0 ? frobeniusError(rank) / norm : 0.0;
}

double RankAnalysis::energyKept(std::int64_t rank) const {
    const double total = tailSquares_.front();
    if (total <= 0) return 1.0;
    const double e = frobeniusError(rank);
    return (total - e * e) / total;
}

TensorD RankAnalysis::reconstruct(std::int64_t rank) const {
    if (rank < 0) throw std::invalid_argument("rank must be ≥ 0, got " + std::to_string(rank));
    const std::int64_t r = std::min(rank, fullRank()), full = fullRank();
    using RowMajorF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    using RowMajorD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    const Eigen::Map<const RowMajorF> left(factor_.left().data(), rows(), full);
    const Eigen::Map<const RowMajorF> right(factor_.right().data(), full, cols());
    TensorD out({rows(), cols()});
    Eigen::Map<RowMajorD>(out.data(), rows(), cols()) =
        left.leftCols(r).cast<double>() * right.topRows(r).cast<double>();
    return out;
}

TensorD RankAnalysis::image() const {
    if (!input_.isImage()) throw std::logic_error(input_.name + " is not an image");
    TensorD t = input_.matrix;
    t.reshape(input_.imageShape);
    return t;
}

TensorD RankAnalysis::reconstructImage(std::int64_t rank) const {
    if (!input_.isImage()) throw std::logic_error(input_.name + " is not an image");
    TensorD t = reconstruct(rank);
    for (auto& v : t.storage()) v = std::clamp(v, 0.0, 1.0);
    t.reshape(input_.imageShape);
    return t;
}

Table rankErrorTable(const std::vector<const RankAnalysis*>& analyses, const std::vector<std::int64_t>& ranks) {
    for (auto r : ranks)
        if (r < 1) throw std::invalid_argument("ranks must be at least 1, got " + std::to_string(r));
    Table table({"rank", "frobenius_error", "relative_error", "energy_kept"}, {"input"});
    for (const RankAnalysis* a : analyses) {
        std::vector<std::int64_t> list = ranks;
        if (list.empty())
            for (std::int64_t r = 1; r <= a->fullRank(); ++r) list.push_back(r);
        for (auto r : list)
            if (r <= a->fullRank())
                table.addRow({r, a->frobeniusError(r), a->relativeError(r), a->energyKept(r), a->input().name});
    }
    return table;
}

Table spectrumTable(const std::vector<const RankAnalysis*>& analyses) {
    Table table({"index", "singular_value", "energy_kept"}, {"input"});
    for (const RankAnalysis* a : analyses)
        for (std::size_t i = 0; i < a->singularValues().size(); ++i)
            table.addRow({i + 1, a->singularValues()[i], a->energyKept(std::int64_t(i + 1)), a->input().name});
    return table;
}

double flopModelSpeedup(std::int64_t k, std::int64_t n, std::int64_t rank) {
    return double(k) * double(n) / (double(rank) * double(k + n));
}

double flopBreakEvenRank(std::int64_t k, std::int64_t n) { return double(k) * double(n) / double(k + n); }

std::vector<std::int64_t> defaultSpeedupRanks(std::int64_t k, std::int64_t n) {
    const std::int64_t full = std::min(k, n);
    std::vector<std::int64_t> ranks;
    for (std::int64_t r : {1, 2, 4, 8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 160, 192, 256, 384, 512})
        if (r < full) ranks.push_back(r);
    ranks.push_back(full);
    return ranks;
}

std::string describeInputs(const std::vector<RankInput>& inputs) {
    std::string out;
    for (const RankInput& input : inputs) out += (out.empty() ? "" : "; ") + input.name + ": " + input.description;
    return out + (out.empty() ? "" : "; one exact SVD in double each");
}

std::string describeInputs(const std::vector<const RankAnalysis*>& analyses) {
    std::vector<RankInput> described;
    for (const RankAnalysis* a : analyses) described.push_back({a->input().name, a->input().description, {}, {}});
    return describeInputs(described);
}

std::string SpeedupSweep::describe() const {
    std::ostringstream out;
    out << "float32 (" << m << "×" << k << ")·(" << k << "×" << n << "), operands N(0, 1) seed " << seed
        << "; B factored once by an exact SVD (not timed); " << describeTiming(timing);
    return out.str();
}

std::string SpeedupSweep::key() const {
    std::ostringstream out;
    out << m << 'x' << k << 'x' << n << '|' << seed << '|';
    for (auto r : ranks) out << r << ',';
    out << '|' << timing.minRepeats << '|' << timing.minSeconds << '|' << shard.toString();
    return out.str();
}

SpeedupResult runSpeedupSweep(const SpeedupSweep& s, const Progress& progress) {
    if (s.m < 1 || s.k < 1 || s.n < 1)
        throw std::invalid_argument("speed-up sweep: dimensions must be positive, got " + std::to_string(s.m) + "×" +
                                    std::to_string(s.k) + "·" + std::to_string(s.k) + "×" + std::to_string(s.n));
    std::vector<std::int64_t> ranks = s.ranks.empty() ? defaultSpeedupRanks(s.k, s.n) : s.ranks;
    for (auto r : ranks)
        if (r < 1 || r > std::min(s.k, s.n))
            throw std::invalid_argument("speed-up sweep: rank " + std::to_string(r) + " is outside 1…" +
                                        std::to_string(std::min(s.k, s.n)) + " for B of " + shapeText(s.k, s.n));
    std::mt19937_64 rng(s.seed);
    std::normal_distribution<float> normal;
    std::vector<float> a(std::size_t(s.m * s.k)), b(std::size_t(s.k * s.n)), c(std::size_t(s.m * s.n));
    for (auto& v : a) v = normal(rng);
    for (auto& v : b) v = normal(rng);

    auto timeDense = [&] { return measure([&] { matmul::denseGemm(s.m, s.k, s.n, a.data(), b.data(), c.data()); }, s.timing); };

    Table table({"rank", "flop_model_speedup", "measured_speedup", "dense_median_ms", "factored_median_ms", "decomposition_ms"});
    std::vector<float> workspace;
    const auto [first, last] = s.shard.slice(ranks.size());
    progress.step(0, double(last - first));
    for (std::size_t i = first; i < last; ++i) {
        const std::int64_t r = ranks[i];
        // Offline: factor B once per rank (its cost is reported apart, never in the product's time).
        const auto start = std::chrono::steady_clock::now();
        const auto factor = matmul::LowRankFactor::truncatedSvd(b, s.k, s.n, r);
        const double decompositionMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
        workspace.resize(std::size_t(s.m * r));
        // The dense product is timed again beside each rank: on a shared machine the load changes
        // during a sweep, and a ratio of two timings taken together is the fairer one.
        const TimingResult dense = timeDense();
        const TimingResult factored = measure([&] { factor.multiplyFromLeft(a.data(), s.m, c.data(), workspace); }, s.timing);
        table.addRow({r, flopModelSpeedup(s.k, s.n, r), dense.medianSeconds / factored.medianSeconds, dense.medianSeconds * 1e3,
                      factored.medianSeconds * 1e3, decompositionMs});
        progress.step(double(i + 1 - first), double(last - first));
    }
    return speedupResult(std::move(table), s.k, s.n);
}

SpeedupResult speedupResult(Table table, std::int64_t k, std::int64_t n) {
    SpeedupResult result;
    result.flopBreakEvenRank = flopBreakEvenRank(k, n);
    const auto& ranks = table.numbers("rank");
    const auto& speedups = table.numbers("measured_speedup");
    std::optional<std::pair<double, double>> previous;  // (rank, measured) of the last point with speed-up ≥ 1
    for (std::size_t i = 0; i < ranks.size() && !result.measuredBreakEvenRank; ++i) {
        if (speedups[i] >= 1) {
            previous = {ranks[i], speedups[i]};
        } else if (previous) {
            // Linear interpolation between the last rank that won and the first that lost.
            const auto [r0, s0] = *previous;
            result.measuredBreakEvenRank = r0 + (1 - s0) * (ranks[i] - r0) / (speedups[i] - s0);
        }
    }
    result.denseMedianMs = table.rowCount() ? median(table.numbers("dense_median_ms")) : std::nan("");
    result.table = std::move(table);
    return result;
}

Table speedupChartTable(const Table& speedup) {
    Table table({"rank", "speedup"}, {"estimate"});
    const auto& ranks = speedup.numbers("rank");
    for (std::size_t i = 0; i < ranks.size(); ++i) table.addRow({ranks[i], speedup.numbers("flop_model_speedup")[i], "FLOP model"});
    for (std::size_t i = 0; i < ranks.size(); ++i) table.addRow({ranks[i], speedup.numbers("measured_speedup")[i], "measured"});
    return table;
}

ChartSpec rankErrorChart(std::optional<std::int64_t> currentRank, const std::string& caption) {
    ChartSpec spec;
    spec.caption = caption;
    spec.id = "rank-error";
    spec.title = "Error vs rank: ‖A − A_r‖_F / ‖A‖_F (Eckart–Young)";
    spec.xColumn = "rank";
    spec.yColumn = "relative_error";
    spec.seriesColumn = "input";
    spec.xLabel = "rank r";
    spec.yLabel = "relative error";
    spec.yBounds = {0.0, 1.0};  // Eckart–Young: ‖A − A_r‖ ≤ ‖A‖
    spec.yLogIfWide = true;
    spec.xIntegers = true;
    if (currentRank) spec.currentX = double(*currentRank);
    return spec;
}

ChartSpec rankSpectrumChart(const std::string& caption) {
    ChartSpec spec;
    spec.caption = caption;
    spec.id = "rank-spectrum";
    spec.title = "Singular value spectrum";
    spec.xColumn = "index";
    spec.yColumn = "singular_value";
    spec.seriesColumn = "input";
    spec.xLabel = "index i";
    spec.yLabel = "singular value σ_i";
    spec.xIntegers = true;
    spec.yLog = true;
    return spec;
}

ChartSpec rankSpeedupChart(const SpeedupSweep& s, std::optional<std::int64_t> currentRank) {
    ChartSpec spec;
    spec.id = "rank-speedup";
    spec.caption = s.describe();
    spec.title = "Speed-up vs rank: (" + std::to_string(s.m) + "×" + std::to_string(s.k) + ")·(" + std::to_string(s.k) + "×" +
                 std::to_string(s.n) + "), B factored";
    spec.xColumn = "rank";
    spec.yColumn = "speedup";
    spec.seriesColumn = "estimate";
    spec.xLabel = "rank r";
    spec.yLabel = "speed-up (×)";
    spec.xLog = true;
    spec.yLog = true;
    spec.highlightSeries = "measured";
    std::ostringstream label;
    label.precision(4);
    label << "FLOP break-even " << flopBreakEvenRank(s.k, s.n);
    spec.xMarkers.push_back({flopBreakEvenRank(s.k, s.n), label.str()});
    if (currentRank) spec.currentX = double(*currentRank);
    return spec;
}

}  // namespace ks::study
