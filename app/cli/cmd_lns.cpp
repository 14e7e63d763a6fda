// `kernelscope-cli lns`: the log-accumulation study headless — CSVs and the GUI's charts as PNG.
#include <iostream>
#include <optional>

#include "cli_charts.hpp"
#include "cli_io.hpp"
#include "command.hpp"
#include "sweep_tables.hpp"
#include "study/lns_study.hpp"

namespace {

std::vector<int> intList(const ks::cli::Args& args, const std::string& name, int lo, int hi) {
    std::vector<int> out;
    for (auto v : args.getIntList(name)) {
        if (v < lo || v > hi)
            throw ks::cli::UsageError("--" + name + ": values must be in " + std::to_string(lo) + "…" + std::to_string(hi) +
                                      ", got " + std::to_string(v));
        out.push_back(int(v));
    }
    if (out.empty()) throw ks::cli::UsageError("--" + name + ": give at least one value");
    return out;
}

}  // namespace

KS_CLI_COMMAND(lnsCommand) {
    ks::cli::Command c;
    c.name = "lns";
    c.summary = "Log-domain accumulation error vs LNS fraction bits and accumulator width (CSV + PNG)";
    c.details =
        "Dot products (or a matmul with --shape) of seeded random operands, quantised to an LNS format\n"
        "(sign + I integer + F fraction bits of log2|x|), summed by: log (converted back, float32 sum),\n"
        "lns-sequential (Gaussian logarithms, exact / table / Mitchell, rounded after every addition) and\n"
        "lns-binned (NVIDIA's remainder-indexed integer accumulators, exact or b-bit constants, with and\n"
        "without convert-back). Errors against the exact product and against the exact sum of the\n"
        "quantised products, so quantisation and accumulation error are told apart. Writes\n"
        "DIR/lns-fraction-bits.csv, DIR/lns-accumulator-bits.csv and the charts\n"
        "lns-fraction-bits-exact.png, lns-fraction-bits-quantised.png, lns-accumulator-bits.png.";
    c.options = {
        {"out", "DIR", "folder for the CSVs and PNGs", true, ""},
        {"fraction-bits", "LIST", "LNS fraction bits to sweep", false, "0,1,2,3,4,5,6,7,8,9,10"},
        {"accumulator-bits", "LIST", "accumulator widths to sweep (binned)", false, "4,6,8,10,12,14,16,20,24,32"},
        {"width-fraction-bits", "F", "fraction bits of the accumulator-width sweep", false, "3"},
        {"integer-bits", "I", "integer bits of log2|x|", false, "5"},
        {"constant-bits", "B", "precision of the b-bit table constants", false, "8"},
        {"shape", "M,K,N", "(M×K)·(K×N); 1,256,1 is a dot product of length 256", false, "1,256,1"},
        {"trials", "N", "random operand sets", false, "200"},
        {"distribution", "D", "normal, uniform or image", false, "normal"},
        {"seed", "S", "random seed", false, "1"},
        ks::cli::shardOption(),
    };
    c.run = [](const ks::cli::Args& args) {
        using namespace ks;
        study::LnsSweep s;
        s.fractionBits = intList(args, "fraction-bits", 0, 16);
        s.accumulatorBits = intList(args, "accumulator-bits", 2, 62);
        s.widthSweepFractionBits = int(args.getInt("width-fraction-bits", 0, 16));
        s.integerBits = int(args.getInt("integer-bits", 1, 16));
        s.constantBits = int(args.getInt("constant-bits", 1, 52));
        const auto shape = args.getIntList("shape");
        if (shape.size() != 3) throw cli::UsageError("--shape needs M,K,N");
        for (auto d : shape)
            if (d < 1 || d > 65536) throw cli::UsageError("--shape: dimensions must be in 1…65536");
        s.m = shape[0], s.length = shape[1], s.n = shape[2];
        s.trials = int(args.getInt("trials", 1, 1000000));
        s.seed = static_cast<std::uint64_t>(args.getInt("seed", 0, (1ll << 62)));
        try {
            s.distribution = study::parseDistribution(args.get("distribution"));
        } catch (const std::invalid_argument& e) {
            throw cli::UsageError(e.what());
        }
        const std::string dir = args.get("out");
        cli::ensureDirectory(dir);
        // One run yields both tables; a shard runs its slice of their points (fraction bits, then widths).
        cli::SweepTables tables("lns", args);
        std::optional<study::LnsResult> run;
        const auto slice = [&](const study::Shard& shard) -> const study::LnsResult& {
            if (!run) {
                cli::TerminalProgress bar("lns");
                study::LnsSweep part = s;
                part.shard = shard;
                run = study::runLnsSweep(part, Progress([&](double f) { bar(f); }, nullptr));
            }
            return *run;
        };
        const study::LnsResult result{
            tables.sliced("lns-fraction-bits", [&](const study::Shard& shard) { return slice(shard).byFractionBits; }),
            tables.sliced("lns-accumulator-bits", [&](const study::Shard& shard) { return slice(shard).byAccumulatorBits; })};
        if (tables.sharding()) return tables.finishShard();
        cli::writeText(dir + "/lns-fraction-bits.csv", result.byFractionBits.toCsv({"Log accumulation by fraction bits", s.describe()}));
        cli::writeText(dir + "/lns-accumulator-bits.csv",
                       result.byAccumulatorBits.toCsv({"Binned accumulation by accumulator width", study::lnsAccumulatorChart(s).caption}));
        std::cout << dir << "/lns-fraction-bits.csv\n" << dir << "/lns-accumulator-bits.csv\n";
        if (!cli::chartsAvailable()) {
            std::cerr << "kernelscope-cli: built without the GUI library, no PNG written\n";
            return 0;
        }
        const std::pair<const study::Table*, study::ChartSpec> charts[] = {
            {&result.byFractionBits, study::lnsFractionChart(s, "exact")},
            {&result.byFractionBits, study::lnsFractionChart(s, "quantised")},
            {&result.byAccumulatorBits, study::lnsAccumulatorChart(s)},
        };
        for (const auto& [table, spec] : charts) {
            const std::string path = dir + "/" + spec.id + ".png";
            cli::writeChartPng(*table, spec, path);
            std::cout << path << "\n";
        }
        return 0;
    };
    return c;
}
