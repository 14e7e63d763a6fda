#include "study/layer_table.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "base/timing.hpp"
#include "matmul/low_rank_factor.hpp"
#include "nn/low_rank.hpp"

namespace ks::study {

Table productRows(const Table& layers) {
    std::vector<std::string> numeric, labels;
    for (const Column& c : layers.columns()) (c.isNumeric() ? numeric : labels).push_back(c.name);
    numeric.insert(numeric.begin(), "index");
    Table out(numeric, labels);
    double index = 0;
    for (std::size_t r = 0; r < layers.rowCount(); ++r) {
        const std::string& op = layers.labels("op")[r];
        if (op != "Conv" && op != "Linear") continue;
        std::vector<Table::Cell> cells{index++};
        for (const Column& c : layers.columns())
            if (c.isNumeric()) cells.emplace_back(c.numbers()[r]);
        for (const Column& c : layers.columns())
            if (!c.isNumeric()) cells.emplace_back(c.labels()[r]);
        out.addRow(cells);
    }
    return out;
}

namespace {

ChartSpec layerBars(const std::string& caption) {
    ChartSpec spec;
    spec.caption = caption;
    spec.xColumn = "index";
    spec.seriesColumn = "node";
    spec.xLabel = "layer";
    spec.bars = true;
    spec.yLogIfWide = true;
    spec.yBounds.min = 0.0;
    return spec;
}

}  // namespace

ChartSpec layerErrorChart(const std::string& caption) {
    ChartSpec spec = layerBars(caption);
    spec.id = "layers-error";
    spec.title = "Error of each layer's output under the compute spec (relative to float32, errors of the layers before included)";
    spec.yColumn = "output_rel_error";
    spec.yLabel = "relative error";
    return spec;
}

ChartSpec layerTimeChart(const std::string& caption) {
    ChartSpec spec = layerBars(caption);
    spec.id = "layers-time";
    spec.title = "Time of each layer in float32 (median, node by node, over the test inputs)";
    spec.yColumn = "time_ms";
    spec.yLabel = "time (ms)";
    return spec;
}

namespace {

double relativeError(const nn::MatrixF& y, const nn::MatrixF& reference) {
    const double norm = reference.cast<double>().norm();
    const double diff = (y.cast<double>() - reference.cast<double>()).norm();
    return norm > 0 ? diff / norm : diff;
}

std::vector<Eigen::Index> argmaxRows(const nn::MatrixF& y) {
    std::vector<Eigen::Index> best(std::size_t(y.rows()), 0);
    for (Eigen::Index r = 0; r < y.rows(); ++r) y.row(r).maxCoeff(&best[std::size_t(r)]);
    return best;
}

}  // namespace

LayerTableResult layerTable(const nn::Graph& graph, const nn::MatrixF& inputs, std::span<const std::uint8_t> labels,
                            const LayerTableOptions& options, const Progress& progress) {
    if (!labels.empty() && labels.size() != std::size_t(inputs.rows()))
        throw std::invalid_argument(std::to_string(labels.size()) + " labels for " + std::to_string(inputs.rows()) + " inputs");
    const std::size_t nodes = graph.nodes().size();
    const double steps = 3.0 + options.timingRepeats + double(nodes);
    double done = 0;
    progress.step(done, steps);

    // Every node's float32 output, and its time in each of the repeated runs.
    nn::GraphRunOptions byNode = options.run;
    byNode.nodeByNode = true;
    std::vector<nn::MatrixF> reference(nodes);
    std::vector<std::vector<double>> times(nodes);
    using Clock = std::chrono::steady_clock;
    Clock::time_point last;
    bool keep = true;
    byNode.observe = [&](std::size_t node, const nn::MatrixF& y) {
        const Clock::time_point now = Clock::now();
        times[node].push_back(std::chrono::duration<double, std::milli>(now - last).count());
        if (keep) reference[node] = y;
        last = Clock::now();  // copying the output is not the next node's time
    };
    for (int run = 0; run < std::max(1, options.timingRepeats); ++run) {
        keep = run == 0;
        last = Clock::now();
        (void)graph.forward(inputs, byNode);
        progress.step(++done, steps);
    }

    // Under the spec, node by node: each node's output against float32's.
    std::vector<double> errors(nodes, 0.0);
    if (!options.spec.native) {
        nn::GraphRunOptions emulated = options.run;
        emulated.nodeByNode = true;
        emulated.observe = [&](std::size_t node, const nn::MatrixF& y) {
            errors[node] = relativeError(y, reference[node]);
            progress.check();
        };
        (void)graph.forward(inputs, options.spec, emulated);
    }
    progress.step(++done, steps);

    LayerTableResult result;
    result.layers = Table({"parameters", "mflop_per_sample", "time_ms", "output_rel_error", "rank", "rank_90", "rank_99",
                           "sigma_max"},
                          {"node", "op", "output_shape", "algorithm"});
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (std::size_t k = 0; k < nodes; ++k) {
        const nn::GraphNode& node = graph.nodes()[k];
        double rank = nan, rank90 = nan, rank99 = nan, sigmaMax = nan;
        if (node.parametrised()) {
            const nn::Layer& l = node.layer;
            const nn::MatrixF w = l.kind == nn::LayerKind::LowRankLinear ? nn::MatrixF(l.up * l.down) : l.weight;
            const auto factor = matmul::LowRankFactor::truncatedSvd({w.data(), std::size_t(w.size())}, w.rows(), w.cols(),
                                                                    std::nullopt);
            const std::vector<double>& sigma = factor.singularValues();
            rank = double(l.rank());
            rank90 = double(nn::rankKeepingEnergy(sigma, 0.90));
            rank99 = double(nn::rankKeepingEnergy(sigma, 0.99));
            sigmaMax = sigma.empty() ? 0.0 : sigma.front();
        }
        std::vector<double> t = times[k];
        std::sort(t.begin(), t.end());
        const double median = t.empty() ? nan : t[t.size() / 2];
        std::string algorithm;
        if (node.kind == nn::NodeKind::Conv) {
            algorithm = options.run.inference.convAlgorithm;
            for (const auto& [name, chosen] : options.run.convAlgorithmByNode)
                if (name == node.name) algorithm = chosen;
        } else if (node.kind == nn::NodeKind::Linear) {
            algorithm = options.spec.native ? "sgemm" : "emulated gemm";
        }
        result.layers.addRow({double(node.parameterCount()), node.parametrised() ? node.layer.flopsPerSample() * 1e-6 : 0.0,
                              median, errors[k], rank, rank90, rank99, sigmaMax, node.name, nn::toString(node.kind),
                              graph.valueShape(node.output).toString(), algorithm});
        progress.step(++done, steps);
    }

    // The whole network, fused, as it runs outside the table.
    nn::GraphRunOptions fused = options.run;
    fused.nodeByNode = false;
    fused.observe = nullptr;
    nn::MatrixF y32, ySpec;
    const TimingResult t32 = measure([&] { y32 = graph.forward(inputs, fused); }, {1, std::max(1, options.timingRepeats), 1000, 0.0});
    result.float32Ms = t32.medianSeconds * 1e3;
    progress.step(++done, steps);
    if (options.spec.native) {
        ySpec = y32;
        result.specMs = result.float32Ms;
    } else {
        const TimingResult ts = measure([&] { ySpec = graph.forward(inputs, options.spec, fused); }, {0, 1, 1, 0.0});
        result.specMs = ts.medianSeconds * 1e3;
    }
    progress.step(++done, steps);
    result.outputRelError = relativeError(ySpec, y32);
    const auto best32 = argmaxRows(y32), bestSpec = argmaxRows(ySpec);
    std::size_t agree = 0, right32 = 0, rightSpec = 0;
    for (std::size_t i = 0; i < best32.size(); ++i) {
        agree += best32[i] == bestSpec[i];
        if (!labels.empty()) {
            right32 += best32[i] == Eigen::Index(labels[i]);
            rightSpec += bestSpec[i] == Eigen::Index(labels[i]);
        }
    }
    const double n = double(std::max<std::size_t>(1, best32.size()));
    result.top1Agreement = double(agree) / n;
    if (!labels.empty()) {
        result.float32Accuracy = double(right32) / n;
        result.specAccuracy = double(rightSpec) / n;
    }
    return result;
}

}  // namespace ks::study
