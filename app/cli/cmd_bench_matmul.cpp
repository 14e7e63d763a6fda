// `kernelscope-cli bench matmul`: the methods on one shape, dense measured in the same run as the
// baseline; the low-rank rows time the factored product alone (B's SVD made once, beforehand).
#include <algorithm>
#include <cmath>
#include <deque>
#include <functional>
#include <cstdio>
#include <iostream>
#include <optional>
#include <sstream>

#include "base/statistics.hpp"
#include "base/parallel.hpp"
#include "base/timing.hpp"
#include "cli_io.hpp"
#include "cmd_matmul.hpp"
#include "command.hpp"
#include "matmul/dense_matmul.hpp"
#include "matmul/gemm.hpp"
#include "matmul/low_rank_factor.hpp"
#include "matmul/matmul_registry.hpp"
#include "matmul/svd_matmul.hpp"

using ks::cli::number;

namespace {

ks::TensorF uniformMatrix(std::int64_t rows, std::int64_t cols, std::uint32_t seed) {
    // A small LCG: deterministic data without pulling <random>'s distributions into the timing picture.
    ks::TensorF t({rows, cols});
    std::uint32_t state = seed * 2654435761u + 1;
    for (auto& v : t.storage()) {
        state = state * 1664525u + 1013904223u;
        v = static_cast<float>(state >> 8) * (2.0f / 16777216.0f) - 1.0f;
    }
    return t;
}

std::vector<std::string> splitList(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, ','))
        if (!item.empty()) out.push_back(item);
    return out;
}

}  // namespace

KS_CLI_COMMAND(benchMatmulCommand) {
    ks::cli::Command c;
    c.name = "bench matmul";
    c.summary = "Time matmul methods on a shape against dense (median of repeats, GFLOP/s, speed-ups)";
    c.details =
        "--shape M,K,N: C (M×N) = A (M×K) · B (K×N), data uniform[-1, 1]. `dense` (sgemm, float32) is\n"
        "the baseline, measured in the same run: in each of --rounds rounds every method is timed once,\n"
        "dense first. `svd` rows factor B once at each --rank\n"
        "(truncated SVD, not timed: as for a layer's weights, offline) and time the factored product\n"
        "(A·L)·R alone: 2·M·r·(K + N) FLOPs. Other methods (naive, log, lns-*) time the whole method.\n"
        "CSV columns: method,rank,median_ms,gflops,flop_model_speedup,measured_speedup where gflops counts\n"
        "the method's own FLOPs, flop_model_speedup = dense FLOPs / method FLOPs and measured_speedup =\n"
        "the median over rounds of dense time / method time (each a median of repeats), median_ms the\n"
        "median over rounds. A method that cannot run the shape is reported with its reason.";
    c.options = {{"shape", "M,K,N", "the product", true, ""},
                 {"rank", "R[,R...]", "ranks of B's factorisation for the svd rows", false, "8,16,32,64"},
                 {"methods", "LIST", "methods besides dense (comma-separated)", false, "svd"},
                 {"threads", "T", "threads of the float32 products (default: all cores)", false, ""},
                 {"dense-threading", "split|eigen", "split: sgemm, one block of C per thread; eigen: Eigen's OpenMP GEMM (baseline)", false, "split"},
                 {"min-seconds", "S", "measure each method at least this long per round", false, "0.2"},
                 {"rounds", "N", "rounds of measurement, every method once per round, dense first", false, "3"},
                 {"csv", "FILE", "write method,rank,median_ms,gflops,flop_model_speedup,measured_speedup", false, ""}};
    for (auto& o : ks::cli::matmulMethodOptions()) c.options.push_back(o);
    c.run = [](const ks::cli::Args& args) {
        const auto shape = args.getIntList("shape");
        if (shape.size() != 3) throw ks::cli::UsageError("--shape needs M,K,N (" + std::to_string(shape.size()) + " numbers given)");
        for (auto d : shape)
            if (d <= 0 || d > (1 << 16)) throw ks::cli::UsageError("--shape: dimensions must be in 1…65536");
        const std::int64_t m = shape[0], k = shape[1], n = shape[2];
        std::vector<std::int64_t> ranks;
        for (const auto& r : splitList(args.get("rank"))) {
            try {
                ranks.push_back(std::stoll(r));
            } catch (const std::exception&) {
                throw ks::cli::UsageError("--rank: expected comma-separated integers, got '" + args.get("rank") + "'");
            }
            if (ranks.back() <= 0) throw ks::cli::UsageError("--rank: ranks must be positive");
        }
        const std::vector<std::string> methods = splitList(args.get("methods"));
        for (const auto& name : methods) {
            try {
                (void)ks::matmul::matmulAlgorithm(name);
            } catch (const std::invalid_argument& e) {
                throw ks::cli::UsageError(std::string("--methods: ") + e.what());
            }
        }
        if (args.has("threads")) ks::setThreadCount(static_cast<int>(args.getInt("threads", 1, 256)));
        const std::string threading = args.get("dense-threading");
        if (threading == "eigen") ks::matmul::setDenseThreading(ks::matmul::DenseThreading::Eigen);
        else if (threading != "split") throw ks::cli::UsageError("--dense-threading: split or eigen, got '" + threading + "'");
        ks::matmul::MatmulOptions options = ks::cli::matmulOptionsFromArgs(args);
        ks::TimingOptions timing;
        timing.minSeconds = args.getDouble("min-seconds");
        const int rounds = static_cast<int>(args.getInt("rounds", 1, 1000));

        const ks::TensorF a = uniformMatrix(m, k, 1), b = uniformMatrix(k, n, 2);
        ks::TensorF out({m, n});
        const ks::matmul::MatmulProblem dense{m, k, n, std::nullopt, std::nullopt};

        // Everything to time, dense first. svd's factorisations are made here, untimed (offline, as
        // for a layer's weights); an unsupported method is reported with its reason.
        struct Contender {
            std::string method, rank;
            double flops;
            std::function<void()> run;
        };
        std::vector<Contender> contenders{
            {"dense", "none", dense.denseFlops(), [&] { ks::matmul::denseGemm(m, k, n, a.data(), b.data(), out.data()); }}};
        std::deque<ks::matmul::LowRankFactor> factors;  // the closures hold references: no reallocation
        std::vector<float> workspace;
        for (const auto& name : methods) {
            if (name == "dense") continue;
            const ks::matmul::MatmulAlgorithm& method = ks::matmul::matmulAlgorithm(name);
            if (method.lowRank()) {
                for (std::int64_t r : ranks) {
                    factors.push_back(options.svd.algorithm == ks::matmul::SvdAlgorithm::Randomized
                                          ? ks::matmul::LowRankFactor::randomizedSvd(b.span(), k, n, r, options.svd.oversampling,
                                                                                     options.svd.powerIterations, options.svd.seed)
                                          : ks::matmul::LowRankFactor::truncatedSvd(b.span(), k, n, r));
                    const ks::matmul::LowRankFactor& factor = factors.back();
                    workspace.resize(std::max(workspace.size(), static_cast<std::size_t>(m * factor.rank())));
                    contenders.push_back({"svd", std::to_string(factor.rank()), factor.flopsFromLeft(m),
                                          [&] { factor.multiplyFromLeft(a.data(), m, out.data(), workspace); }});
                }
                continue;
            }
            if (const auto reason = method.supports(dense, options)) {
                contenders.push_back({name, "unsupported: " + *reason, 0, nullptr});
                continue;
            }
            contenders.push_back({name, "none", method.flops(dense),
                                  [&, name] { ks::matmul::matmulAlgorithm(name).run(dense, a.span(), b.span(), out.span(), options); }});
        }

        // Rounds: every contender once per round, dense first; a method's speed-up is the median of
        // its per-round ratios to dense, so that the machine getting slower or faster during the run
        // (a shared one does) moves both sides of each ratio alike.
        std::vector<std::vector<double>> medians(contenders.size()), ratios(contenders.size());
        std::vector<double> fastest(contenders.size(), 1e300);
        for (int round = 0; round < rounds; ++round)
            for (std::size_t i = 0; i < contenders.size(); ++i) {
                if (!contenders[i].run) continue;
                const ks::TimingResult t = ks::measure(contenders[i].run, timing);
                medians[i].push_back(t.medianSeconds);
                fastest[i] = std::min(fastest[i], t.minSeconds);
                ratios[i].push_back(medians[0].back() / t.medianSeconds);
            }
        using ks::median;

        ks::cli::Table table{{"method", "rank", "median ms", "min ms", "GFLOP/s", "FLOP-model speed-up", "measured speed-up",
                              "of model"},
                             {}};
        ks::cli::Table csv{{"method", "rank", "median_ms", "gflops", "flop_model_speedup", "measured_speedup"}, {}};
        for (std::size_t i = 0; i < contenders.size(); ++i) {
            const Contender& entry = contenders[i];
            if (!entry.run) {
                table.rows.push_back({entry.method, "none", entry.rank, "", "", "", "", ""});
                continue;
            }
            const double seconds = median(medians[i]), modelSpeedup = dense.denseFlops() / entry.flops;
            const double measuredSpeedup = median(ratios[i]);
            // The text table adds the fastest repeat: on a shared machine it shows what the code can do.
            table.rows.push_back({entry.method, entry.rank, number("%.4f", seconds * 1e3), number("%.4f", fastest[i] * 1e3),
                                  number("%.1f", entry.flops / seconds * 1e-9), number("%.2f", modelSpeedup),
                                  number("%.2f", measuredSpeedup), number("%.0f %%", 100 * measuredSpeedup / modelSpeedup)});
            csv.rows.push_back({entry.method, entry.rank, number("%.6f", seconds * 1e3),
                                number("%.3f", entry.flops / seconds * 1e-9), number("%.4f", modelSpeedup),
                                number("%.4f", measuredSpeedup)});
        }

        std::cout << "matmul (" << m << "×" << k << ")·(" << k << "×" << n << ")  " << number("%.3f", dense.denseFlops() * 1e-9)
                  << " GFLOP dense  threads " << ks::threadCount() << " (" << threading << ")  (svd: B factored once, not timed)\n"
                  << "sgemm kernels: " << ks::matmul::sgemmKernelName() << "\n"
                  << table.toText();
        if (args.has("csv")) ks::cli::writeText(args.get("csv"), csv.toCsv());
        return 0;
    };
    return c;
}
