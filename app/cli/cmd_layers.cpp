// `kernelscope-cli layers`: the layer table of any network (an ONNX file, a weight file, the embedded
// models) under a compute spec and conv algorithm (study/layer_table.hpp).
#include <cmath>
#include <iostream>
#include <map>

#include "cli_io.hpp"
#include "cmd_matmul.hpp"
#include "command.hpp"
#include "conv/conv_registry.hpp"
#include "io/npy.hpp"
#include "io/printable.hpp"
#include "nn/low_rank.hpp"
#include "nn/model_io.hpp"
#include "numeric/compute_spec.hpp"
#include "study/layer_table.hpp"

namespace {

/// "name=algo,name=algo", one algorithm for every conv node, or "find" (the fastest per node, timed on `findBatch`
/// images).
void convAlgorithms(const std::string& text, const ks::nn::Graph& graph, std::int64_t findBatch,
                    ks::nn::GraphRunOptions& options) {
    if (text == "find") {
        options.convAlgorithmByNode = ks::nn::fastestConvAlgorithms(graph, findBatch);
        return;
    }
    try {
        if (text.find('=') == std::string::npos) {
            options.inference.convAlgorithm = ks::conv::convAlgorithm(text).name();
            return;
        }
        std::size_t start = 0;
        while (start <= text.size()) {
            const std::size_t comma = std::min(text.find(',', start), text.size());
            const std::string item = text.substr(start, comma - start);
            const std::size_t eq = item.find('=');
            if (eq == std::string::npos || eq == 0) throw std::invalid_argument("'" + item + "' is not node=algorithm");
            options.convAlgorithmByNode.emplace_back(item.substr(0, eq), ks::conv::convAlgorithm(item.substr(eq + 1)).name());
            start = comma + 1;
        }
    } catch (const std::invalid_argument& e) {
        throw ks::cli::UsageError(std::string("--conv-algo: ") + e.what());
    }
}

}  // namespace

KS_CLI_COMMAND(layersCommand) {
    ks::cli::Command c;
    c.name = "layers";
    c.summary = "Per-layer table of any network (ONNX or weights): shape, FLOPs, time, error under a spec, spectrum";
    c.details =
        "Runs a network node by node on the inputs and prints, for every node: its output shape, parameters,\n"
        "MFLOP per sample, time (median of float32 runs over the batch), the relative error of its output\n"
        "under --compute against float32 (the error reaching it from the layers before included), and for\n"
        "Conv and Gemm nodes the rank of the weight matrix (a Conv's K × C·R·S) and the ranks keeping 90 %\n"
        "and 99 % of its singular values' energy. Then the whole network: fused time, output error, top-1\n"
        "agreement with float32, and the accuracy when the inputs are labelled digits.\n"
        "ONNX models read: CNNs and MLPs of Conv, Gemm, MatMul, Add, Relu, Clip, Sigmoid, Tanh, MaxPool,\n"
        "AveragePool, GlobalAveragePool, Flatten, Reshape, Pad, Constant, BatchNormalization (folded into\n"
        "its Conv), Softmax, LogSoftmax, Identity, Dropout. Digit models (784 inputs) read the digits\n"
        "normalised as (x/255 − 0.1307)/0.3081; --inputs gives other inputs as .npy (N × the input shape).";
    c.options = {
        {"model", "FILE", "ONNX file, weight file, 'embedded' (the MLP) or 'embedded-cnn'", false, "embedded"},
        {"data", "SOURCE", ks::cli::kTestDataHelp, false, "embedded"},
        {"inputs", "FILE", "inputs as .npy (N × the model's input shape) instead of digits: no accuracy", false, ""},
        {"limit", "N", "the first N inputs", false, ""},
        {"compute", "SPEC", "arithmetic, e.g. native, fp16, bf16/fp32, e4m3/fp32, mxfp8", false, "native"},
        ks::cli::emulationOption(),
        {"conv-algo", "NAME|LIST", "conv algorithm of every Conv node, node=algo,… per node, or 'find' (the fastest per node, timed on 64 inputs)", false, "direct"},
        {"rank", "LIST", "low rank per Conv / Gemm node by truncated SVD, e.g. /fc1/Gemm=16 or all=8 (a Conv becomes R×S then 1×1)", false, ""},
        {"labels", "FILE", "with --inputs: their classes as .npy (N integer values, stored as float32/float64): accuracy", false, ""},
        {"repeats", "N", "float32 runs timed per node", false, "5"},
        {"threads", "T", "threads (default: all cores)", false, ""},
        {"csv", "FILE", "write the table as CSV (atomically)", false, ""},
    };
    c.run = [](const ks::cli::Args& args) {
        ks::nn::Graph graph = ks::nn::loadGraph(args.get("model"));
        if (args.has("rank")) {
            std::map<std::string, std::int64_t> ranks;
            try {
                ranks = ks::nn::parseRanks(args.get("rank"));
            } catch (const std::invalid_argument& e) {
                throw ks::cli::UsageError(std::string("--rank: ") + e.what());
            }
            try {
                graph = graph.withRanks(ranks);
            } catch (const ks::nn::ModelError& e) {
                throw ks::cli::UsageError(std::string("--rank: ") + e.what());
            }
        }
        ks::study::LayerTableOptions options;
        try {
            options.spec = ks::numeric::parseComputeSpec(args.get("compute"));
        } catch (const std::exception& e) {
            throw ks::cli::UsageError(std::string("--compute: ") + e.what());
        }
        options.run.inference.emulation = ks::cli::emulationFromArgs(args);
        if (args.has("threads")) options.run.inference.threads = static_cast<int>(args.getInt("threads", 1, 256));
        options.timingRepeats = static_cast<int>(args.getInt("repeats", 1, 1000));

        ks::nn::MatrixF inputs;
        std::vector<std::uint8_t> labels;
        if (args.has("inputs")) {
            const ks::TensorF t = ks::io::readNpyFloat(args.get("inputs"));
            const std::int64_t rows = t.shape().empty() ? 0 : t.shape().front();
            if (rows <= 0 || std::int64_t(t.size()) != rows * graph.inputFeatures())
                throw ks::cli::UsageError("--inputs: " + std::to_string(t.size()) + " values are not N samples of " +
                                          graph.inputShape().toString());
            inputs = Eigen::Map<const ks::nn::MatrixF>(t.data(), rows, graph.inputFeatures());
            if (args.has("labels")) {
                const ks::TensorD l = ks::io::readNpyDouble(args.get("labels"));
                if (graph.outputFeatures() > 256) throw ks::cli::UsageError("--labels: the model has more than 256 classes");
                if (std::int64_t(l.size()) != rows)
                    throw ks::cli::UsageError("--labels: " + std::to_string(l.size()) + " labels for " + std::to_string(rows) + " inputs");
                for (std::size_t i = 0; i < l.size(); ++i) {
                    const double v = l.data()[i];
                    if (!(v >= 0 && v < double(graph.outputFeatures()) && v == std::floor(v)))
                        throw ks::cli::UsageError("--labels: label " + std::to_string(i) + " is not a class of the model's " +
                                                  std::to_string(graph.outputFeatures()) + " outputs");
                    labels.push_back(std::uint8_t(v));
                }
            }
        } else {
            if (args.has("labels")) throw ks::cli::UsageError("--labels: give the inputs they label with --inputs");
            if (graph.inputFeatures() != 784)
                throw ks::cli::UsageError("the model takes " + graph.inputShape().toString() +
                                          " inputs, not 28×28 digits: give them with --inputs FILE.npy");
            const ks::io::DigitSet digits = ks::cli::testDigits(args.get("data"));
            inputs = ks::nn::toMatrix(digits.normalisedImages());
            if (graph.outputFeatures() == 10) labels = digits.labels;
        }
        if (args.has("limit")) {
            const auto n = args.getInt("limit", 1, inputs.rows());
            inputs = ks::nn::MatrixF(inputs.topRows(n));
            if (!labels.empty()) labels.resize(std::size_t(n));
        }
        convAlgorithms(args.get("conv-algo"), graph, std::min<std::int64_t>(64, inputs.rows()), options.run);
        const ks::study::LayerTableResult r = ks::study::layerTable(graph, inputs, labels, options);

        const ks::study::Table& t = r.layers;
        ks::cli::Table out;
        out.columns = {"node", "op", "output", "algorithm", "params", "MFLOP", "time ms", "rel error", "rank", "r90%", "r99%"};
        for (std::size_t i = 0; i < t.rowCount(); ++i) {
            const bool product = !std::isnan(t.numbers("rank")[i]);
            const auto integer = [&](const char* column) {
                return product ? ks::cli::number("%.0f", t.numbers(column)[i]) : std::string("");
            };
            out.rows.push_back({ks::io::printable(t.labels("node")[i]), t.labels("op")[i], t.labels("output_shape")[i],
                                t.labels("algorithm")[i],
                                ks::cli::number("%.0f", t.numbers("parameters")[i]),
                                ks::cli::number("%.3f", t.numbers("mflop_per_sample")[i]),
                                ks::cli::number("%.3f", t.numbers("time_ms")[i]),
                                ks::cli::number("%.2e", t.numbers("output_rel_error")[i]), integer("rank"), integer("rank_90"),
                                integer("rank_99")});
        }
        std::cout << "model: " << ks::io::printable(graph.describe()) << " (" << graph.source() << ")\n"
                  << "compute: " << ks::numeric::computeSpecName(options.spec) << ", " << inputs.rows() << " inputs\n\n"
                  << out.toText() << "\n"
                  << "whole network: float32 " << ks::cli::number("%.3f", r.float32Ms) << " ms";
        if (!options.spec.native) std::cout << ", " << ks::numeric::computeSpecName(options.spec) << " " << ks::cli::number("%.3f", r.specMs) << " ms";
        std::cout << "\noutput rel error: " << ks::cli::number("%.3e", r.outputRelError)
                  << "\ntop-1 agreement with float32: " << ks::cli::number("%.4f", r.top1Agreement) << "\n";
        if (r.float32Accuracy)
            std::cout << "accuracy: float32 " << ks::cli::number("%.4f", *r.float32Accuracy) << ", "
                      << ks::numeric::computeSpecName(options.spec) << " " << ks::cli::number("%.4f", *r.specAccuracy) << "\n";
        if (args.has("csv")) {
            ks::cli::writeText(args.get("csv"), t.toCsv({"kernelscope-cli layers " + ks::io::printable(args.get("model")),
                                                          "compute " + ks::numeric::computeSpecName(options.spec)}));
        }
        return 0;
    };
    return c;
}
