// `kernelscope-cli eval`: accuracy and speed of a digit classifier (the embedded default or the
// user's weight file), optionally low-rank (--rank) and in an emulated arithmetic (--compute).
#include <cstdio>
#include <iostream>

#include "base/timing.hpp"
#include "cli_io.hpp"
#include "cmd_matmul.hpp"
#include "command.hpp"
#include "conv/conv_registry.hpp"
#include "io/printable.hpp"
#include "matmul/matmul_registry.hpp"
#include "nn/low_rank.hpp"
#include "nn/model_io.hpp"
#include "numeric/compute_spec.hpp"
#include "numeric/format.hpp"

namespace {

std::string printf1(const char* format, double value) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, format, value);
    return buffer;
}

/// --compute's spec (a usage error naming the option when it does not parse).
ks::numeric::ComputeSpec computeSpecOf(const ks::cli::Args& args) {
    try {
        return ks::numeric::parseComputeSpec(args.get("compute"));
    } catch (const std::exception& e) {
        throw ks::cli::UsageError(std::string("--compute: ") + e.what());
    }
}

/// --data's test digits, or --limit of them (a stratified subset).
ks::io::DigitSet evalDigits(const ks::cli::Args& args) {
    ks::io::DigitSet test = ks::cli::testDigits(args.get("data"));
    if (!args.has("limit")) return test;
    const auto limit = static_cast<std::size_t>(args.getInt("limit", 1, static_cast<long long>(test.count())));
    const auto mask = ks::io::stratifiedTestMask(test.labels, limit);
    std::vector<std::size_t> keep;
    for (std::size_t i = 0; i < mask.size(); ++i)
        if (mask[i]) keep.push_back(i);
    return test.subset(keep);
}

/// An ONNX graph that is not a sequential network: run as a graph (no --matmul: that acts on Models' layers).
int evalGraph(ks::nn::Graph graph, const std::string& why, const ks::cli::Args& args) {
    for (const char* option : {"matmul", "log-format"})
        if (args.has(option))
            throw ks::cli::UsageError(std::string("--") + option + ": the model is not a sequential network (" + why +
                                      "); it runs as a graph, with --compute, --conv-algo, --rank and --emulation");
    if (args.has("rank")) {
        try {
            graph = graph.withRanks(ks::nn::parseRanks(args.get("rank")));
        } catch (const std::exception& e) {
            throw ks::cli::UsageError(std::string("--rank: ") + e.what());
        }
    }
    const ks::numeric::ComputeSpec spec = computeSpecOf(args);
    if (graph.inputFeatures() != 784 || graph.outputFeatures() != 10)
        throw ks::cli::UsageError("the model maps " + graph.inputShape().toString() + " to " + graph.outputShape().toString() +
                                  "; eval classifies 28×28 digits into 10 classes (`layers --inputs` runs any network)");
    const ks::io::DigitSet test = evalDigits(args);
    ks::nn::GraphRunOptions options;
    options.inference.emulation = ks::cli::emulationFromArgs(args);
    if (args.has("threads")) options.inference.threads = static_cast<int>(args.getInt("threads", 1, 256));
    try {
        options.inference.convAlgorithm = ks::conv::convAlgorithm(args.get("conv-algo")).name();
    } catch (const std::invalid_argument& e) {
        throw ks::cli::UsageError(std::string("--conv-algo: ") + e.what());
    }
    const ks::nn::MatrixF images = ks::nn::toMatrix(test.normalisedImages());
    ks::nn::MatrixF out;
    ks::TimingOptions timing;
    if (!spec.native) timing = {0, 1, 1, 0.0};
    const ks::TimingResult t = ks::measure([&] { out = graph.forward(images, spec, options); }, timing);
    const double n = static_cast<double>(test.count());
    std::cout << "model: " << ks::io::printable(graph.describe()) << " (ONNX graph: " << graph.source() << ")\n"
              << "compute: " << ks::numeric::computeSpecName(spec) << " ("
              << (spec.native ? "float32 sgemm" : "emulated") << ", conv " << options.inference.convAlgorithm << ")\n"
              << "accuracy: " << printf1("%.4f", ks::nn::accuracy(out, test.labels)) << "\n"
              << "time per image: " << printf1("%.3f", t.medianSeconds / n * 1e6) << " µs (" << test.count()
              << " images in " << printf1("%.3f", t.medianSeconds * 1e3) << " ms, median of " << t.repeats << " runs; "
              << printf1("%.3f", graph.flopsPerSample() * n * 1e-9) << " GFLOP, "
              << printf1("%.1f", graph.flopsPerSample() * n / t.medianSeconds * 1e-9) << " GFLOP/s)\n";
    return 0;
}

}  // namespace

KS_CLI_COMMAND(evalCommand) {
    ks::cli::Command c;
    c.name = "eval";
    c.summary = "Test accuracy and time per image of a digit classifier";
    c.details =
        "Loads a network (PyTorch .pt/.pth state_dict, .safetensors, .npz) or the embedded default:\n"
        "Linear layers, or the small CNN (conv1.weight, conv2.weight 4-D: each conv 3×3 'same', ReLU,\n"
        "max-pool 2; then Linear layers); or an ONNX model of any CNN or MLP (see `layers --help` for\n"
        "the operators), which runs as a graph unless it is such a chain of layers. Optionally truncates Linear layers to a rank by SVD (Σ folded\n"
        "into one factor: two GEMMs per layer), runs the test digits and prints `accuracy: 0.xxxx` and\n"
        "the time per image (median of repeated runs over the whole batch). --conv-algo picks the\n"
        "convolution algorithm of the conv layers. With --compute the network runs in emulated\n"
        "arithmetic, convolutions included, bit for bit as the reference (--emulation): in a format of up to\n"
        "11 bits of precision, rounded to nearest or in a directed mode, all digits take tens of milliseconds\n"
        "(the MLP) or a few tenths of a second (the CNN), rounded stochastically under a second; other specs\n"
        "seconds (--limit: a stratified subset).";
    c.options = {
        {"weights", "FILE", "weight file, ONNX model, 'embedded' (the MLP) or 'embedded-cnn'", false, "embedded"},
        {"data", "SOURCE", ks::cli::kTestDataHelp, false, "embedded"},
        {"rank", "LIST", "low-rank layers, e.g. fc1=32,fc2=16 (or all=R for every layer)", false, ""},
        {"compute", "SPEC", "arithmetic, e.g. native, bf16, fp16/fp32, e4m3/fp32", false, "native"},
        ks::cli::emulationOption(),
        {"conv-algo", "NAME", "algorithm of the conv layers: direct, im2col, winograd-*, fft", false, "direct"},
        {"activation-scale", "MODE", "with an integer --compute such as int8: per-tensor (one scale per layer input over the batch, calibrated in float32) or per-sample", false, "per-tensor"},
        {"matmul", "METHOD", "run every layer's product through this matmul method (naive, log, lns-binned, ...)", false, ""},
        {"log-format", "F", "with --matmul log / lns-*: the LNS format of the operands, e.g. log5.3", false, ""},
        {"limit", "N", "evaluate a stratified subset of N test digits", false, ""},
        {"threads", "T", "threads (default: all cores)", false, ""},
    };
    c.run = [](const ks::cli::Args& args) {
        const std::string source = args.get("weights");
        if (source != "embedded" && source != "embedded-cnn" && ks::nn::isOnnxFile(source)) {
            const ks::nn::Graph graph = ks::nn::Graph::readOnnx(source);
            std::string why;
            if (!graph.toModel(&why)) return evalGraph(graph, why, args);
        }
        ks::nn::Model model = ks::nn::loadModel(source);
        if (args.has("rank")) {
            const std::string text = args.get("rank");
            const ks::nn::ModelFactorisation factors(model);
            try {
                if (text.rfind("all=", 0) == 0) {
                    const auto ranks = ks::nn::parseRanks("all=" + text.substr(4));
                    model = factors.withSharedRank(ranks.at("all"));
                } else {
                    model = factors.withRanks(ks::nn::parseRanks(text));
                }
            } catch (const std::invalid_argument& e) {
                throw ks::cli::UsageError(std::string("--rank: ") + e.what());
            } catch (const ks::nn::ModelError& e) {
                throw ks::cli::UsageError(std::string("--rank: ") + e.what());
            }
        }
        const ks::numeric::ComputeSpec spec = computeSpecOf(args);
        const ks::io::DigitSet test = evalDigits(args);
        ks::nn::InferenceOptions options;
        options.emulation = ks::cli::emulationFromArgs(args);
        if (args.has("threads")) options.threads = static_cast<int>(args.getInt("threads", 1, 256));
        try {
            options.convAlgorithm = ks::conv::convAlgorithm(args.get("conv-algo")).name();
        } catch (const std::invalid_argument& e) {
            throw ks::cli::UsageError(std::string("--conv-algo: ") + e.what());
        }
        const std::string scaleMode = args.get("activation-scale");
        if (scaleMode == "per-sample")
            options.activationScale = ks::nn::ActivationScale::PerSample;
        else if (scaleMode != "per-tensor")
            throw ks::cli::UsageError("--activation-scale: '" + scaleMode + "' is neither per-tensor nor per-sample");
        const ks::nn::MatrixF images = ks::nn::toMatrix(test.normalisedImages());

        ks::nn::MatrixF logp;
        ks::TimingOptions timing;
        if (!spec.native) timing = {0, 1, 1, 0.0};  // emulation is slow and deterministic: one run
        ks::TimingResult t;
        std::string method = "float32 sgemm";
        if (model.hasConvolutions()) method += ", conv " + options.convAlgorithm;
        if (args.has("matmul")) {
            const ks::matmul::MatmulAlgorithm* m = nullptr;
            try {
                m = &ks::matmul::matmulAlgorithm(args.get("matmul"));
            } catch (const std::invalid_argument& e) {
                throw ks::cli::UsageError(std::string("--matmul: ") + e.what());
            }
            ks::matmul::MatmulOptions matmulOptions;
            matmulOptions.compute = spec;
            matmulOptions.emulation = options.emulation;
            if (args.has("log-format")) {
                try {
                    matmulOptions.logFormat = ks::numeric::parseFormat(args.get("log-format"));
                } catch (const std::exception& e) {
                    throw ks::cli::UsageError(std::string("--log-format: ") + e.what());
                }
            }
            method = "matmul method " + m->name();
            const bool slow = !spec.native || m->name() != "dense";
            if (slow) timing = {0, 1, 1, 0.0};
            t = ks::measure([&] { logp = model.forward(images, *m, matmulOptions); }, timing);
        } else {
            if (!spec.native) method = model.hasConvolutions() ? "emulated, conv " + options.convAlgorithm : "emulated";
            if (spec.storage.kind == ks::numeric::FormatKind::ScaledInt && !(spec.storage.scale > 0))
                method += ", activations scaled " + scaleMode;
            t = ks::measure([&] { logp = model.forward(images, spec, options); }, timing);
        }
        const double accuracy = ks::nn::accuracy(logp, test.labels);
        const double n = static_cast<double>(test.count());
        std::cout << "model: " << ks::io::printable(model.describe()) << "\n"
                  << "compute: " << ks::numeric::computeSpecName(spec) << " (" << method << ")\n"
                  << "accuracy: " << printf1("%.4f", accuracy) << "\n"
                  << "time per image: " << printf1("%.3f", t.medianSeconds / n * 1e6) << " µs ("
                  << test.count() << " images in " << printf1("%.3f", t.medianSeconds * 1e3) << " ms, median of "
                  << t.repeats << " runs; " << printf1("%.3f", model.flopsPerSample() * n * 1e-9) << " GFLOP, "
                  << printf1("%.1f", model.flopsPerSample() * n / t.medianSeconds * 1e-9) << " GFLOP/s)\n";
        return 0;
    };
    return c;
}
