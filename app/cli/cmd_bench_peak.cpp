// `kernelscope-cli bench peak`: the float32 FMA ceiling of this machine, one thread and all of them,
// in the vectors of each instruction set the CPU runs (widest first), to read every other benchmark's
// GFLOP/s against.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "base/isa.hpp"
#include "base/statistics.hpp"
#include "base/parallel.hpp"
#include "cli_io.hpp"
#include "command.hpp"
#include "matmul/fma_peak.hpp"

using ks::cli::number;

KS_CLI_COMMAND(benchPeakCommand) {
    ks::cli::Command c;
    c.name = "bench peak";
    c.summary = "Measure the float32 FMA ceiling (GFLOP/s) of one thread and of all threads, per instruction set";
    c.details =
        "Independent chains of fused multiply-adds on registers, no memory traffic: the most any kernel\n"
        "can reach on this machine (each FMA counts 2 FLOPs). One block of rows per instruction set the CPU\n"
        "runs, widest first (avx512: zmm, avx2: ymm; generic: SSE2 multiplies and adds, with --isa all).\n"
        "Each row is measured --rounds times for about --seconds; median and best. On a shared machine the\n"
        "best is the hardware, the median what a benchmark run at the same time could expect.";
    c.options = {{"seconds", "S", "length of one measurement", false, "0.3"},
                 {"rounds", "N", "measurements per row", false, "5"},
                 {"threads", "T", "threads of the second row (default: all cores)", false, ""},
                 {"isa", "LIST", "instruction sets (generic, avx2, avx512, or all; default: the vector ones the CPU runs)", false, ""},
                 {"csv", "FILE", "also write isa,threads,median_gflops,best_gflops", false, ""}};
    c.run = [](const ks::cli::Args& args) {
        const double seconds = args.getDouble("seconds");
        if (!(seconds > 0) || seconds > 60) throw ks::cli::UsageError("--seconds: between 0 and 60");
        const int rounds = static_cast<int>(args.getInt("rounds", 1, 1000));
        if (args.has("threads")) ks::setThreadCount(static_cast<int>(args.getInt("threads", 1, 256)));
        const int all = ks::threadCount();
        std::vector<ks::Isa> isas;
        const std::string asked = args.has("isa") ? args.get("isa") : "";
        if (asked.empty() || asked == "all") {
            for (ks::Isa isa : {ks::Isa::Avx512, ks::Isa::Avx2, ks::Isa::Generic})
                if (ks::isaSupported(isa) && (asked == "all" || isa != ks::Isa::Generic || ks::detectedIsa() == isa))
                    isas.push_back(isa);
        } else {
            for (const std::string& name : args.getList("isa")) {
                ks::Isa isa;
                try {
                    isa = ks::parseIsa(name);
                } catch (const std::invalid_argument& e) {
                    throw ks::cli::UsageError(std::string("--isa: ") + e.what());
                }
                if (!ks::isaSupported(isa))
                    throw ks::cli::UsageError("--isa: this CPU cannot run " + name + " (it has " +
                                              ks::isaName(ks::detectedIsa()) + ")");
                isas.push_back(isa);
            }
        }
        ks::cli::Table table{{"isa", "threads", "median GFLOP/s", "best GFLOP/s", "per thread (best)"}, {}};
        ks::cli::Table csv{{"isa", "threads", "median_gflops", "best_gflops"}, {}};
        std::cout << "float32 FMA ceiling, " << rounds << " rounds of " << seconds << " s\n";
        for (const ks::Isa isa : isas) {
            std::cout << "  " << ks::matmul::fmaPeakKernel(isa) << "\n";
            for (const int threads : all > 1 ? std::vector<int>{1, all} : std::vector<int>{1}) {
                std::vector<double> rates;
                for (int r = 0; r < rounds; ++r) rates.push_back(ks::matmul::fmaPeakGflops(threads, seconds, isa));
                const double median = ks::median(rates), best = *std::max_element(rates.begin(), rates.end());
                table.rows.push_back({ks::isaName(isa), std::to_string(threads), number("%.1f", median),
                                      number("%.1f", best), number("%.1f", best / threads)});
                csv.rows.push_back({ks::isaName(isa), std::to_string(threads), number("%.2f", median), number("%.2f", best)});
            }
        }
        std::cout << table.toText();
        if (args.has("csv")) ks::cli::writeText(args.get("csv"), csv.toCsv());
        return 0;
    };
    return c;
}
