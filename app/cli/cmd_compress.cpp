// `kernelscope-cli compress`: the network-compression study headless — a CSV and the GUI's three
// charts (compression ratio vs accuracy, vs runtime, runtime vs accuracy with the Pareto front) as PNG.
#include <iostream>
#include <sstream>

#include "cli_charts.hpp"
#include "cli_io.hpp"
#include "command.hpp"
#include "sweep_tables.hpp"
#include "io/printable.hpp"
#include "conv/conv_registry.hpp"
#include "nn/model_io.hpp"
#include "study/compress_study.hpp"

namespace {

std::vector<std::string> splitOn(const std::string& text, char separator) {
    std::vector<std::string> out;
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, separator))
        if (!item.empty()) out.push_back(item);
    return out;
}

}  // namespace

KS_CLI_COMMAND(compressCommand) {
    ks::cli::Command c;
    c.name = "compress";
    c.summary = "Low-rank compression of the digit network: accuracy, runtime, Pareto front (CSV + PNG)";
    c.details =
        "Factors each Linear layer once by SVD, then for each setting keeps rank r (Σ folded into one\n"
        "factor: two GEMMs per layer), optionally fine-tunes the factors, classifies the test digits and\n"
        "times the inference of the whole test set (median of repeats, SVD excluded). Settings: one\n"
        "shared rank (--ranks; each layer capped at min(in, out), so fc3 runs at min(r, 10)), per-layer\n"
        "ranks (--layer-ranks) or kept-energy thresholds (--energies). Writes DIR/compress.csv and\n"
        "DIR/compress-ratio-accuracy.png, compress-ratio-runtime.png, compress-runtime-accuracy.png.";
    c.options = {
        {"out", "DIR", "folder for the CSV and PNGs", true, ""},
        {"weights", "FILE", "weight file (.pt/.pth/.safetensors/.npz), 'embedded' (the MLP) or 'embedded-cnn'", false, "embedded"},
        {"data", "SOURCE", "'embedded' (8,000 / 2,000 digits) or an MNIST IDX folder (train-* and t10k-* files)", false, "embedded"},
        {"ranks", "R,R,...", "shared ranks to sweep", false, "2,4,8,12,16,24,32,48,64,96,128,256,512"},
        {"layer-ranks", "L=R,..;...", "per-layer settings instead, e.g. 'fc1=44,fc2=20;fc1=16,fc2=8'", false, ""},
        {"energies", "E,E,...", "kept-energy thresholds in (0, 1] instead, e.g. 0.8,0.9,0.99", false, ""},
        {"fine-tune-epochs", "E", "fine-tune each setting's factors for E epochs (slow)", false, "0"},
        {"fine-tune-lr", "LR", "initial Adadelta learning rate of the fine-tuning (1.0 trains from scratch)", false, "0.1"},
        {"compute", "SPEC", "inference arithmetic: native, bf16, fp16, fp16/fp32, e4m3/fp32, ...", false, "native"},
        {"conv-algo", "NAME", "algorithm of the conv layers (CNNs): direct, im2col, winograd-*, fft", false, "im2col"},
        {"limit", "N", "classify a stratified subset of N test digits (for emulated arithmetic)", false, ""},
        {"threads", "T", "inference threads (default: all cores)", false, ""},
        {"no-dense", "", "leave out the uncompressed network's row", false, ""},
        ks::cli::shardOption(),
    };
    c.run = [](const ks::cli::Args& args) {
        using namespace ks;
        study::CompressSweep s;
        if (args.has("layer-ranks") && args.has("energies"))
            throw cli::UsageError("--layer-ranks and --energies are alternatives: give one");
        try {
            if (args.has("layer-ranks")) {
                s.mode = study::CompressionMode::PerLayerRanks;
                for (const auto& part : splitOn(args.get("layer-ranks"), ';')) s.layerRanks.push_back(nn::parseRanks(part));
            } else if (args.has("energies")) {
                s.mode = study::CompressionMode::Energy;
                s.energies.clear();
                for (const auto& part : splitOn(args.get("energies"), ',')) {
                    std::size_t used = 0;
                    const double e = std::stod(part, &used);
                    if (used != part.size() || !(e > 0 && e <= 1))
                        throw std::invalid_argument("energy '" + part + "' is not a number in (0, 1]");
                    s.energies.push_back(e);
                }
            } else {
                s.sharedRanks.clear();
                for (long long r : args.getIntList("ranks")) {
                    if (r < 1) throw std::invalid_argument("rank " + std::to_string(r) + " is not positive");
                    s.sharedRanks.push_back(r);
                }
            }
            s.compute = numeric::parseComputeSpec(args.get("compute"));
        } catch (const cli::UsageError&) {
            throw;
        } catch (const std::exception& e) {
            throw cli::UsageError(e.what());
        }
        s.fineTuneEpochs = int(args.getInt("fine-tune-epochs", 0, 100));
        s.fineTuneLearningRate = args.getDouble("fine-tune-lr");
        if (!(s.fineTuneLearningRate > 0)) throw cli::UsageError("--fine-tune-lr: must be positive");
        if (args.has("limit")) s.maxTestDigits = static_cast<std::size_t>(args.getInt("limit", 1, 1000000));
        if (args.has("threads")) s.threads = int(args.getInt("threads", 1, 256));
        try {
            s.convAlgorithm = conv::convAlgorithm(args.get("conv-algo")).name();
        } catch (const std::invalid_argument& e) {
            throw cli::UsageError(std::string("--conv-algo: ") + e.what());
        }
        s.includeDense = !args.flag("no-dense");
        s.timing = {2, 5, 200, 0.2};

        std::shared_ptr<const study::CompressionStudy> compression;
        if (args.get("weights") == "embedded" && args.get("data") == "embedded") {
            compression = study::CompressionStudy::embedded();
        } else {
            io::DigitSplit digits = nn::loadDigits(args.get("data"));
            compression = std::make_shared<const study::CompressionStudy>(nn::loadModel(args.get("weights")),
                                                                          std::move(digits.test), std::move(digits.train));
        }
        const std::string dir = args.get("out");
        cli::ensureDirectory(dir);
        cli::SweepTables tables("compress", args);
        const study::Table table = tables.sliced(
            "compress",
            [&](const study::Shard& shard) {
                cli::TerminalProgress bar("compress");
                study::CompressSweep slice = s;
                slice.shard = shard;
                return compression->run(slice, Progress([&](double f) { bar(f); }, nullptr));
            },
            study::markParetoFront);  // across every shard's rows
        if (tables.sharding()) return tables.finishShard();
        const std::string caption = args.get("weights") + "; " + s.describe();
        cli::writeText(dir + "/compress.csv", table.toCsv({"Compression sweep", caption}));
        std::cout << dir << "/compress.csv\n";
        // A short summary on the terminal: the numbers the charts show.
        const auto& names = table.labels("setting");
        for (std::size_t i = 0; i < table.rowCount(); ++i) {
            char line[160];
            std::snprintf(line, sizeof line, "  %-16s ratio %.4f  accuracy %.4f  %8.3f ms%s\n", io::printable(names[i]).c_str(),
                          table.numbers("compression_ratio")[i], table.numbers("accuracy")[i],
                          table.numbers("median_ms")[i], table.numbers("pareto")[i] != 0 ? "  (Pareto)" : "");
            std::cout << line;
        }
        if (cli::chartsAvailable()) {
            const study::ParetoChart pareto = study::runtimeAccuracyChart(table, std::nullopt, caption);
            const std::vector<std::pair<const study::Table*, study::ChartSpec>> charts = {
                {&table, study::compressionAccuracyChart(std::nullopt, caption)},
                {&table, study::compressionRuntimeChart(std::nullopt, caption)},
                {&pareto.table, pareto.spec}};
            for (const auto& [t, spec] : charts) {
                const std::string path = dir + "/" + spec.id + ".png";
                cli::writeChartPng(*t, spec, path);
                std::cout << path << "\n";
            }
        } else {
            std::cerr << "kernelscope-cli: built without the GUI library, no PNG written\n";
        }
        return 0;
    };
    return c;
}
