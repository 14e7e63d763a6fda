// `kernelscope-cli bench mlp`: inference time of the digit MLP at full rank and with low-rank
// layers, against the FLOP model's speed-up, with the accuracy each network keeps.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iostream>

#include "base/statistics.hpp"
#include "base/timing.hpp"
#include "cli_io.hpp"
#include "command.hpp"
#include "nn/low_rank.hpp"
#include "nn/model_io.hpp"

using ks::cli::number;

KS_CLI_COMMAND(benchMlpCommand) {
    ks::cli::Command c;
    c.name = "bench mlp";
    c.summary = "Time the digit MLP at full rank and at shared ranks (low-rank layers, SVD done offline)";
    c.details =
        "Every network runs the whole batch of test digits (float32 on ks::matmul::sgemmPacked: each\n"
        "thread takes its block of rows through all the layers, in L2-sized tiles when the weights are\n"
        "small, bias and ReLU in the GEMM's epilogue). A rank r applies to every Linear layer (capped at\n"
        "min(in, out): fc3 stays dense from r = 10). model_speedup is the FLOP ratio dense / factored;\n"
        "measured_speedup the median over rounds of dense time / factored time (paired by round);\n"
        "efficiency = measured / model speed-up. median_ms: median wall time of the whole batch, the\n"
        "networks measured alternately; min_ms: the fastest run; cpu_ms: process CPU time per run (all\n"
        "threads), for loaded machines where wall time includes waiting.";
    c.options = {
        {"weights", "FILE", "weight file, 'embedded' (the MLP) or 'embedded-cnn'", false, "embedded"},
        {"data", "SOURCE", ks::cli::kTestDataHelp, false, "embedded"},
        {"ranks", "LIST", "shared ranks", false, "8,16,32,64,128,256"},
        {"threads", "T", "threads (default: all cores)", false, ""},
        {"rounds", "N", "alternating rounds of measurement (the median of each network's rounds is kept)", false, "3"},
        {"csv", "FILE", "also write the table as CSV", false, ""},
    };
    c.run = [](const ks::cli::Args& args) {
        const ks::nn::Model dense = ks::nn::loadModel(args.get("weights"));
        const ks::io::DigitSet test = ks::cli::testDigits(args.get("data"));
        const ks::nn::MatrixF images = ks::nn::toMatrix(test.normalisedImages());
        ks::nn::InferenceOptions options;
        if (args.has("threads")) options.threads = static_cast<int>(args.getInt("threads", 1, 256));
        const int rounds = static_cast<int>(args.getInt("rounds", 1, 100));
        const ks::nn::ModelFactorisation factors(dense);

        std::vector<ks::nn::Model> models{dense};
        std::vector<std::string> names{"dense"};
        for (const long long r : args.getIntList("ranks")) {
            if (r < 1) throw ks::cli::UsageError("--ranks: ranks must be positive");
            models.push_back(factors.withSharedRank(r));
            names.push_back(std::to_string(r));
        }
        // Wall-clock medians are what to quote on a quiet machine. On a shared, loaded one the fastest
        // run and the CPU time per run (all threads together) show what the code does when it runs.
        std::vector<std::vector<double>> seconds(models.size());
        std::vector<double> fastest(models.size(), 1e300), cpuPerRun(models.size(), 0);
        std::vector<int> runs(models.size(), 0);
        for (int round = 0; round < rounds; ++round)
            for (std::size_t m = 0; m < models.size(); ++m) {
                ks::nn::MatrixF out;
                const std::clock_t cpuStart = std::clock();
                const ks::TimingResult t = ks::measure([&] { out = models[m].forward(images, options); });
                cpuPerRun[m] += double(std::clock() - cpuStart) / CLOCKS_PER_SEC;
                runs[m] += t.repeats + ks::TimingOptions{}.warmupRuns;
                seconds[m].push_back(t.medianSeconds);
                fastest[m] = std::min(fastest[m], t.minSeconds);
            }
        using ks::median;
        ks::cli::Table table;
        table.columns = {"rank", "parameters", "compression", "accuracy", "gflop", "median_ms", "min_ms", "cpu_ms",
                         "gflops", "model_speedup", "measured_speedup", "efficiency"};
        const double n = static_cast<double>(test.count());
        for (std::size_t m = 0; m < models.size(); ++m) {
            const ks::nn::Model& model = models[m];
            const double s = median(seconds[m]);
            // Paired by round: the machine slowing down or speeding up during the run (a shared one
            // does) moves both sides of each ratio alike.
            std::vector<double> ratios;
            for (std::size_t r = 0; r < seconds[m].size(); ++r) ratios.push_back(seconds[0][r] / seconds[m][r]);
            const double measuredSpeedup = median(ratios);
            const double accuracy = ks::nn::accuracy(model.forward(images, options), test.labels);
            const double modelSpeedup = dense.flopsPerSample() / model.flopsPerSample();
            table.rows.push_back({names[m], std::to_string(model.parameterCount()), number("%.4f", model.compressionRatio()),
                                  number("%.4f", accuracy), number("%.3f", model.flopsPerSample() * n * 1e-9),
                                  number("%.3f", s * 1e3), number("%.3f", fastest[m] * 1e3),
                                  number("%.3f", cpuPerRun[m] / runs[m] * 1e3), number("%.1f", model.flopsPerSample() * n / s * 1e-9),
                                  number("%.2f", modelSpeedup), number("%.2f", measuredSpeedup),
                                  number("%.2f", measuredSpeedup / modelSpeedup)});
        }
        std::cout << test.count() << " test digits, " << (options.threads ? options.threads : 0)
                  << " threads (0 = all)\n"
                  << table.toText();
        if (args.has("csv")) ks::cli::writeText(args.get("csv"), table.toCsv());
        return 0;
    };
    return c;
}
