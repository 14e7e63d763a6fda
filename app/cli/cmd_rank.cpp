// `kernelscope-cli rank`: the rank study headless — error vs rank, the singular spectrum and the
// speed-up of a factored product, as CSV and as the GUI's charts (PNG).
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>

#include "base/parallel.hpp"
#include "cli_charts.hpp"
#include "cli_io.hpp"
#include "command.hpp"
#include "io/printable.hpp"
#include "io/npy.hpp"
#include "study/rank_study.hpp"
#include "sweep_tables.hpp"

namespace {

std::vector<std::string> splitList(const std::string& text) {
    std::vector<std::string> out;
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ','))
        if (!item.empty()) out.push_back(item);
    return out;
}

}  // namespace

KS_CLI_COMMAND(rankCommand) {
    ks::cli::Command c;
    c.name = "rank";
    c.summary = "Low-rank approximation: error vs rank, singular spectrum, speed-up (CSV + PNG)";
    c.details =
        "One exact SVD per input; the error of every rank is the tail of its singular values\n"
        "(Eckart-Young). Inputs: photo (the CC0 photo as pixels x RGB), mnist (512 digits, 512x784),\n"
        "gaussian (512x512 N(0,1)), activation (relu(fc1) of 512 digits, 512x512), weights (fc2,\n"
        "128x512), or a .npy file (a matrix, or an H x W x C image). The speed-up times\n"
        "(M x K)(K x N) dense against (A L_r) R_r with B factored beforehand (the SVD is excluded and\n"
        "reported as decomposition_ms). Writes DIR/rank-error, rank-spectrum, rank-speedup .csv/.png.";
    c.options = {
        {"out", "DIR", "folder for the CSV and PNG files", true, ""},
        {"input", "A,B,...", "photo, mnist, gaussian, activation, weights or FILE.npy", false,
         "photo,mnist,gaussian,activation,weights"},
        {"ranks", "R,R,...", "ranks of the error table (default: every rank)", false, ""},
        {"seed", "S", "seed of the Gaussian input and the speed-up operands", false, "1"},
        {"shape", "M,K,N", "the product timed for the speed-up", false, "512,512,128"},
        {"speedup-ranks", "R,R,...", "ranks timed (default: 1 … min(K, N) in steps)", false, ""},
        {"threads", "N", "threads of the timed products (default: every core; 1 is steadier on a busy machine)", false, ""},
        {"no-speedup", "", "skip the timing", false, ""},
        ks::cli::shardOption(),
    };
    c.run = [](const ks::cli::Args& args) {
        using namespace ks;
        const auto seed = static_cast<std::uint64_t>(args.getInt("seed", 0, (1ll << 62)));
        std::vector<std::int64_t> ranks;
        if (args.has("ranks"))
            for (auto r : args.getIntList("ranks")) {
                if (r < 1) throw cli::UsageError("--ranks: ranks must be at least 1, got " + std::to_string(r));
                ranks.push_back(r);
            }
        std::vector<study::RankInput> inputs;
        for (const std::string& name : splitList(args.get("input"))) {
            if (name.size() > 4 && name.substr(name.size() - 4) == ".npy") {
                const TensorD t = io::readNpy(name).toDouble();
                try {
                    inputs.push_back(study::rankInputFromTensor(std::filesystem::path(name).filename().string(), t));
                } catch (const std::invalid_argument& e) {
                    throw std::runtime_error(e.what());
                }
                continue;
            }
            study::RankInputKind kind;
            try {
                kind = study::parseRankInputKind(name);
            } catch (const std::invalid_argument& e) {
                throw cli::UsageError(std::string("--input: ") + e.what() + " or a .npy file");
            }
            inputs.push_back(study::makeRankInput(kind, seed));
        }
        if (inputs.empty()) throw cli::UsageError("--input: no input given");

        const std::string dir = args.get("out");
        cli::ensureDirectory(dir);
        const std::string caption = study::describeInputs(inputs);
        // The SVDs are one piece of work, not sliced: shard 1 runs them (the others time their speed-up ranks).
        cli::SweepTables tables("rank", args);
        std::vector<std::unique_ptr<study::RankAnalysis>> analyses;
        std::vector<const study::RankAnalysis*> pointers;
        const auto analyse = [&] {
            if (!analyses.empty()) return;
            cli::TerminalProgress bar("svd");
            for (std::size_t i = 0; i < inputs.size(); ++i) {
                analyses.push_back(std::make_unique<study::RankAnalysis>(std::move(inputs[i])));
                pointers.push_back(analyses.back().get());
                bar(double(i + 1) / double(inputs.size()));
            }
        };
        const study::Table error = tables.whole("rank-error", [&] {
            analyse();
            return study::rankErrorTable(pointers, ranks);
        });
        const study::Table spectrum = tables.whole("rank-spectrum", [&] {
            analyse();
            return study::spectrumTable(pointers);
        });
        for (const auto* a : pointers) {
            std::printf("%-12s %s\n  ||A||_F = %.4g   SVD %.1f ms\n  error at rank:", io::printable(a->input().name).c_str(),
                        a->input().description.c_str(), a->frobeniusNorm(), a->decompositionSeconds() * 1e3);
            for (std::int64_t r : {1, 2, 3, 8, 16, 32, 64, 128, 256})
                if (r <= a->fullRank()) std::printf(" r%lld %.4g", static_cast<long long>(r), a->frobeniusError(r));
            std::printf("\n");
        }
        if (!tables.sharding()) {
            cli::writeFigure(dir, error, error, study::rankErrorChart(std::nullopt, caption));
            cli::writeFigure(dir, spectrum, spectrum, study::rankSpectrumChart(caption));
        }

        if (!args.flag("no-speedup")) {
            study::SpeedupSweep sweep;
            const auto shape = args.getIntList("shape");
            if (shape.size() != 3) throw cli::UsageError("--shape: expected M,K,N");
            sweep.m = shape[0], sweep.k = shape[1], sweep.n = shape[2];
            sweep.seed = seed;
            if (args.has("threads")) setThreadCount(int(args.getInt("threads", 1, 1024)));
            if (args.has("speedup-ranks"))
                for (auto r : args.getIntList("speedup-ranks")) sweep.ranks.push_back(r);
            const study::Table timed = tables.sliced("rank-speedup", [&](const study::Shard& shard) {
                cli::TerminalProgress bar("speed-up");
                study::SpeedupSweep slice = sweep;
                slice.shard = shard;
                try {
                    return study::runSpeedupSweep(slice, Progress([&](double f) { bar(f); }, nullptr)).table;
                } catch (const std::invalid_argument& e) {
                    throw cli::UsageError(e.what());
                }
            });
            if (tables.sharding()) return tables.finishShard();
            const study::SpeedupResult result = study::speedupResult(timed, sweep.k, sweep.n);
            cli::writeFigure(dir, result.table, study::speedupChartTable(result.table), study::rankSpeedupChart(sweep));
            std::printf("speed-up of (%lldx%lld)(%lldx%lld), B factored offline: dense %.3f ms; FLOP break-even rank %.4g; ",
                        static_cast<long long>(sweep.m), static_cast<long long>(sweep.k), static_cast<long long>(sweep.k),
                        static_cast<long long>(sweep.n), result.denseMedianMs, result.flopBreakEvenRank);
            if (result.measuredBreakEvenRank) std::printf("measured break-even rank %.4g\n", *result.measuredBreakEvenRank);
            else std::printf("measured speed-up does not cross 1 in the ranks timed\n");
            const auto& t = result.table;
            for (std::size_t i = 0; i < t.rowCount(); ++i)
                std::printf("  r%-4g model %7.3fx  measured %7.3fx  factored %.4f ms  (SVD of B %.2f ms)\n", t.numbers("rank")[i],
                            t.numbers("flop_model_speedup")[i], t.numbers("measured_speedup")[i],
                            t.numbers("factored_median_ms")[i], t.numbers("decomposition_ms")[i]);
        }
        if (tables.sharding()) return tables.finishShard();
        return 0;
    };
    return c;
}
