#pragma once
// The layer table of any network (an ONNX graph, or a Model as a graph): per node its shape, size, cost, time,
// the error its output carries under a compute spec and conv algorithm, and for the products their weight
// matrix's singular spectrum. What the network page's table and `kernelscope-cli layers` show.
//
// Table columns (the numbers first, then the labels, as study::Table declares them):
//   node, op, output_shape                 the graph's node (its file name), operator, one sample's output shape
//   algorithm                              a Conv node's conv algorithm; "sgemm" / "emulated gemm" for a Linear one
//   parameters, mflop_per_sample           weights and biases; multiply-adds ×2 of the direct definition (products)
//   time_ms                                median over repeated float32 runs, node by node, of the whole batch
//   output_rel_error                       ‖y_spec − y_f32‖_F / ‖y_f32‖_F of this node's output over the batch, both
//                                          runs node by node (so the error reaching it from the layers before too)
//   rank, rank_90, rank_99, sigma_max      products only (else NaN): the layer's rank (min(out, in) of a dense weight
//                                          matrix — a Conv's K × C·R·S —, r of a low-rank one), the smallest ranks keeping
//                                          90 % / 99 % of its weight's Σσ², and σ₁
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/progress.hpp"
#include "study/chart_spec.hpp"
#include "nn/graph.hpp"
#include "numeric/compute_spec.hpp"
#include "study/table.hpp"

namespace ks::study {

struct LayerTableOptions {
    numeric::ComputeSpec spec;  ///< native: the error columns are 0
    nn::GraphRunOptions run;    ///< conv algorithm(s), threads, emulation engine (nodeByNode is set by the study)
    int timingRepeats = 5;
};

struct LayerTableResult {
    Table layers;
    /// Whole network over the batch.
    double float32Ms = 0;            ///< median fused float32 forward pass
    double specMs = 0;               ///< one fused forward pass under the spec (= float32Ms when native)
    double outputRelError = 0;       ///< of the network's output, spec against float32
    double top1Agreement = 1;        ///< share of samples whose largest output is the same
    std::optional<double> float32Accuracy, specAccuracy;  ///< with labels
};

/// `inputs`: N × the graph's input features. `labels`: empty, or one per input (accuracy of the largest output).
/// ModelError / std::invalid_argument from the graph (an algorithm that cannot run a node says so).
LayerTableResult layerTable(const nn::Graph& graph, const nn::MatrixF& inputs, std::span<const std::uint8_t> labels,
                            const LayerTableOptions& options, const Progress& progress = {});

/// The Conv and Linear rows of a layer table with an `index` column (0, 1, …): what the charts draw (the element-wise
/// nodes' bars would crowd them).
Table productRows(const Table& layers);
/// Bars per product node, first on top: its output's relative error under the spec / its float32 time.
ChartSpec layerErrorChart(const std::string& caption);
ChartSpec layerTimeChart(const std::string& caption);

}  // namespace ks::study
