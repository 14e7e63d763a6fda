// `kernelscope-cli bench conv`: every convolution algorithm on one shape ("find"): median time,
// effective GFLOP/s, workspace and max abs error against the double-precision direct reference.
#include <cstdio>
#include <iostream>
#include <thread>

#include "base/parallel.hpp"
#include "cli_io.hpp"
#include "command.hpp"
#include "conv/conv_find.hpp"
#include "conv/conv_registry.hpp"

using ks::cli::number;

KS_CLI_COMMAND(benchConvCommand) {
    ks::cli::Command c;
    c.name = "bench conv";
    c.summary = "Time every convolution algorithm on a shape (median of repeats, GFLOP/s, error)";
    c.details =
        "--shape N,C,H,W,K,R[,stride,pad]: batch, input channels, height, width, output channels, square\n"
        "kernel size, optional stride and zero padding. Data uniform[-1, 1], float32 fast paths, weights\n"
        "prepared once (filter transforms and spectra are not timed unless --include-plan). GFLOP/s counts\n"
        "the direct definition's 2·N·K·C·P·Q·R·S FLOPs for every algorithm. The error is the max abs\n"
        "difference to direct convolution in double precision. cpu ms/call: process CPU time per call over\n"
        "all threads (the work, when a busy machine inflates wall time). Unsupported algorithms are listed with the\n"
        "reason in the table and left out of the CSV.";
    c.options = {{"shape", "N,C,H,W,K,R[,stride,pad]", "the convolution", true, ""},
                 {"algo", "NAME|all", "one algorithm (or alias), or all", false, "all"},
                 {"threads", "T", "threads (default: all cores)", false, ""},
                 {"min-seconds", "S", "measure each algorithm at least this long", false, "0.3"},
                 {"include-plan", "", "time plan creation (weight transforms) with every run", false, ""},
                 {"csv", "FILE", "write algorithm,median_ms,gflops,workspace_bytes,max_abs_error", false, ""}};
    c.run = [](const ks::cli::Args& args) {
        const auto shape = args.getIntList("shape");
        if (shape.size() != 6 && shape.size() != 8)
            throw ks::cli::UsageError("--shape needs N,C,H,W,K,R or N,C,H,W,K,R,stride,pad (" +
                                      std::to_string(shape.size()) + " numbers given)");
        ks::conv::ConvProblem p = ks::conv::ConvProblem::layer(shape[0], shape[1], shape[2], shape[3], shape[4], shape[5],
                                                               shape.size() == 8 ? shape[6] : 1,
                                                               shape.size() == 8 ? shape[7] : 0);
        if (auto error = p.validationError()) throw ks::cli::UsageError("--shape: " + *error);
        ks::conv::ConvFindOptions options;
        const std::string algo = args.get("algo");
        if (algo != "all") {
            try {
                options.algorithms = {ks::conv::convAlgorithm(algo).name()};
            } catch (const std::invalid_argument& e) {
                throw ks::cli::UsageError(e.what());
            }
        }
        if (args.has("threads")) ks::setThreadCount(static_cast<int>(args.getInt("threads", 1, 256)));
        options.timing.minSeconds = args.getDouble("min-seconds");
        options.includePlan = args.flag("include-plan");
        const auto results = ks::conv::findConvAlgorithms(p, options);

        std::cout << "conv " << p.toString() << "  output " << ks::shapeToString(p.outputShape()) << "  "
                  << number("%.3f", p.flops() * 1e-9) << " GFLOP  threads " << ks::threadCount()
                  << (options.includePlan ? "  (plan creation timed)" : "  (weights prepared once)") << "\n";
        ks::cli::Table table{{"algorithm", "median ms", "GFLOP/s", "cpu ms/call", "workspace", "max abs error", "note"}, {}};
        ks::cli::Table csv{{"algorithm", "median_ms", "gflops", "workspace_bytes", "max_abs_error"}, {}};
        for (const auto& r : results) {
            if (r.unsupported) {
                table.rows.push_back({r.algorithm, "-", "-", "-", "-", "-", "unsupported: " + *r.unsupported});
                continue;
            }
            table.rows.push_back({r.algorithm, number("%.4f", r.medianSeconds * 1e3), number("%.1f", r.gflops),
                                  number("%.4f", r.cpuSecondsPerCall * 1e3), number("%.0f", static_cast<double>(r.workspaceBytes)),
                                  number("%.2e", r.maxAbsError), ""});
            csv.rows.push_back({r.algorithm, number("%.6f", r.medianSeconds * 1e3), number("%.3f", r.gflops),
                                std::to_string(r.workspaceBytes), number("%.6e", r.maxAbsError)});
        }
        std::cout << table.toText();
        if (args.has("csv")) ks::cli::writeText(args.get("csv"), csv.toCsv());
        return 0;
    };
    return c;
}
