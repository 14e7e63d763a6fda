// `kernelscope-cli matmul`: C = A·B with any registered method, in any arithmetic.
#include <iostream>
#include <optional>

#include "cli_io.hpp"
#include "cmd_matmul.hpp"
#include "command.hpp"
#include "matmul/matmul_registry.hpp"
#include "numeric/compute_spec.hpp"
#include "numeric/format.hpp"

namespace {

template <class Enum>
Enum choose(const ks::cli::Args& args, const std::string& option,
            std::initializer_list<std::pair<const char*, Enum>> choices) {
    const std::string value = args.get(option);
    std::string known;
    for (const auto& [name, e] : choices) {
        if (value == name) return e;
        known += (known.empty() ? "" : ", ") + std::string(name);
    }
    throw ks::cli::UsageError("--" + option + ": unknown value '" + value + "' (one of " + known + ")");
}

std::string methodList() {
    std::string s;
    for (const auto& n : ks::matmul::matmulAlgorithmNames()) s += (s.empty() ? "" : ", ") + n;
    return s;
}

}  // namespace

namespace ks::cli {

/// The options every matmul command shares (method parameters), parsed into MatmulOptions.
matmul::MatmulOptions matmulOptionsFromArgs(const Args& args) {
    matmul::MatmulOptions o;
    try {
        if (args.has("compute")) o.compute = numeric::parseComputeSpec(args.get("compute"));
        if (args.has("format")) {
            const numeric::Format f = numeric::parseFormat(args.get("format"));
            if (f.kind == numeric::FormatKind::Log) {
                o.logFormat = f;
            } else {
                if (args.has("compute"))
                    throw UsageError("--format " + args.get("format") +
                                     " is not logarithmic; with --compute given, say the arithmetic there only");
                o.compute = numeric::ComputeSpec::uniform(f);  // shorthand: every stage in F
            }
        }
    } catch (const UsageError&) {
        throw;
    } catch (const std::exception& e) {
        throw UsageError(e.what());
    }
    o.svd.algorithm = choose<matmul::SvdAlgorithm>(args, "svd", {{"exact", matmul::SvdAlgorithm::Exact},
                                                                 {"randomized", matmul::SvdAlgorithm::Randomized}});
    o.svd.powerIterations = static_cast<int>(args.getInt("power-iterations", 0, 100));
    o.svd.oversampling = static_cast<int>(args.getInt("oversampling", 0, 10000));
    o.sequential.policy = choose<matmul::GaussianLogPolicy>(args, "lns-policy",
                                                            {{"exact", matmul::GaussianLogPolicy::Exact},
                                                             {"table", matmul::GaussianLogPolicy::Table},
                                                             {"mitchell", matmul::GaussianLogPolicy::Mitchell}});
    o.sequential.tableIndexBits = static_cast<int>(args.getInt("lns-table-bits", -1, 20));
    o.binned.accumulatorLsb = static_cast<int>(args.getInt("acc-lsb", -1000, 1000));
    o.binned.accumulatorBits = static_cast<int>(args.getInt("acc-bits", 2, 62));
    o.binned.constantBits = static_cast<int>(args.getInt("const-bits", 0, 52));
    o.binned.binBits = static_cast<int>(args.getInt("bin-bits", -1, 16));
    o.binned.convertBack = choose<matmul::ConvertBack>(args, "convert-back", {{"none", matmul::ConvertBack::None},
                                                                             {"nearest", matmul::ConvertBack::Nearest},
                                                                             {"truncate", matmul::ConvertBack::Truncate}});
    o.emulation = emulationFromArgs(args);
    return o;
}

Option emulationOption() {
    return {"emulation", "fast|reference",
            "engine of an emulated --compute: the vectorised fast engine (where it covers the spec) or the scalar "
            "reference (the same bits)",
            false, "fast"};
}

numeric::EmulationEngine emulationFromArgs(const Args& args) {
    return choose<numeric::EmulationEngine>(
        args, "emulation", {{"fast", numeric::EmulationEngine::Fast}, {"reference", numeric::EmulationEngine::Reference}});
}

std::vector<Option> matmulMethodOptions() {
    return {emulationOption(),
            {"format", "F", "LNS format of the log-domain methods (e.g. lns8.3); another format F means --compute F",
             false, ""},
            {"compute", "SPEC", "arithmetic of naive/dense/log, e.g. fp16/fp32, bf16:sr (default: native float32)",
             false, ""},
            {"svd", "exact|randomized", "svd: the truncated SVD algorithm", false, "exact"},
            {"power-iterations", "Q", "svd randomized: power iterations", false, "2"},
            {"oversampling", "P", "svd randomized: extra sketch columns", false, "10"},
            {"lns-policy", "exact|table|mitchell", "lns-sequential: Gaussian logarithm sb/db", false, "exact"},
            {"lns-table-bits", "T", "lns-sequential table: fraction bits of the index (-1: the format's)", false, "-1"},
            {"acc-lsb", "L", "lns-binned: log2 of the accumulators' LSB", false, "-32"},
            {"acc-bits", "W", "lns-binned: accumulator width in bits (2…62)", false, "62"},
            {"const-bits", "B", "lns-binned: fraction bits of the 2^(r/n) constants (0: exact)", false, "0"},
            {"bin-bits", "H", "lns-binned: remainder bits choosing the accumulator (-1: all; fewer: hybrid)", false,
             "-1"},
            {"convert-back", "none|nearest|truncate", "lns-binned: convert the sum back to the LNS format", false,
             "none"}};
}

}  // namespace ks::cli

KS_CLI_COMMAND(matmulCommand) {
    ks::cli::Command c;
    c.name = "matmul";
    c.summary = "Multiply two matrices with a chosen method (naive, dense, svd, log, lns-*)";
    c.details = "C = A·B for A (M×K) and B (K×N) in .npy files (float32 or float64, read as float32).\n"
                "Methods: " + methodList() + ".\n"
                "svd: --rank-a / --rank-b replace that operand by its truncated SVD (absent: exact).\n"
                "log: products by adding log2|x|; with --format lnsW.F the logs are quantised to F fraction bits.\n"
                "lns-sequential / lns-binned need --format lnsW.F. Range events (saturation, flush to zero,\n"
                "accumulator overflow/underflow) are printed.";
    c.options = {{"a", "A.npy", "left operand (M×K)", true, ""},
                 {"b", "B.npy", "right operand (K×N)", true, ""},
                 {"method", "NAME", "one of: " + methodList(), false, "dense"},
                 {"rank-a", "R", "svd: rank of A's approximation", false, ""},
                 {"rank-b", "R", "svd: rank of B's approximation", false, ""},
                 {"out", "C.npy", "result (M×N float32)", true, ""}};
    for (auto& o : ks::cli::matmulMethodOptions()) c.options.push_back(o);
    c.run = [](const ks::cli::Args& args) {
        const ks::TensorF a = ks::cli::readArrayF(args, "a");
        const ks::TensorF b = ks::cli::readArrayF(args, "b");
        const ks::matmul::MatmulOptions options = ks::cli::matmulOptionsFromArgs(args);
        std::optional<std::int64_t> rankA, rankB;
        if (args.has("rank-a")) rankA = args.getInt("rank-a", 1, 1LL << 40);
        if (args.has("rank-b")) rankB = args.getInt("rank-b", 1, 1LL << 40);
        const std::string method = args.get("method");
        try {
            (void)ks::matmul::matmulAlgorithm(method);
        } catch (const std::invalid_argument& e) {
            throw ks::cli::UsageError(std::string("--method: ") + e.what());
        }
        ks::matmul::MatmulReport report;
        const ks::TensorF result = ks::matmul::matmul(a, b, method, options, rankA, rankB, &report);
        ks::cli::writeArray(args.get("out"), result);
        std::cout << "matmul " << method << ": " << ks::shapeToString(a.shape()) << " · " << ks::shapeToString(b.shape())
                  << " -> " << ks::shapeToString(result.shape()) << " written to " << args.get("out") << "\n";
        if (!report.note.empty()) std::cout << "  " << report.note << "\n";
        auto event = [](const char* what, std::int64_t count) {
            if (count) std::cout << "  " << what << ": " << count << "\n";
        };
        event("operands saturated (input overflow)", report.inputOverflows);
        event("operands flushed to zero (input underflow)", report.inputUnderflows);
        event("accumulator overflows (saturated)", report.accumulatorOverflows);
        event("accumulator underflows (products below the LSB)", report.accumulatorUnderflows);
        event("results saturated on convert-back", report.outputOverflows);
        event("results flushed to zero on convert-back", report.outputUnderflows);
        return 0;
    };
    return c;
}
